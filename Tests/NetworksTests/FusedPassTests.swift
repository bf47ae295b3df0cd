import Testing
import Tensors
import Quantization
import CTrainKernels
@testable import Networks

/// The float training passes that moved into C or into a neighbouring layer must give
/// bit for bit what the Swift loops and the separate layers gave (shipped sessions
/// replay exactly), on values with NaN, ±0, ±∞ and ties, and every tail length.
@Suite struct FusedPassTests {
    static func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }
    static func awkward(_ n: Int, seed: UInt64) -> [Float] { VectorKernelTests.awkward(n, seed: seed) }
    static func canonical(_ a: [Float]) -> [UInt32] { a.map { $0.isNaN ? Float.nan.bitPattern : $0.bitPattern } }

    /// `ql_conv_gather_dy` against the Swift loop it replaced in Conv2D.backward:
    /// [m, K, P] → [K, m·P] and bias sums in serial order, added to what is there.
    @Test func gatherDyEqualsSwiftLoop() {
        for (m, filters, p) in [(1, 1, 1), (3, 7, 5), (2, 8, 16), (2, 9, 17), (3, 17, 64), (1, 16, 196), (2, 33, 3)] {
            let dy = Self.awkward(m * filters * p, seed: UInt64(m * 1000 + filters * 10 + p))
            let start = Self.awkward(filters, seed: 3).map { $0.isNaN ? 0.5 : $0 }
            var kFast = [Float](repeating: 9, count: filters * m * p), kSlow = kFast
            var bFast = start, bSlow = start
            let np = m * p
            for k in 0..<filters {
                var s: Float = 0
                for i in 0..<m {
                    for j in 0..<p {
                        let v = dy[(i * filters + k) * p + j]
                        kSlow[k * np + i * p + j] = v
                        s += v
                    }
                }
                bSlow[k] += s
            }
            dy.withUnsafeBufferPointer { d in
                kFast.withUnsafeMutableBufferPointer { kp in
                    bFast.withUnsafeMutableBufferPointer { bp in
                        ql_conv_gather_dy(d.baseAddress!, m, filters, p, kp.baseAddress!, bp.baseAddress!)
                    }
                }
            }
            #expect(Self.bits(kFast) == Self.bits(kSlow), "columns, m \(m) K \(filters) P \(p)")
            // A NaN sum's sign and payload follow the compiler's operand order (∞ − ∞ gives
            // x86's negative default NaN): NaNs count as equal, every other value by its bits.
            #expect(Self.canonical(bFast) == Self.canonical(bSlow), "bias sums, m \(m) K \(filters) P \(p)")
        }
    }

    /// `ql_conv_scatter_bias` against the Swift loop of Conv2D.forward, with and without bias.
    @Test func scatterBiasEqualsSwiftLoop() {
        for (m, filters, p) in [(1, 1, 1), (3, 7, 5), (2, 16, 17), (3, 5, 64)] {
            let km = Self.awkward(m * filters * p, seed: UInt64(filters * 31 + p))
            for bias in [nil, Self.awkward(filters, seed: 4)] as [[Float]?] {
                var fast = [Float](repeating: 9, count: m * filters * p), slow = fast
                let np = m * p
                for k in 0..<filters {
                    let b = bias?[k] ?? 0
                    for i in 0..<m { for j in 0..<p { slow[(i * filters + k) * p + j] = km[k * np + i * p + j] + b } }
                }
                let bdata = bias ?? []
                km.withUnsafeBufferPointer { kp in
                    bdata.withUnsafeBufferPointer { bp in
                        fast.withUnsafeMutableBufferPointer { yp in
                            ql_conv_scatter_bias(kp.baseAddress!, m, filters, p, bias == nil ? nil : bp.baseAddress, yp.baseAddress!)
                        }
                    }
                }
                #expect(Self.bits(fast) == Self.bits(slow), "m \(m) K \(filters) P \(p) bias \(bias != nil)")
            }
        }
    }

    /// MaxPool with `masksReLU` equals MaxPool backward then ReLU backward (both kernels:
    /// vector and portable; windows 2 s2 and 3 s2; widths with vector groups, tails,
    /// odd edges), inputs a ReLU made from awkward values.
    @Test(arguments: [45, 64, 13, 6])
    func poolMaskingReLUEqualsSeparateBackwards(width w: Int) {
        let n = 2, c = 3, h = 7
        let raw = Tensor(shape: [n, c, h, w], data: Self.awkward(n * c * h * w, seed: UInt64(w) + 50))
        let relu = ReLU()
        let x = run(relu, raw)
        for (window, stride) in [(2, 2), (3, 2)] {
            for vector in [true, false] {
                let plain = MaxPool(window: window, stride: stride), fused = MaxPool(window: window, stride: stride)
                plain.vectorKernels = vector; fused.vectorKernels = vector
                fused.masksReLU = true
                let y = run(plain, x)
                let dy = Tensor(shape: y.shape, data: Self.awkward(y.count, seed: 77))
                var dPool = Tensor(zeros: [0]), dSeparate = Tensor(zeros: [0])
                var dFused = Tensor(repeating: .nan, shape: x.shape)
                plain.backward(input: x, output: y, gradient: dy, into: &dPool, needsInputGradient: true)
                relu.backward(input: raw, output: x, gradient: dPool, into: &dSeparate, needsInputGradient: true)
                fused.backward(input: x, output: run(fused, x), gradient: dy, into: &dFused, needsInputGradient: true)
                #expect(Self.bits(dFused.data) == Self.bits(dSeparate.data),
                        "width \(w), window \(window) s\(stride), vector \(vector)")
            }
        }
    }

    static let spec = "conv 4 k3 | relu | maxpool 2 | conv 5 k3 | relu | maxpool 2 | dense 3"

    /// Sequential skips each ReLU under a MaxPool: every parameter gradient equals the
    /// unfused layer-by-layer backward bit for bit, and central differences.
    @Test func sequentialGradientsEqualUnfusedChain() throws {
        var rng = SplitMix64(seed: 21)
        let m = try Sequential(spec: ModelSpec(parsing: Self.spec), inputShape: [2, 10, 10], rng: &rng)
        let pools = m.layers.compactMap { $0 as? MaxPool }
        #expect(pools.count == 2 && pools.allSatisfy { $0.masksReLU })
        let x = distinctTensor([3, 2, 10, 10], seed: 22, gap: 0.01)
        let r = randomTensor([3, 3], seed: 23)
        let loss = ResidualTests.linearLoss(m, x, r)
        let fused = m.parameters.map(\.grad.data)

        // The same layers one by one, the ReLUs' backward run and the pools unmasked.
        for pool in m.layers.compactMap({ $0 as? MaxPool }) { pool.masksReLU = false }
        m.zeroGrad()
        var acts = [x]
        for layer in m.layers { acts.append(run(layer, acts.last!)) }
        var g = r
        for i in stride(from: m.layers.count - 1, through: 0, by: -1) {
            var dx = Tensor(zeros: [0])
            m.layers[i].backward(input: acts[i], output: acts[i + 1], gradient: g, into: &dx, needsInputGradient: i > 0)
            g = dx
        }
        for (p, f) in zip(m.parameters, fused) {
            #expect(Self.bits(p.grad.data) == Self.bits(f), "\(p.name)")
        }
        for pool in m.layers.compactMap({ $0 as? MaxPool }) { pool.masksReLU = true }

        let h: Float = 1e-3
        for (p, analytic) in zip(m.parameters, fused) {
            let err = GradientCheck.error(analytic, centralDifferences(p, loss, h: h))
            #expect(err < 2e-2, "\(p.name): relative error \(err)")
        }
    }

    /// `ql_conv_relu_pool2_avx512` and `ql_conv_unpool2_dy_avx512` against the kernels of
    /// the three layers they stand for: scatter plus bias, ReLU, 2×2 max pooling, the
    /// pooling's backward under the ReLU mask, and the gather of dY with its bias sums.
    /// Awkward values (NaN, ±0, ±∞, ties), with and without bias, planes narrower and
    /// wider than a vector; rows of 16 and 8 values (two and four pooled rows per step)
    /// with and without whole steps (row counts 4 and 8 vs 6 and 12).
    @Test func convReLUPoolKernelsEqualThreeLayers() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: the fused kernels do not run")
        for (m, filters, h, w) in [(2, 1, 2, 2), (2, 3, 4, 6), (2, 8, 8, 8), (3, 9, 16, 16), (1, 4, 32, 32),
                                   (2, 5, 6, 34), (1, 2, 2, 64), (4, 16, 2, 30), (3, 64, 16, 16), (7, 16, 8, 8),
                                   (2, 3, 16, 8), (1, 2, 4, 16), (1, 3, 12, 8), (1, 2, 6, 16), (2, 4, 2, 16), (2, 4, 4, 8)] {
            let p = h * w, np = m * p, count = m * filters * p, pooled = count / 4
            #expect(count % 8 == 0, "the ReLU runs its vector form on every value only for whole groups of 8")
            let km = Self.awkward(filters * np, seed: UInt64(m * 100 + filters * 10 + w))
            let dy = Self.awkward(pooled, seed: UInt64(h * 7 + w))
            let start = Self.awkward(filters, seed: 3).map { $0.isNaN ? 0.5 : $0 }
            for bias in [nil, Self.awkward(filters, seed: 4)] as [[Float]?] {
                let label = "m \(m) K \(filters) \(h)×\(w) bias \(bias != nil)"
                var conv = [Float](repeating: 9, count: count), relu = conv, dx = conv
                var pool = [Float](repeating: 9, count: pooled), fused = [Float](repeating: 8, count: pooled)
                var routes = [UInt8](repeating: 9, count: pooled)
                var kSlow = [Float](repeating: 9, count: filters * np), kFast = [Float](repeating: 8, count: filters * np)
                var bSlow = start, bFast = start
                (bias ?? []).withUnsafeBufferPointer { bp in
                    let b = bias == nil ? nil : bp.baseAddress
                    ql_conv_scatter_bias(km, m, filters, p, b, &conv)
                    Kernels.relu(conv, &relu, count: count)
                    ql_maxpool2_forward_avx512(relu, &pool, m * filters, h, w)
                    ql_maxpool2_backward_avx512(relu, pool, dy, &dx, m * filters, h, w, 1)
                    ql_conv_gather_dy(dx, m, filters, p, &kSlow, &bSlow)
                    ql_conv_relu_pool2_avx512(km, m, filters, h, w, b, &fused, &routes)
                    ql_conv_unpool2_dy_avx512(dy, routes, m, filters, h, w, &kFast, &bFast)
                }
                #expect(Self.bits(fused) == Self.bits(pool), "pooled, \(label)")
                #expect(routes.allSatisfy { $0 <= 4 }, "routes, \(label)")
                #expect(Self.bits(kFast) == Self.bits(kSlow), "dY columns, \(label)")
                #expect(Self.canonical(bFast) == Self.canonical(bSlow), "bias sums, \(label)")
            }
        }
    }

    /// Sequential runs conv → relu → maxpool 2 as one pass where it can (even planes) and
    /// the three layers elsewhere: logits and every parameter gradient equal the unfused
    /// model's bit for bit, float and 4-bit weights, with and without conv bias.
    @Test func sequentialConvReLUPoolEqualsUnfused() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: Sequential does not fuse")
        let specs = [("conv 4 k3 | relu | maxpool 2 | conv 6 k3 nobias | relu | maxpool 2 | dense 3", 2),
                     ("conv 8 k3 | relu | maxpool 2 | conv 8 k3 | relu | maxpool 2 | conv 8 k3 | relu | maxpool 2 | dense 5", 2)]
        for (text, fusable) in specs {
            for precision in ["w32a32", "w4a32"] {
                let spec = try ModelSpec(parsing: text)
                func build() throws -> Sequential {
                    var rng = SplitMix64(seed: 31)
                    return try Sequential(spec: spec, inputShape: [3, 12, 12], precision: { _ in LayerPrecision(precision)! }, rng: &rng)
                }
                let fused = try build(), plain = try build()
                plain.fusesConvReLUPools = false
                let x = randomTensor([3, 3, 12, 12], seed: 32)
                let r = randomTensor([3, fused.outputShape[0]], seed: 33)
                for m in [fused, plain] {
                    m.withInput { $0 = x }
                    m.forward(training: true)
                    m.zeroGrad()
                    m.withLogitGradient { $0 = r }
                    m.backward()
                }
                #expect(fused.ranConvReLUPool.filter { $0 }.count == fusable, "\(text) \(precision)")
                #expect(!plain.ranConvReLUPool.contains(true))
                #expect(Self.bits(fused.logits.data) == Self.bits(plain.logits.data), "logits, \(text) \(precision)")
                for (a, b) in zip(fused.parameters, plain.parameters) {
                    #expect(Self.bits(a.grad.data) == Self.bits(b.grad.data), "\(a.name), \(text) \(precision)")
                }
            }
        }
    }
}
