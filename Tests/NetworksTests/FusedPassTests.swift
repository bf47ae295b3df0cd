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
}
