import Testing
import Tensors
import Quantization
import CTrainKernels
@testable import Networks

/// relu → quantize → maxpool 2 (uniform activations) and quantize → maxpool 2 (sign
/// activations) as one pass each way (issue 11) must give bit for bit what the separate
/// layers give: pooled values, every gradient, the clip statistics, whole networks.
@Suite struct QuantPoolTests {
    static func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    /// Inputs that probe every selection: NaN, ±0, ±∞, values at the clip and just past
    /// it, exact grid points and half steps (ties of the rounding and of the pool),
    /// negatives, and normal noise.
    static func inputs(_ n: Int, clip: Float, levels: Float, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let step = clip / levels
        let special: [Float] = [.nan, 0, -0.0, .infinity, -.infinity, clip, clip.nextUp, clip.nextDown, step, step / 2,
                                3 * step, 2.5 * step, levels / 2 * step, -step, 1, -1, Float(1).nextUp, Float(-1).nextDown]
        return (0..<n).map { _ in
            switch rng.nextInt(below: 4) {
            case 0: special[rng.nextInt(below: special.count)]
            case 1: step * Float(rng.nextInt(below: Int(levels) + 2))     // on the grid, ties in a window
            default: rng.nextNormal() * clip / 2
            }
        }
    }

    /// The separate layers' kernels: the quantizer's forward, MaxPool's forward and
    /// backward, then the quantizer's backward mask (uniform: the fused ReLU-and-clip
    /// mask from the ReLU's input; sign: |x| ≤ 1).
    static func separate(_ x: [Float], planes: Int, h: Int, w: Int, sign: Bool, clip: Float, levels: Float,
                         dy: [Float]) -> (pooled: [Float], dx: [Float]) {
        let n = x.count, pooledCount = n / 4
        var q = [Float](repeating: 7, count: n), pooled = [Float](repeating: 7, count: pooledCount)
        var dq = [Float](repeating: 7, count: n), dx = [Float](repeating: 7, count: n)
        if sign {
            QuantKernels.sign(x, into: &q, count: n)
        } else {
            QuantKernels.uniformQuantize(x, into: &q, count: n, clip: clip, inverse: levels / clip, step: clip / levels)
        }
        ql_maxpool2_forward_avx512(q, &pooled, planes, h, w)
        ql_maxpool2_backward_avx512(q, pooled, dy, &dq, planes, h, w, 0)
        if sign {
            Kernels.maskInRange(x, dq, &dx, count: n, lo: -1, hi: 1)
        } else {
            QuantKernels.maskOpenClosed(x, dq, &dx, count: n, hi: clip)
        }
        return (pooled, dx)
    }

    /// `ql_quant_pool2_avx512` then `ql_unpool2_avx512` against the separate kernels, for
    /// uniform grids of 2, 4 and 8 bits and sign, on planes narrower and wider than a
    /// vector (tails of every length).
    @Test func kernelsEqualSeparateLayers() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: the fused kernels do not run")
        for (planes, h, w) in [(1, 2, 2), (3, 4, 6), (2, 8, 8), (5, 16, 16), (2, 6, 34), (1, 2, 64), (4, 2, 30), (2, 32, 32)] {
            let n = planes * h * w
            let dy = VectorKernelTests.awkward(n / 4, seed: UInt64(n))
            for (sign, levels, clip) in [(false, Float(255), Float(1.7)), (false, 15, 0.37), (false, 3, 3), (true, 1, 1)] {
                let x = Self.inputs(n, clip: clip, levels: levels, seed: UInt64(n) * 7 + UInt64(levels))
                let label = "\(planes)×\(h)×\(w) \(sign ? "sign" : "levels \(levels), clip \(clip)")"
                let reference = Self.separate(x, planes: planes, h: h, w: w, sign: sign, clip: clip, levels: levels, dy: dy)
                var pooled = [Float](repeating: 8, count: n / 4), routes = [UInt8](repeating: 9, count: n / 4)
                var dx = [Float](repeating: 8, count: n)
                QuantKernels.quantizePool2(x, planes: planes, height: h, width: w,
                                           sign ? .sign : Pool2Quantizer(clip: clip, maxCode: Int(levels)), into: &pooled, routes: &routes)
                QuantKernels.unpool2(dy, routes: routes, planes: planes, height: h, width: w, into: &dx)
                #expect(Self.bits(pooled) == Self.bits(reference.pooled), "pooled, \(label)")
                #expect(routes.allSatisfy { $0 <= 4 }, "routes, \(label)")
                #expect(Self.bits(dx) == Self.bits(reference.dx), "gradient, \(label)")
            }
        }
    }

    /// The quantizer's fused forward keeps the clip statistics of `forwardAfterReLU`
    /// (first batch, moving average, evaluation), and a clip ≤ 0 gives zeros and no routes.
    @Test func uniformQuantizerClipMatchesUnfused() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: the fused kernels do not run")
        let planes = 3, h = 4, w = 6, n = planes * h * w
        let fused = UniformActivationQuantizer(bits: 4), plain = UniformActivationQuantizer(bits: 4)
        // Steps 2 and 4 pass the maximum as a conv reduces it (NaN ignored); step 4 has NaN
        // first, which makes `QuantKernels.maximum` NaN, and step 5 a zero maximum.
        for (step, training) in [(0, true), (1, true), (2, false), (3, true), (4, true), (5, true)] {
            var x = Self.inputs(n, clip: 1.3, levels: 15, seed: UInt64(step + 40)).map { $0.isNaN || $0.isInfinite ? 0.25 : $0 }
            if step == 4 { x[0] = .nan; x[5] = .nan }
            if step == 5 { x = x.map { $0 > 0 ? -$0 : $0 }; x[3] = -0.0; x[7] = 0 }
            let known = step >= 2 ? x.filter { !$0.isNaN }.max() : nil
            var y = [Float](repeating: 0, count: n), pooled = [Float](repeating: 0, count: n / 4)
            var expected = [Float](repeating: 0, count: n / 4), routes = [UInt8](repeating: 0, count: n / 4)
            plain.forwardAfterReLU(x, into: &y, count: n, training: training)
            ql_maxpool2_forward_avx512(y, &expected, planes, h, w)
            #expect(fused.forwardAfterReLUPool2(x, planes: planes, height: h, width: w, into: &pooled, routes: &routes,
                                                training: training, maximum: known) == .pooled)
            #expect(fused.lastClip.bitPattern == plain.lastClip.bitPattern, "clip, step \(step)")
            #expect(fused.runningClip.bitPattern == plain.runningClip.bitPattern, "running clip, step \(step)")
            #expect(Self.bits(pooled) == Self.bits(expected), "pooled, step \(step)")
        }
        let dead = UniformActivationQuantizer(bits: 8)
        let x = [Float](repeating: -1, count: 16)
        var pooled = [Float](repeating: 5, count: 4), routes = [UInt8](repeating: 0, count: 4)
        #expect(dead.forwardAfterReLUPool2(x, planes: 1, height: 4, width: 4, into: &pooled, routes: &routes, training: true) == .pooled)
        #expect(pooled == [0, 0, 0, 0] && routes == [4, 4, 4, 4])
        let pact = UniformActivationQuantizer(bits: 8, learnedClip: true)
        #expect(pact.forwardAfterReLUPool2(x, planes: 1, height: 4, width: 4, into: &pooled, routes: &routes, training: true) == .declined,
                "a learned clip's gradient sums over full planes: not fused")
    }

    /// A network trained two steps and evaluated, fused and layer by layer: logits, every
    /// parameter gradient and every clip bit for bit, for uniform activations (float, 8-bit
    /// and bf16 gradients) and sign activations; an odd plane (5×5) keeps its layers.
    @Test(arguments: ["w8a8", "w4a4", "w1a1", "w8a8g8", "w8a8gbf16", "w4a8", "w2a2"])
    func sequentialEqualsUnfused(precision: String) throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: Sequential does not fuse")
        let (fused, plain) = try twinNetworks("conv 8 k3 | relu | maxpool 2 | conv 16 k3 | relu | maxpool 2 | conv 8 k3 | relu | maxpool 2 | dense 5",
                                              inputShape: [3, 20, 20], precision: precision, seed: 41)
        plain.fusesQuantPools = false
        for step in 0..<3 {
            let training = step < 2
            let x = randomTensor([4, 3, 20, 20], seed: UInt64(50 + step))
            let r = randomTensor([4, 5], seed: UInt64(60 + step))
            runStep([fused, plain], input: x, training: training, logitGradient: training ? r : nil)
            // 20×20 and 10×10 planes fuse; the third conv's 5×5 plane does not pool evenly.
            #expect(fused.ranQuantPool.filter { $0 }.count == 2, "\(precision), step \(step)")
            #expect(!plain.ranQuantPool.contains(true))
            #expect(Self.bits(fused.logits.data) == Self.bits(plain.logits.data), "logits, \(precision), step \(step)")
            for (a, b) in zip(fused.parameters, plain.parameters) {
                #expect(Self.bits(a.grad.data) == Self.bits(b.grad.data), "\(a.name), \(precision), step \(step)")
            }
            for (a, b) in zip(fused.weightedLayers, plain.weightedLayers) {
                #expect(a.activationQuantizer.clip?.bitPattern == b.activationQuantizer.clip?.bitPattern, "\(a.name) clip")
            }
        }
    }

    /// The conv output passes that reduce the maximum on the way (the float forward's
    /// scatter, the integer forward's epilogue) write the same values as without, and the
    /// largest value ignoring NaN (−∞ for none), accumulated over calls.
    @Test func outputMaximumOnTheWay() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: the fused kernels do not run")
        func reference(_ v: [Float], _ start: Float) -> Float { v.filter { !$0.isNaN }.reduce(start) { $1 > $0 ? $1 : $0 } }
        for (m, filters, p) in [(1, 1, 1), (3, 7, 5), (2, 16, 17), (3, 5, 64), (1, 3, 1024)] {
            let km = VectorKernelTests.awkward(m * filters * p, seed: UInt64(filters * 31 + p))
            let bias = VectorKernelTests.awkward(filters, seed: 4).map { $0.isNaN ? 0.5 : $0 }
            var plain = [Float](repeating: 9, count: m * filters * p), fused = plain
            var top: Float = -.infinity
            ql_conv_scatter_bias(km, m, filters, p, bias, &plain)
            ql_conv_scatter_bias_max_avx512(km, m, filters, p, bias, &fused, &top)
            #expect(Self.bits(fused) == Self.bits(plain), "scatter, m \(m) K \(filters) P \(p)")
            #expect(top.bitPattern == reference(plain, -.infinity).bitPattern || (top == 0 && reference(plain, -.infinity) == 0),
                    "scatter maximum, m \(m) K \(filters) P \(p)")

            var rng = SplitMix64(seed: UInt64(p))
            let acc = (0..<(m * filters * p)).map { _ in Int32(rng.nextInt(below: 20001)) - 10000 }
            let scale = (0..<filters).map { Float($0 + 1) * 1e-3 }
            var y = [Float](repeating: 9, count: acc.count), yPortable = y
            var epilogueTop: Float = -5, portableTop: Float = -5
            QuantKernels.epilogueTranspose(acc, batch: m, plane: p, channels: filters, scale: scale, bias: bias, into: &y,
                                           maximum: &epilogueTop)
            QuantKernels.Portable.epilogueTranspose(acc, batch: m, plane: p, channels: filters, scale: scale, bias: bias,
                                                    into: &yPortable, maximum: &portableTop)
            #expect(Self.bits(y) == Self.bits(yPortable), "epilogue, m \(m) K \(filters) P \(p)")
            #expect(epilogueTop == reference(y, -5) && portableTop == epilogueTop, "epilogue maximum, m \(m) K \(filters) P \(p)")
        }
        var none: Float = -.infinity, out: [Float] = [0, 0]
        ql_conv_scatter_bias_max_avx512([Float.nan, .nan], 1, 1, 2, nil, &out, &none)
        #expect(none == -.infinity, "only NaN: no maximum")
    }

    /// A probe on a quantizer node sees the ReLU's output, so it keeps that run unfused
    /// (and the other runs fused).
    @Test func probeSeesReLUOutput() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: Sequential does not fuse")
        var rng = SplitMix64(seed: 43)
        let m = try Sequential(spec: ModelSpec(parsing: "conv 4 k3 | relu | maxpool 2 | conv 4 k3 | relu | maxpool 2 | dense 3"),
                               inputShape: [2, 8, 8], precision: { _ in LayerPrecision("w8a8")! }, rng: &rng)
        let node = try #require(m.layers.compactMap { $0 as? QuantizeActivation }.first)
        var seen: [Float] = []
        node.probe = { input, _ in seen = Array(input) }
        m.withInput { $0 = randomTensor([2, 2, 8, 8], seed: 44) }
        m.forward(training: true)
        #expect(m.ranQuantPool.filter { $0 }.count == 1)
        #expect(seen.count == 2 * 4 * 8 * 8 && seen.allSatisfy { $0 >= 0 } && seen.contains { $0 > 0 }, "the ReLU's output")
    }
}
