import Testing
import Tensors
import Quantization
import CTrainKernels
@testable import Networks

/// The integer forward's epilogue taken into the [relu →] quantize → maxpool 2 pass above
/// it, and the next conv's input codes written by that pass (issue 11): bit for bit the
/// separate kernels and layers.
@Suite struct IntegerQuantPoolTests {
    static func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    /// The quantizers of the kernel tests: sign, and uniform grids of 2, 4 and 8 bits.
    static let quantizers: [(Pool2Quantizer, maxCode: Int)] = [
        (.sign, 2), (Pool2Quantizer(clip: 2, maxCode: 3), 3), (Pool2Quantizer(clip: 0.5, maxCode: 15), 15),
        (Pool2Quantizer(clip: 0.65, maxCode: 255), 255),
    ]

    /// The next layer's codes of pooled values as it computes them unfused.
    static func referenceCodes(_ pooled: [Float], images m: Int, channels k: Int, plane: Int, _ q: Pool2Quantizer,
                               maxCode: Int) -> (Bool, [UInt8]) {
        var codes = [UInt8](repeating: 0, count: pooled.count)
        let ok = q.sign ? signCodesNHWC(pooled, batch: m, channels: k, plane: plane, into: &codes)
            : activationCodesNHWC(pooled, batch: m, channels: k, plane: plane, grid: ActivationGrid(clip: q.clip, maxCode: maxCode),
                                  into: &codes)
        return (ok, codes)
    }

    /// `int32QuantizePool2` against `epilogueTranspose` then `quantizePool2` then the codes,
    /// and `quantizePool2` with codes against it without: pooled values, routes, codes and
    /// their verdict, for channel counts around the vector width, pooled rows narrower and
    /// wider than a vector, accumulators near ties and at the clip, and (second round) zero,
    /// negative, NaN and infinite scales, NaN / ±∞ / −0 biases and sign offsets.
    @Test func kernelsEqualSeparateKernels() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: the fused kernels do not run")
        for (m, h, w, k) in [(1, 2, 2, 1), (2, 4, 6, 5), (3, 8, 8, 16), (2, 6, 10, 17), (1, 16, 16, 40), (2, 2, 34, 3),
                             (2, 14, 14, 33), (1, 4, 36, 20), (1, 4, 8, 130)] {
            let p = h * w, pp = p / 4
            var rng = SplitMix64(seed: UInt64(m * 1000 + p * 10 + k))
            let acc: [Int32] = (0..<(m * p * k)).map { _ in
                rng.nextInt(below: 5) == 0 ? Int32(rng.nextInt(below: 2_000_001)) - 1_000_000 : Int32(rng.nextInt(below: 61)) - 20
            }
            for special in [false, true] {
                let oddScales: [Float] = [0, -0.05, .nan, .infinity], oddBiases: [Float] = [.nan, .infinity, -.infinity, -0.0]
                let scale: [Float] = (0..<k).map { o in special && o % 4 == 1 ? oddScales[(o / 4) % 4] : 0.025 * Float(1 + o % 3) }
                let bias: [Float] = (0..<k).map { o in special && o % 4 == 2 ? oddBiases[(o / 4) % 4] : Float(o % 5) * 0.1 - 0.2 }
                let offset: [Int32]? = special ? (0..<k).map { Int32($0) - 3 } : nil
                func withOffset<R>(_ body: (UnsafePointer<Int32>?) -> R) -> R {
                    guard let offset else { return body(nil) }
                    return offset.withUnsafeBufferPointer { body($0.baseAddress) }
                }
                var y = [Float](repeating: 9, count: m * k * p)
                withOffset { QuantKernels.epilogueTranspose(acc, batch: m, plane: p, channels: k, scale: scale, bias: bias,
                                                            offset: $0, into: &y) }
                for (q, maxCode) in Self.quantizers {
                    let label = "m \(m) \(h)×\(w) K \(k)\(special ? " special" : "") \(q.sign ? "sign" : "levels \(maxCode)")"
                    var pooled = [Float](repeating: 7, count: m * k * pp), routes = [UInt8](repeating: 9, count: pooled.count)
                    QuantKernels.quantizePool2(y, planes: m * k, height: h, width: w, q, into: &pooled, routes: &routes)
                    let (ok, codes) = Self.referenceCodes(pooled, images: m, channels: k, plane: pp, q, maxCode: maxCode)

                    var fp = [Float](repeating: 5, count: pooled.count), fr = [UInt8](repeating: 8, count: pooled.count)
                    var fc = [UInt8](repeating: 77, count: pooled.count)
                    let fok = withOffset {
                        QuantKernels.int32QuantizePool2(acc, images: m, height: h, width: w, channels: k, scale: scale, bias: bias,
                                                        offset: $0, q, into: &fp, routes: &fr, codes: &fc)
                    }
                    #expect(Self.bits(fp) == Self.bits(pooled), "pooled, \(label)")
                    #expect(fr == routes, "routes, \(label)")
                    #expect(fok == ok, "codes verdict, \(label)")
                    if ok && fok { #expect(fc == codes, "codes, \(label)") }
                    var np = [Float](repeating: 5, count: pooled.count), nr = [UInt8](repeating: 8, count: pooled.count)
                    let nok = withOffset {
                        QuantKernels.int32QuantizePool2(acc, images: m, height: h, width: w, channels: k, scale: scale, bias: bias,
                                                        offset: $0, q, into: &np, routes: &nr, codes: nil)
                    }
                    #expect(!nok && Self.bits(np) == Self.bits(pooled) && nr == routes, "without codes, \(label)")

                    var gp = [Float](repeating: 5, count: pooled.count), gr = [UInt8](repeating: 8, count: pooled.count)
                    var gc = [UInt8](repeating: 77, count: pooled.count)
                    let gok = QuantKernels.quantizePool2(y, planes: m * k, height: h, width: w, q, into: &gp, routes: &gr,
                                                         channels: k, codes: &gc)
                    #expect(Self.bits(gp) == Self.bits(pooled) && gr == routes, "float input with codes, \(label)")
                    #expect(gok == ok, "float input codes verdict, \(label)")
                    if ok && gok { #expect(gc == codes, "float input codes, \(label)") }
                }
            }
        }
    }

    @Test func columnMaximum() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512")
        var rng = SplitMix64(seed: 5)
        for (rows, k) in [(1, 1), (3, 15), (7, 16), (5, 33), (64, 128)] {
            let acc: [Int32] = (0..<(rows * k)).map { _ in Int32(truncatingIfNeeded: rng.next()) }
            var got = [Int32](repeating: .min, count: k)
            got[0] = .max
            var copy = [Int32](repeating: 3, count: rows * k)
            QuantKernels.columnMaximum(acc, rows: rows, columns: k, into: &got, copy: &copy)
            let want = (0..<k).map { o in (0..<rows).map { acc[$0 * k + o] }.reduce(o == 0 ? .max : .min, max) }
            #expect(got == want, "\(rows) × \(k)")
            #expect(copy == acc, "copy, \(rows) × \(k)")
        }
    }

    /// A conv's integer forward running the run above it against the conv's forward then the
    /// quantizer node's fused pass over the written output: pooled values, routes and clip
    /// statistics bit for bit, over two training steps and one evaluation. The cases take
    /// every path: fused (uniform, sign), a zero maximum (y written, the run left unfused),
    /// an all-negative output (clip 0: zeros), a NaN bias (not fused).
    @Test(arguments: ["fused", "zero maximum", "negative", "NaN bias", "sign"])
    func convRunEqualsSeparateLayers(_ variant: String) throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: the fused kernels do not run")
        var (x, aq) = IntegerForwardTests.quantizedInput([3, 5, 8, 6], bits: 8, seed: 71)
        var weight = randomTensor([6, 5, 3, 3], seed: 72, scale: 0.3), bias = randomTensor([6], seed: 73)
        switch variant {
        case "zero maximum":
            weight.data = weight.data.map { -abs($0) }
            bias.data = bias.data.map { _ in 0 }
            for i in 0..<(5 * 4 * 6) { x.data[(i / 24) * 48 + i % 24] = 0 }      // image 0, rows 0–3 of each channel: zero windows
        case "negative":
            weight.data = weight.data.map { -abs($0) }
            bias.data = bias.data.map { _ in -1 }
        case "NaN bias": bias.data[2] = .nan
        default: break
        }
        let sign = variant == "sign"
        func make() -> (Conv2D, QuantizeActivation, MaxPool) {
            let conv = Conv2D(name: "c", weight: weight, bias: bias, stride: 1, padding: 1)
            conv.weightQuantizer = UniformWeightQuantizer(bits: 8)
            conv.activationQuantizer = sign ? BinaryActivationQuantizer() : UniformActivationQuantizer(bits: 4)
            conv.integerInput = aq
            conv.reducesOutputMaximum = true
            return (conv, QuantizeActivation(owner: conv), MaxPool(window: 2))
        }
        let (fused, fusedNode, fusedPool) = make(), (plain, plainNode, plainPool) = make()
        for step in 0..<3 {
            let training = step < 2
            var y = Tensor(zeros: [0]), pooled = Tensor(zeros: [0])
            let run = IntegerQuantPool(quantize: fusedNode, pool: fusedPool, afterReLU: !sign, next: nil)
            let ran = fused.forward(x, into: &y, training: training, quantPool: run, pooled: &pooled)
            if !ran {
                #expect(fusedNode.forwardPool2(y, afterReLU: !sign, pool: fusedPool, into: &pooled, training: training,
                                               maximum: fused.lastOutputMaximum))
            }
            var yPlain = Tensor(zeros: [0]), pooledPlain = Tensor(zeros: [0])
            plain.forward(x, into: &yPlain, training: training)
            #expect(plainNode.forwardPool2(yPlain, afterReLU: !sign, pool: plainPool, into: &pooledPlain, training: training,
                                           maximum: plain.lastOutputMaximum))
            let label = "\(variant), step \(step)"
            #expect(fused.lastForwardWasInteger && plain.lastForwardWasInteger, "integer forward, \(label)")
            #expect(ran == ["fused", "negative", "sign"].contains(variant), "ran the run, \(label)")
            #expect(y.shape == yPlain.shape && pooled.shape == pooledPlain.shape, "shapes, \(label)")
            #expect(Self.bits(pooled.data) == Self.bits(pooledPlain.data), "pooled, \(label)")
            #expect(fusedPool.routes == plainPool.routes, "routes, \(label)")
            if let a = fused.activationQuantizer as? UniformActivationQuantizer,
               let b = plain.activationQuantizer as? UniformActivationQuantizer {
                #expect(a.lastClip.bitPattern == b.lastClip.bitPattern && a.runningClip.bitPattern == b.runningClip.bitPattern,
                        "clip, \(label)")
            }
        }
    }

    /// In a network, the quantize-pool passes hand the next conv its input codes (the float
    /// first conv's pass and the integer second conv's fused one), and the results equal the
    /// unfused network's (QuantPoolTests.sequentialEqualsUnfused checks every gradient).
    @Test(arguments: ["w8a8", "w4a4", "w1a1", "w2a2", "w8a8g8"])
    func nextConvTakesCodes(_ precision: String) throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: Sequential does not fuse")
        let (fused, plain) = try twinNetworks("conv 8 k3 | relu | maxpool 2 | conv 16 k3 | relu | maxpool 2 | conv 8 k3 | relu | dense 5",
                                              inputShape: [3, 16, 16], precision: precision, seed: 43)
        plain.fusesQuantPools = false
        let convs = { (m: Sequential) in m.layers.compactMap { $0 as? Conv2D } }
        for step in 0..<3 {
            let x = randomTensor([4, 3, 16, 16], seed: UInt64(80 + step))
            runStep([fused, plain], input: x, training: step < 2)
            #expect(convs(fused).map(\.lastInputCodesPreloaded) == [false, true, true], "\(precision), step \(step)")
            #expect(convs(plain).map(\.lastInputCodesPreloaded) == [false, false, false], "\(precision), step \(step)")
            #expect(convs(fused).map(\.lastForwardWasInteger) == [false, true, true], "\(precision), step \(step)")
            #expect(Self.bits(fused.logits.data) == Self.bits(plain.logits.data), "logits, \(precision), step \(step)")
        }
    }
}
