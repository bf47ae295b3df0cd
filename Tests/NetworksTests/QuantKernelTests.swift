import Testing
import Tensors
import Quantization
@testable import Networks

/// The quantized-training passes of issue 11 (`QuantKernels`, activation codes, the
/// fused ReLU + activation quantizer): AVX-512 forms bit for bit against their portable
/// loops, and fused paths bit for bit against the unfused layers they replace, on
/// values that probe every select (NaN, ±0, ±∞, ties at the clip) and every tail.
@Suite struct QuantKernelTests {
    static func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    @Test func epiloguesEqualPortableLoops() throws {
        var rng = SplitMix64(seed: 11)
        for (m, p, k) in [(1, 1, 1), (2, 15, 3), (3, 16, 64), (2, 17, 5), (1, 49, 32), (2, 256, 64)] {
            let acc = (0..<(m * p * k)).map { _ in Int32(truncatingIfNeeded: rng.next() >> 40) - (1 << 23) }
                + [Int32.max, Int32.min, 16_777_217, -16_777_217]   // rounding in Int32 → Float
            let scale = (0..<k).map { _ in rng.nextNormal() * 1e-3 }, bias = (0..<k).map { _ in rng.nextNormal() }
            // Without an offset, and with one (a sign input's weight row sums: |Σ| ≤ 127 · R).
            let offsets = (0..<k).map { _ in Int32(rng.nextInt(below: 2 * 127 * 576 + 1)) - 127 * 576 }
            // acc − offset stays in Int32 (as W·u − Σ W does): the extremes pulled in by 127 · 576.
            let margin: Int32 = 127 * 576
            let pulledIn = acc.map { min(max($0, Int32.min + margin), Int32.max - margin) }
            for withOffset in [false, true] {
                var fast = [Float](repeating: .nan, count: m * p * k), slow = fast, rows = fast, rowsRef = fast
                let acc = withOffset ? pulledIn : acc
                acc.withUnsafeBufferPointer { a in scale.withUnsafeBufferPointer { s in bias.withUnsafeBufferPointer { b in
                offsets.withUnsafeBufferPointer { op in
                    let off = withOffset ? op.baseAddress : nil
                    fast.withUnsafeMutableBufferPointer { f in slow.withUnsafeMutableBufferPointer { r in
                        QuantKernels.epilogueTranspose(a.baseAddress!, batch: m, plane: p, channels: k, scale: s.baseAddress!,
                                                       bias: b.baseAddress!, offset: off, into: f.baseAddress!)
                        QuantKernels.Portable.epilogueTranspose(a.baseAddress!, batch: m, plane: p, channels: k,
                                                                scale: s.baseAddress!, bias: b.baseAddress!, offset: off,
                                                                into: r.baseAddress!)
                    } }
                    rows.withUnsafeMutableBufferPointer { f in rowsRef.withUnsafeMutableBufferPointer { r in
                        QuantKernels.epilogueRows(a.baseAddress!, rows: m * p, columns: k, scale: s.baseAddress!,
                                                  bias: b.baseAddress!, offset: off, into: f.baseAddress!)
                        QuantKernels.Portable.epilogueRows(a.baseAddress!, rows: m * p, columns: k, scale: s.baseAddress!,
                                                           bias: b.baseAddress!, offset: off, into: r.baseAddress!)
                    } }
                } } } }
                #expect(Self.bits(fast) == Self.bits(slow), "epilogueTranspose \(m)×\(p)×\(k) offset \(withOffset)")
                #expect(Self.bits(rows) == Self.bits(rowsRef), "epilogueRows \(m * p)×\(k) offset \(withOffset)")
                // The definition, element by element (the offset within Int32: the first m·p·k sums).
                let (i, j, o) = (m - 1, p - 1, k - 1)
                let z = withOffset ? offsets[o] : 0
                #expect(fast[(i * k + o) * p + j] == Float(acc[(i * p + j) * k + o] - z) * scale[o] + bias[o])
                #expect(rows[(i * p + j) * k + o] == Float(acc[(i * p + j) * k + o] - z) * scale[o] + bias[o])
            }
        }
    }

    /// Weight codes (IntegerWeights.load): the AVX-512 form against the Swift loop on
    /// codes, row sums and verdict: per-tensor and per-row scales, a zero scale (an
    /// all-zero row), channel tails, and off-grid values (between codes, beyond ±127, NaN).
    @Test func weightCodesEqualPortableLoop() throws {
        var rng = SplitMix64(seed: 21)
        for (rows, channels, kernel) in [(1, 1, 1), (3, 17, 1), (4, 40, 1), (5, 3, 3), (2, 16, 3), (3, 33, 3), (2, 7, 5)] {
            let length = channels * kernel * kernel
            for perRow in [false, true] {
                var scales = (0..<(perRow ? rows : 1)).map { _ in abs(rng.nextNormal()) * 0.01 + 1e-4 }
                if perRow && rows > 1 { scales[1] = 0 }
                var q = (0..<(rows * length)).map { i -> Float in
                    let s = scales[perRow ? i / length : 0]
                    return s * Float(rng.nextInt(below: 255) - 127)
                }
                if perRow && rows > 1 { for i in length..<(2 * length) { q[i] = 0 } }
                for corruption in ["none", "between codes", "beyond 127", "NaN"] {
                    var w = q
                    let at = rng.nextInt(below: w.count), s = scales[perRow ? at / length : 0]
                    switch corruption {
                    case "between codes": w[at] = s == 0 ? 1 : s * 3.5      // rounds to 4 (half to even)
                    case "beyond 127": w[at] = s == 0 ? 1 : s * 128
                    case "NaN": w[at] = .nan
                    default: break
                    }
                    let fast = IntegerWeights(), slow = IntegerWeights()
                    let (okFast, okSlow) = w.withUnsafeBufferPointer { wp in
                        (fast.load(wp.baseAddress!, rows: rows, channels: channels, kernel: kernel, scales: scales, rowSums: true),
                         slow.load(wp.baseAddress!, rows: rows, channels: channels, kernel: kernel, scales: scales, rowSums: true,
                                   portable: true))
                    }
                    let what = "\(rows)×\(channels)×\(kernel)² per-row \(perRow), \(corruption)"
                    #expect(okFast == okSlow && okFast == (corruption == "none"), "verdict, \(what)")
                    guard corruption == "none" else { continue }
                    #expect(fast.codes == slow.codes, "codes, \(what)")
                    #expect(fast.rowSums == slow.rowSums, "row sums, \(what)")
                    // The definition: codes[k, (t, c)] · s_k = w[k, (c, t)], sums over the row.
                    let taps = kernel * kernel
                    for k in 0..<rows {
                        let s = scales[perRow ? k : 0]
                        var sum: Int32 = 0
                        for c in 0..<channels { for t in 0..<taps {
                            let code = fast.codes[k * length + t * channels + c]
                            sum += Int32(code)
                            if Float(code) * s != w[k * length + c * taps + t] { Issue.record("code \(code) at \(k),\(c),\(t), \(what)") }
                        } }
                        #expect(fast.rowSums[k] == sum)
                    }
                }
            }
        }
    }

    /// On-grid values (codes 0…L), every kind of off-grid value, and the C and Swift
    /// forms of both code extractions agreeing on codes and on the verdict.
    @Test(arguments: [255, 15, 1])
    func activationCodesEqualPortableLoops(maxCode: Int) throws {
        let grid = ActivationGrid(clip: 1.7, maxCode: maxCode)
        var rng = SplitMix64(seed: UInt64(maxCode))
        let offGrid: [Float] = [.nan, .infinity, -.infinity, -grid.step, grid.step / 2, grid.clip * 2, 1e-30]
        for (n, c, hw) in [(1, 1, 1), (2, 3, 5), (1, 16, 7), (2, 17, 9), (2, 32, 49), (1, 64, 16)] {
            let count = n * c * hw
            for corrupt in [false, true] {
                var x = (0..<count).map { _ in grid.step * Float(rng.nextInt(below: maxCode + 1)) }
                x[0] = -0.0
                if count > 1 { x[count - 1] = grid.step * Float(maxCode) }
                if corrupt { x[rng.nextInt(below: count)] = offGrid[rng.nextInt(below: offGrid.count)] }
                var fast = [UInt8](repeating: 9, count: count), slow = fast
                var fastFlat = fast, slowFlat = fast
                let (okFast, okSlow, okFastFlat, okSlowFlat) = x.withUnsafeBufferPointer { xp in
                    (fast.withUnsafeMutableBufferPointer {
                        activationCodesNHWC(xp.baseAddress!, batch: n, channels: c, plane: hw, grid: grid, into: $0.baseAddress!) },
                     slow.withUnsafeMutableBufferPointer {
                        portableActivationCodesNHWC(xp.baseAddress!, batch: n, channels: c, plane: hw, grid: grid, into: $0.baseAddress!) },
                     fastFlat.withUnsafeMutableBufferPointer { activationCodes(xp.baseAddress!, count: count, grid: grid, into: $0.baseAddress!) },
                     slowFlat.withUnsafeMutableBufferPointer {
                        portableActivationCodes(xp.baseAddress!, count: count, grid: grid, into: $0.baseAddress!) })
                }
                #expect(okFast == !corrupt && okSlow == !corrupt, "NHWC verdict, \(n)×\(c)×\(hw), corrupt \(corrupt)")
                #expect(okFastFlat == !corrupt && okSlowFlat == !corrupt, "flat verdict, \(count), corrupt \(corrupt)")
                guard !corrupt else { continue }
                #expect(fast == slow, "NHWC codes \(n)×\(c)×\(hw)")
                #expect(fastFlat == slowFlat, "flat codes \(count)")
                // The definition: x[b, ch, i] = step · codes[b, i, ch].
                for b in 0..<n { for ch in 0..<c { for i in 0..<hw {
                    let v = x[(b * c + ch) * hw + i], code = fast[(b * hw + i) * c + ch]
                    if grid.step * Float(code) != v { Issue.record("code \(code) of \(v) at \(b),\(ch),\(i)") }
                } } }
            }
        }
    }

    /// The fused mask against the ReLU mask after the clip's, and C against Swift.
    @Test func fusedMaskEqualsReLUAndClipMasks() {
        for n in [0, 1, 7, 8, 15, 16, 17, 31, 1000] {
            let x = VectorKernelTests.awkward(n, seed: UInt64(n) + 7), g = VectorKernelTests.awkward(n, seed: UInt64(n) + 70)
            let hi: Float = 1
            guard n > 0 else { continue }
            var fused = [Float](repeating: 5, count: n), portable = fused, clip = fused, twoStep = fused
            let relu = x.map { Swift.max($0, 0) }
            x.withUnsafeBufferPointer { xp in g.withUnsafeBufferPointer { gp in relu.withUnsafeBufferPointer { rp in
                fused.withUnsafeMutableBufferPointer { QuantKernels.maskOpenClosed(xp.baseAddress!, gp.baseAddress!, $0.baseAddress!, count: n, hi: hi) }
                portable.withUnsafeMutableBufferPointer {
                    QuantKernels.Portable.maskOpenClosed(xp.baseAddress!, gp.baseAddress!, $0.baseAddress!, count: n, hi: hi) }
                clip.withUnsafeMutableBufferPointer { Kernels.maskInRange(rp.baseAddress!, gp.baseAddress!, $0.baseAddress!, count: n, lo: 0, hi: hi) }
                clip.withUnsafeBufferPointer { cp in twoStep.withUnsafeMutableBufferPointer {
                    Kernels.maskPositive(rp.baseAddress!, cp.baseAddress!, $0.baseAddress!, count: n) } }
            } } }
            #expect(Self.bits(fused) == Self.bits(portable), "C vs Swift, n = \(n)")
            #expect(Self.bits(fused) == Self.bits(twoStep), "fused vs ReLU ∘ clip masks, n = \(n)")
        }
    }

    /// `forwardAfterReLU` / `backwardAfterReLU` against ReLU then the quantizer, moving
    /// average and PACT clips, over several batches (the clip statistics must agree too).
    @Test(arguments: [false, true])
    func quantizerAfterReLUEqualsReLUThenQuantizer(pact: Bool) {
        let fused = UniformActivationQuantizer(bits: 4, learnedClip: pact)
        let plain = UniformActivationQuantizer(bits: 4, learnedClip: pact)
        for (step, n) in [1000, 17, 64, 1].enumerated() {
            var x = VectorKernelTests.awkward(n, seed: UInt64(step) + 3).map { $0.isInfinite ? 2 : $0 }
            if step == 0 { x[0] = 0.5 }          // a first batch with a finite positive maximum
            if step == 3 { x = [-1] }            // an all-negative batch: clip statistics see 0
            let g = VectorKernelTests.awkward(n, seed: UInt64(step) + 30).map { $0.isNaN ? 1 : $0 }
            let relu = run(ReLU(), Tensor(shape: [n], data: x)).data
            let yPlain = plain.forward(relu, training: true)
            var yFused = [Float](repeating: 9, count: n)
            x.withUnsafeBufferPointer { xp in yFused.withUnsafeMutableBufferPointer {
                fused.forwardAfterReLU(xp.baseAddress!, into: $0.baseAddress!, count: n, training: true) } }
            #expect(Self.bits(yFused) == Self.bits(yPlain), "forward, batch \(step)")
            #expect(fused.lastClip == plain.lastClip, "clip, batch \(step)")
            let dq = plain.backward(relu, gradient: g)
            let dxPlain = inputGradient(ReLU(), Tensor(shape: [n], data: x), Tensor(shape: [n], data: dq)).data
            var dxFused = [Float](repeating: 9, count: n)
            x.withUnsafeBufferPointer { xp in g.withUnsafeBufferPointer { gp in dxFused.withUnsafeMutableBufferPointer {
                fused.backwardAfterReLU(xp.baseAddress!, gradient: gp.baseAddress!, into: $0.baseAddress!, count: n) } } }
            #expect(Self.bits(dxFused) == Self.bits(dxPlain), "backward, batch \(step)")
            #expect(fused.parameters.map { $0.grad.data } == plain.parameters.map { $0.grad.data }, "PACT clip gradient, batch \(step)")
        }
    }

    /// Whole models trained with the fused ReLU + quantizer pairs (and relu → quantize →
    /// maxpool runs, except under a learned clip) and without them: identical logits and
    /// parameters, bit for bit, after a few SGD steps.
    @Test(arguments: ["w8a8", "w4a4", "w2a2"], [false, true])
    func fusedModelTrainsBitIdentically(_ precision: String, pact: Bool) throws {
        var results: [[UInt32]] = []
        for fuse in [true, false] {
            var rng = SplitMix64(seed: 5)
            var options = QuantizerOptions()
            options.pact = pact
            let m = try Sequential(spec: Presets.spec("fmnist2")!, inputShape: [1, 28, 28],
                                   precision: { _ in LayerPrecision(precision)! }, options: options, rng: &rng)
            m.fusesReLUQuantizers = fuse
            m.fusesQuantPools = fuse
            let sgd = SGD(momentum: 0.9)
            var logits: [Float] = []
            for _ in 0..<3 {
                m.withInput { x in
                    x.reshapeForOverwrite([8, 1, 28, 28])
                    for i in 0..<x.count { x.data[i] = rng.nextNormal() }
                }
                let out = m.forward(training: true)
                logits += out.data
                m.zeroGrad()
                m.withLogitGradient { g in
                    _ = SoftmaxCrossEntropy.lossAndGradient(logits: out, labels: (0..<8).map { Int32($0) }, gradient: &g)
                }
                m.backward()
                sgd.step(m.parameters, learningRate: 0.05)
            }
            logits += m.forward(training: false).data
            let fusedPairs = m.layers.compactMap { $0 as? QuantizeActivation }.filter(\.lastForwardAfterReLU).count
            let fusedPools = m.ranQuantPool.filter { $0 }.count
            #expect(fusedPairs + fusedPools == (fuse ? 3 : 0) && fusedPools == (fuse && !pact && Kernels.hasAVX512 ? 2 : 0),
                    "fused pairs \(fusedPairs) and pools \(fusedPools), fuse \(fuse)")
            results.append(Self.bits(logits) + m.parameters.flatMap { Self.bits($0.value.data) })
        }
        #expect(results[0] == results[1], "\(precision) pact \(pact): fused and unfused training differ")
    }
}

extension QuantKernelTests {
    /// The clip's maximum and the quantizer's forward: C against the Swift loops, on
    /// NaN first or later, ±0 maxima, and every tail length.
    @Test func maximumAndQuantizeEqualPortableLoops() {
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 31, 33, 1000] {
            for variant in 0..<4 {
                var x = VectorKernelTests.awkward(n, seed: UInt64(n * 4 + variant))
                if variant == 1 { x = x.map { $0.isNaN ? 0.25 : $0 } }
                if variant == 2 { x = x.map { $0 > 0 || $0.isNaN ? -0.0 : $0 } }      // a zero maximum, signs mixed
                if variant == 3 { x = x.enumerated().map { $0.offset % 2 == 0 ? -0.0 : 0 } }
                let (fast, slow) = x.withUnsafeBufferPointer { p in
                    (QuantKernels.maximum(p.baseAddress!, count: n), QuantKernels.Portable.maximum(p.baseAddress!, count: n))
                }
                #expect(fast.bitPattern == slow.bitPattern, "maximum, n = \(n), variant \(variant): \(fast) vs \(slow)")
                var yf = [Float](repeating: 3, count: n), ys = yf
                let clip: Float = 1.5, levels: Float = 15
                x.withUnsafeBufferPointer { p in
                    yf.withUnsafeMutableBufferPointer {
                        QuantKernels.uniformQuantize(p.baseAddress!, into: $0.baseAddress!, count: n, clip: clip,
                                                     inverse: levels / clip, step: clip / levels) }
                    ys.withUnsafeMutableBufferPointer {
                        QuantKernels.Portable.uniformQuantize(p.baseAddress!, into: $0.baseAddress!, count: n, clip: clip,
                                                              inverse: levels / clip, step: clip / levels) }
                }
                #expect(Self.bits(yf) == Self.bits(ys), "uniformQuantize, n = \(n), variant \(variant)")
                x.withUnsafeBufferPointer { p in
                    yf.withUnsafeMutableBufferPointer { QuantKernels.sign(p.baseAddress!, into: $0.baseAddress!, count: n) }
                    ys.withUnsafeMutableBufferPointer { QuantKernels.Portable.sign(p.baseAddress!, into: $0.baseAddress!, count: n) }
                }
                #expect(Self.bits(yf) == Self.bits(ys), "sign, n = \(n), variant \(variant)")
                #expect(Self.bits(yf) == Self.bits(x.map { $0 >= 0 ? 1 : -1 }), "sign definition, n = \(n)")
            }
        }
    }
}
