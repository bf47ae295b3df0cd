import Testing
import Tensors
import CTrainKernels
@testable import Quantization
@testable import Networks

/// g8 codes straight from a 2×2 pooling's routes (`GradientQuantizer.quantizeNHWC(pooled:)`,
/// `ql_grad_codes_pool2_nhwc_avx512`) against the full gradient the pooling's backward
/// writes, quantized by `quantizeNHWC` and by its definition: codes, scale, channel sums
/// and the stream afterwards, bit for bit; and whole networks trained with and without.
@Suite struct G8RoutesTests {
    static func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    /// Pooled gradients with NaN, ±0, ±∞ (some rounds), values at the maximum (codes at
    /// the clip ±127) and random routes 0 … 4 (4: no corner).
    static func pooled(_ n: Int, seed: UInt64, infinite: Bool) -> (g: [Float], routes: [UInt8]) {
        var rng = SplitMix64(seed: seed)
        var g = VectorKernelTests.awkward(n, seed: seed)
        if !infinite { g = g.map { $0.isInfinite ? 3 : $0 } }
        for i in stride(from: 5, to: n, by: 17) { g[i] = i % 2 == 0 ? 3 : -3 }   // ± the maximum
        let routes = (0..<n).map { _ in UInt8(rng.nextInt(below: 5)) }
        return (g, routes)
    }

    @Test func routedCodesEqualFullGradient() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: the routed kernel does not run")
        // K not a multiple of 16 (nor of 4), planes of fewer than 64 windows, windows
        // running across pooled rows, more than 64 windows, one image and several.
        for (n, k, h, w) in [(2, 1, 2, 2), (3, 5, 6, 10), (2, 17, 16, 16), (1, 33, 18, 34), (2, 16, 8, 8), (1, 3, 4, 130), (2, 32, 32, 32)] {
            let routed = GradientQuantizer(.int8, seed: 21), full = GradientQuantizer(.int8, seed: 21)
            let definition = GradientQuantizer(.int8, seed: 21), routedPortable = GradientQuantizer(.int8, seed: 21)
            definition.vectorKernel = false
            routedPortable.vectorKernel = false
            let pooledCount = n * k * (h / 2) * (w / 2)
            for round in 0..<3 {
                let (g, routes) = Self.pooled(pooledCount, seed: UInt64(n * 1000 + k * 10 + h + round), infinite: round == 2)
                var dy = [Float](repeating: 7, count: 4 * pooledCount)
                GradientQuantizer.unpool2(g, routes: routes, planes: n * k, height: h, width: w, into: &dy)
                routed.quantizeNHWC(pooled: g, routes: routes, images: n, channels: k, height: h, width: w)
                routedPortable.quantizeNHWC(pooled: g, routes: routes, images: n, channels: k, height: h, width: w)
                full.quantizeNHWC(dy, images: n, channels: k, plane: h * w, values: false)
                definition.quantizeNHWC(dy, images: n, channels: k, plane: h * w, values: false)
                let what = "n \(n) K \(k) \(h)×\(w) round \(round)"
                for q in [routed, routedPortable, full] {
                    #expect(q.codes == definition.codes, "codes, \(what)")
                    #expect(q.scale.bitPattern == definition.scale.bitPattern, "scale, \(what)")
                    #expect(q.channelSums == definition.channelSums, "channel sums, \(what)")
                }
                if round < 2 { #expect(definition.codes.contains(127) || definition.codes.contains(-127), "codes at the clip, \(what)") }
            }
            // The streams stand at the same place: the next codes agree.
            let probe = VectorKernelTests.awkward(50, seed: 9)
            for q in [routed, routedPortable, full, definition] { q.vectorKernel = false; q.quantize(probe, count: 50) }
            #expect(routed.codes == definition.codes && full.codes == definition.codes && routedPortable.codes == definition.codes,
                    "stream after, n \(n) K \(k) \(h)×\(w)")
        }
    }

    /// The codes chunk by chunk (what the conv backward runs) against the whole batch's:
    /// every chunk's codes, the scale, channel sums and the stream afterwards bit for bit,
    /// chunks of 1 … n images (n not a multiple of them), 1–40 channels, NaN, ±0 and ±∞
    /// in the gradient (round 2), the vector kernel and the portable path.
    @Test func chunkedRoutedCodesEqualWholeBatch() {
        for (n, k, h, w) in [(5, 1, 2, 2), (7, 5, 6, 10), (5, 17, 16, 16), (3, 40, 8, 8), (4, 3, 4, 130), (5, 32, 14, 14)] {
            let p = h * w, pooledCount = n * k * p / 4
            for vector in [true, false] where !vector || Kernels.hasAVX512 {
                for chunk in [1, 2, 3, n - 1, n, n + 2] where chunk > 0 {
                    let whole = GradientQuantizer(.int8, seed: 33), chunked = GradientQuantizer(.int8, seed: 33)
                    whole.vectorKernel = vector
                    chunked.vectorKernel = vector
                    let what = "n \(n) K \(k) \(h)×\(w) chunk \(chunk) vector \(vector)"
                    for round in 0..<3 {
                        let (g, routes) = Self.pooled(pooledCount, seed: UInt64(n * 100 + k + round), infinite: round == 2)
                        whole.quantizeNHWC(pooled: g, routes: routes, images: n, channels: k, height: h, width: w)
                        var seen = [Int8](), next = 0
                        chunked.quantizeNHWC(pooled: g, routes: routes, images: n, channels: k, height: h, width: w,
                                             chunk: chunk) { start, m, codes in
                            #expect(start == next && m == min(chunk, n - start), "chunk order, \(what)")
                            next = start + m
                            seen += UnsafeBufferPointer(start: codes, count: m * p * k)
                        }
                        #expect(next == n, "every image, \(what)")
                        #expect(seen == whole.codes, "codes, \(what) round \(round)")
                        #expect(chunked.scale.bitPattern == whole.scale.bitPattern, "scale, \(what) round \(round)")
                        #expect(chunked.channelSums == whole.channelSums, "channel sums, \(what) round \(round)")
                    }
                    let probe = VectorKernelTests.awkward(50, seed: 9)
                    for q in [whole, chunked] { q.vectorKernel = false; q.quantize(probe, count: 50) }
                    #expect(chunked.codes == whole.codes, "stream after, \(what)")
                }
            }
        }
    }

    /// The avx512dq forms (vpmullq) draw the same as the avx512f forms.
    @Test func multiplyFormsAgree() throws {
        try #require(Kernels.hasAVX512DQ, "this CPU has no avx512dq")
        for (n, k, h, w) in [(2, 5, 6, 10), (1, 17, 16, 16), (2, 4, 7, 7)] {
            let p = h * w, count = n * k * p
            let g = VectorKernelTests.awkward(count, seed: UInt64(count)).map { $0.isNaN || $0.isInfinite ? 0.25 : $0 }
            var a = [Int8](repeating: 1, count: count), b = a, sa = [Int32](repeating: 0, count: k), sb = sa
            ql_grad_codes_nhwc_avx512(g, n, k, p, 40, 0xDEAD_BEEF, &a, &sa)
            ql_grad_codes_nhwc_avx512dq(g, n, k, p, 40, 0xDEAD_BEEF, &b, &sb)
            #expect(a == b && sa == sb, "full codes, n \(n) K \(k) P \(p)")
            guard h % 2 == 0 && w % 2 == 0 else { continue }
            let (pg, routes) = Self.pooled(count / 4, seed: 3, infinite: false)
            ql_grad_codes_pool2_nhwc_avx512(pg, routes, n, k, h, w, 40, 77, &a, &sa)
            ql_grad_codes_pool2_nhwc_avx512dq(pg, routes, n, k, h, w, 40, 77, &b, &sb)
            #expect(a == b && sa == sb, "routed codes, n \(n) K \(k) \(h)×\(w)")
        }
    }

    /// `loadWeightCodes`: the AVX-512 kernel and the loop give the same codes and the same
    /// verdict, on a grid (tails of 1 … 15) and off it (a value between codes, code 128,
    /// NaN, ∞, a negative zero).
    @Test func weightCodesEqualLoop() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512")
        var rng = SplitMix64(seed: 5)
        let s: Float = 0.0123
        for n in [1, 15, 16, 17, 100, 1000] {
            let grid = (0..<n).map { _ in s * Float(rng.nextInt(below: 255) - 127) }
            var cases = [grid, grid.map { $0 == 0 ? -0.0 : $0 }]
            for bad: Float in [s * 0.5, s * 128, .nan, .infinity] {
                var q = grid
                q[n / 2] = bad
                cases.append(q)
            }
            for q in cases {
                let fast = LowPrecisionScratch(), slow = LowPrecisionScratch()
                slow.vectorKernel = false
                let a = fast.loadWeightCodes(q, count: n, precision: .bits(8), scales: [s])
                let b = slow.loadWeightCodes(q, count: n, precision: .bits(8), scales: [s])
                #expect(a?.bitPattern == b?.bitPattern, "verdict, n \(n)")
                if a != nil { #expect(fast.weightCodes == slow.weightCodes, "codes, n \(n)") }
            }
            #expect(LowPrecisionScratch().loadWeightCodes(grid, count: n, precision: .bits(8), scales: [s]) == s)
        }
    }

    /// A network trained three steps with SGD, with and without the routed g8 codes:
    /// every parameter gradient and weight, and the logits, bit for bit (uniform
    /// activations after a ReLU, and sign activations; a 5×5 plane that does not pool).
    @Test(arguments: ["w8a8g8", "w4a4g8", "w1a1g8", "w2a8g8"])
    func trainingEqualsUnpooledGradient(precision: String) throws {
        try Self.trainRoutedAndUnpooled("conv 8 k3 | relu | maxpool 2 | conv 17 k3 | relu | maxpool 2 | conv 8 k3 | relu | maxpool 2 | dense 5",
                                        input: [3, 20, 20], batch: 6, quantPools: 2, precision: precision)
    }

    /// The same where the backward runs in several chunks (the routed codes made chunk by
    /// chunk): 11 images of 32 × 32, conv1 in chunks of 9 + 2, conv2 of 7 + 4, every
    /// pooling fused.
    @Test(arguments: ["w8a8g8", "w4a4g8"])
    func chunkedTrainingEqualsUnpooledGradient(precision: String) throws {
        try Self.trainRoutedAndUnpooled("conv 16 k3 | relu | maxpool 2 | conv 40 k3 | relu | maxpool 2 | conv 24 k3 | relu | maxpool 2 | dense 5",
                                        input: [3, 32, 32], batch: 11, quantPools: 3, precision: precision)
    }

    static func trainRoutedAndUnpooled(_ spec: String, input: [Int], batch: Int, quantPools: Int, precision: String) throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: Sequential does not fuse")
        let (routed, unpooled) = try twinNetworks(spec, inputShape: input, precision: precision, seed: 43)
        unpooled.g8FromRoutes = false
        for step in 0..<4 {
            let training = step < 3
            let x = randomTensor([batch] + input, seed: UInt64(70 + step))
            let r = randomTensor([batch, 5], seed: UInt64(80 + step))
            runStep([routed, unpooled], input: x, training: training, logitGradient: training ? r : nil, learningRate: 0.05)
            #expect(routed.ranQuantPool.filter { $0 }.count == quantPools, "\(precision), step \(step)")
            #expect(Self.bits(routed.logits.data) == Self.bits(unpooled.logits.data), "logits, \(precision), step \(step)")
            for (a, b) in zip(routed.parameters, unpooled.parameters) {
                #expect(Self.bits(a.grad.data) == Self.bits(b.grad.data), "\(a.name) gradient, \(precision), step \(step)")
                #expect(Self.bits(a.value.data) == Self.bits(b.value.data), "\(a.name), \(precision), step \(step)")
            }
        }
    }
}
