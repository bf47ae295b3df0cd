import Testing
import Tensors
import CTrainKernels
import Random
@testable import Quantization
@testable import Networks

/// The direct weight gradient of a first convolution (`FirstLayerConvolution`, conv_dw.c)
/// against its float64 definition, its direct forward against im2col + sgemm bit for bit, its AVX-512 form against the portable loops bit for
/// bit, its independence of the batch's chunking, non-finite values, and whole networks
/// (fp32 and w8a8g8) against the im2col + sgemm path it replaces.
@Suite struct FirstLayerGradientTests {
    static func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    /// dw0 + Σ over images and pixels of dy[p][f] · x_pad[c][p + (ki, kj)] in Double (x_pad:
    /// zero outside the image, the padding terms included), and Σ |terms| (|dw0| included).
    static func definition(x: [Float], dy: [Float], dw0: [Float], n: Int, _ g: ConvGeometry, filters kk: Int)
        -> (sum: [Double], magnitude: [Double]) {
        let h = g.height, w = g.width, k = g.kernelH, half = (k - 1) / 2, r = g.rows
        var sum = dw0.map(Double.init), magnitude = dw0.map { Double(abs($0)) }
        for f in 0..<kk {
            for c in 0..<g.channels {
                for ki in 0..<k {
                    for kj in 0..<k {
                        let o = f * r + (c * k + ki) * k + kj
                        for img in 0..<n {
                            for i in 0..<h {
                                for j in 0..<w {
                                    let si = i + ki - half, sj = j + kj - half
                                    let inside = si >= 0 && si < h && sj >= 0 && sj < w
                                    let xv = inside ? Double(x[((img * g.channels + c) * h + si) * w + sj]) : 0
                                    let term = Double(dy[((img * h + i) * w + j) * kk + f]) * xv
                                    sum[o] += term; magnitude[o] += abs(term)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (sum, magnitude)
    }

    /// `accumulate` over images `split` (chunk sizes summing to n) into a copy of dw0.
    static func direct(x: [Float], dy: [Float], dw0: [Float], split: [Int], _ g: ConvGeometry, filters kk: Int,
                       vector: Bool) -> [Float] {
        var dw = dw0, scratch = [Float](repeating: .nan, count: FirstLayerConvolution.scratchCount(g))
        let inSize = g.channels * g.height * g.width, p = g.height * g.width
        var start = 0
        for m in split {
            x.withUnsafeBufferPointer { xp in
            dy.withUnsafeBufferPointer { dp in
            scratch.withUnsafeMutableBufferPointer { sp in
            dw.withUnsafeMutableBufferPointer { wp in
                FirstLayerConvolution.accumulateWeightGradient(xp.baseAddress! + start * inSize, images: m, g, dy: dp.baseAddress! + start * p * kk,
                                                filters: kk, scratch: sp.baseAddress!, into: wp.baseAddress!, vector: vector)
            } } } }
            start += m
        }
        return dw
    }

    static func geometry(channels: Int, height: Int, width: Int, kernel: Int) -> ConvGeometry {
        ConvGeometry(channels: channels, height: height, width: width, kernelH: kernel, kernelW: kernel, padding: kernel / 2)
    }

    /// Every filter count (1, 5, 16, 17, 32, 33: masked lanes, one and three passes), C = 1 … 4
    /// (one pass of 3 channels and one of 1 for C = 4), 1×1, 2×3, 28×28 and 32×32 images,
    /// batches of 1 and 9, 3×3 and 5×5 kernels: within 1e-5 · Σ |terms| of the float64
    /// definition (float sums of ≤ W + H + n terms: ~(W + H + n)·2⁻²⁴ at worst), the
    /// portable loops bit for bit equal to the AVX-512 form, and a batch taken whole,
    /// image by image, or in chunks of 4 and 5 giving the same bits.
    @Test func directEqualsDefinition() throws {
        var cases: [(k: Int, c: Int, h: Int, w: Int, n: Int, filters: Int)] = []
        for (h, w) in [(1, 1), (2, 3)] {
            for c in 1...4 { for f in [1, 5, 16, 17, 32, 33] { for n in [1, 9] { cases.append((3, c, h, w, n, f)) } } }
        }
        for c in 1...4 { for f in [1, 17, 32, 33] { cases.append((3, c, 28, 28, c % 2 == 0 ? 9 : 1, f)) } }
        for (c, f, n) in [(3, 32, 9), (3, 5, 1), (1, 16, 9), (4, 33, 1), (2, 17, 1)] { cases.append((3, c, 32, 32, n, f)) }
        for (c, h, w, n, f) in [(1, 28, 28, 9, 6), (1, 2, 3, 9, 1), (2, 5, 7, 1, 17), (3, 1, 1, 1, 33)] { cases.append((5, c, h, w, n, f)) }
        for (index, t) in cases.enumerated() {
            let g = Self.geometry(channels: t.c, height: t.h, width: t.w, kernel: t.k)
            #expect(FirstLayerConvolution.covers(g))
            let x = randomTensor([t.n, t.c, t.h, t.w], seed: UInt64(index)).data
            let dy = randomTensor([t.n * t.h * t.w, t.filters], seed: UInt64(index + 1000), scale: 0.1).data
            let dw0 = randomTensor([t.filters, g.rows], seed: UInt64(index + 2000)).data
            let what = "k \(t.k) C \(t.c) \(t.h)×\(t.w) n \(t.n) K \(t.filters)"
            let portable = Self.direct(x: x, dy: dy, dw0: dw0, split: [t.n], g, filters: t.filters, vector: false)
            let (sum, magnitude) = Self.definition(x: x, dy: dy, dw0: dw0, n: t.n, g, filters: t.filters)
            var worst = 0.0
            for i in sum.indices { worst = max(worst, abs(Double(portable[i]) - sum[i]) / max(magnitude[i], 1e-30)) }
            #expect(worst <= 1e-5, "error / Σ|terms| = \(worst), \(what)")
            if Kernels.hasAVX512 {
                let vector = Self.direct(x: x, dy: dy, dw0: dw0, split: [t.n], g, filters: t.filters, vector: true)
                #expect(Self.bits(vector) == Self.bits(portable), "AVX-512 vs portable, \(what)")
            }
            if t.n == 9 {
                for split in [[1, 1, 1, 1, 1, 1, 1, 1, 1], [4, 5], [0, 9]] {
                    let chunked = Self.direct(x: x, dy: dy, dw0: dw0, split: split, g, filters: t.filters, vector: Kernels.hasAVX512)
                    #expect(Self.bits(chunked) == Self.bits(portable), "chunks \(split), \(what)")
                }
            }
        }
    }

    /// NaN and ±∞ in the image or dY propagate as in the definition (a padding term
    /// ∞ · 0 is NaN, as in im2col + GEMM): NaN where it is NaN, the same infinity where
    /// it is infinite, close elsewhere; both forms alike, bit for bit.
    @Test func nonFiniteValuesPropagate() throws {
        let g = Self.geometry(channels: 3, height: 6, width: 7, kernel: 3), n = 2, kk = 17
        for round in 0..<4 {
            var x = randomTensor([n, 3, 6, 7], seed: UInt64(50 + round)).data
            var dy = randomTensor([n * 42, kk], seed: UInt64(60 + round)).data
            switch round {
            case 0: x[5] = .nan
            case 1: dy[0] = .infinity                               // pixel (0, 0), filter 0: padding taps go NaN
            case 2: x[44] = .infinity; x[100] = -.infinity; dy[3 * kk + 2] = -0.0
            default: dy[20 * kk + 16] = -.infinity; x[0] = 0; x[1] = -0.0
            }
            let dw0 = [Float](repeating: 0, count: kk * g.rows)
            let portable = Self.direct(x: x, dy: dy, dw0: dw0, split: [n], g, filters: kk, vector: false)
            let (sum, magnitude) = Self.definition(x: x, dy: dy, dw0: dw0, n: n, g, filters: kk)
            #expect(sum.contains { !$0.isFinite }, "round \(round) has non-finite sums")
            for i in sum.indices {
                let d = sum[i], a = portable[i]
                if d.isNaN {
                    #expect(a.isNaN, "[\(i)] NaN expected, got \(a), round \(round)")
                } else if d.isInfinite {
                    #expect(Double(a) == d, "[\(i)] \(d) expected, got \(a), round \(round)")
                } else {
                    #expect(abs(Double(a) - d) <= 1e-5 * magnitude[i], "[\(i)] \(a) vs \(d), round \(round)")
                }
            }
            if Kernels.hasAVX512 {
                let vector = Self.direct(x: x, dy: dy, dw0: dw0, split: [n], g, filters: kk, vector: true)
                #expect(Self.bits(vector) == Self.bits(portable), "AVX-512 vs portable, round \(round)")
            }
        }
    }

    /// The transpose (K-major dY to NHWC) is an exact copy, blocks and tails, rows packed
    /// or further apart.
    @Test func transposeIsExact() {
        for (rows, cols, ld) in [(1, 1, 1), (5, 3, 4), (16, 16, 16), (17, 33, 40), (32, 1024, 9216), (33, 100, 100), (3, 40, 57)] {
            let src = VectorKernelTests.awkward(rows * ld, seed: UInt64(rows * 7 + cols))
            var expected = [Float](repeating: 0, count: rows * cols)
            for i in 0..<rows { for j in 0..<cols { expected[j * rows + i] = src[i * ld + j] } }
            for vector in Kernels.hasAVX512 ? [false, true] : [false] {
                var dst = [Float](repeating: 7, count: rows * cols)
                FirstLayerConvolution.transpose(src, rows: rows, columns: cols, ld: ld, into: &dst, vector: vector)
                #expect(Self.bits(dst) == Self.bits(expected), "\(rows)×\(cols), vector \(vector)")
            }
        }
    }

    /// The direct forward gives the bits of im2col + `sgemm` (NN, K = C·k·k) in the K-major
    /// layout, and the portable loops the same bits: 3×3 and 5×5, C = 1 … 4, filter counts
    /// 1, 5, 6, 16, 17, 32, 33 (passes of 8, 4 and 1), rows of 1 … 33 pixels (masked ends),
    /// batches of 1 … 9, values of very different magnitudes, NaN and ±∞ in some batches.
    @Test func forwardEqualsSgemm() {
        let cases: [(k: Int, c: Int, h: Int, w: Int, n: Int, filters: Int)] = [
            (3, 3, 32, 32, 9, 32), (3, 1, 28, 28, 9, 32), (3, 1, 28, 28, 3, 16), (5, 1, 28, 28, 4, 6), (3, 3, 32, 32, 2, 33),
            (3, 2, 2, 3, 9, 5), (3, 4, 1, 1, 1, 1), (5, 4, 7, 33, 2, 17), (3, 3, 17, 16, 3, 17), (5, 2, 5, 5, 1, 5), (3, 1, 31, 17, 2, 12),
        ]
        for (index, t) in cases.enumerated() {
            let g = Self.geometry(channels: t.c, height: t.h, width: t.w, kernel: t.k)
            let p = t.h * t.w, np = t.n * p, r = g.rows
            for round in 0..<3 {
                var x = randomTensor([t.n, t.c, t.h, t.w], seed: UInt64(index * 10 + round), scale: round == 1 ? 1000 : 1).data
                let w = randomTensor([t.filters, r], seed: UInt64(index * 10 + round + 500)).data
                if round == 2 {
                    x[x.count / 2] = .nan; x[0] = .infinity; x[x.count - 1] = -.infinity; x[x.count / 3] = -0.0
                }
                var cols = [Float](repeating: 0, count: r * np), expected = [Float](repeating: 0, count: t.filters * np)
                im2col(x, batch: t.n, g, into: &cols)
                sgemm(m: t.filters, n: np, k: r, a: w, lda: r, b: cols, ldb: np, c: &expected, ldc: np)
                let what = "k \(t.k) C \(t.c) \(t.h)×\(t.w) n \(t.n) K \(t.filters) round \(round)"
                for vector in Kernels.hasAVX512 ? [false, true] : [false] {
                    var out = [Float](repeating: 7, count: t.filters * np)
                    var scratch = [Float](repeating: .nan, count: FirstLayerConvolution.scratchCount(g))
                    FirstLayerConvolution.forward(x, images: t.n, g, weights: w, filters: t.filters, scratch: &scratch,
                                                  into: &out, vector: vector)
                    #expect(Self.bits(out) == Self.bits(expected), "vector \(vector), \(what)")
                }
            }
        }
    }

    /// A network's logits with the direct forward and with im2col + sgemm (`directForward`
    /// off), fp32 (fused ReLU-pool epilogue, plain epilogue with a batch maximum under w8a8)
    /// and w8a8g8: bit for bit.
    @Test(arguments: [("w32a32", [3, 16, 16]), ("w8a8", [3, 16, 16]), ("w8a8g8", [1, 14, 14])])
    func forwardLogitsEqualSgemmPath(precision: String, input: [Int]) throws {
        let (direct, sgemm) = try twinNetworks("conv 32 k3 | relu | maxpool 2 | conv 16 k3 | relu | maxpool 2 | dense 10",
                                               inputShape: input, precision: precision, seed: 5)
        for case let conv as Conv2D in sgemm.weightedLayers { conv.directForward = false }
        for step in 0..<3 {
            let x = randomTensor([7] + input, seed: UInt64(600 + step))
            let r = randomTensor([7, 10], seed: UInt64(700 + step))
            runStep([direct, sgemm], input: x, training: step < 2, logitGradient: step < 2 ? r : nil, learningRate: 0.05)
            #expect(Self.bits(direct.logits.data) == Self.bits(sgemm.logits.data), "logits, \(precision), step \(step)")
        }
    }

    /// The geometries left to im2col + sgemm.
    @Test func coverage() {
        #expect(!FirstLayerConvolution.covers(ConvGeometry(channels: 5, height: 8, width: 8, kernelH: 3, kernelW: 3, padding: 1)))
        #expect(!FirstLayerConvolution.covers(ConvGeometry(channels: 3, height: 8, width: 8, kernelH: 3, kernelW: 3, stride: 2, padding: 1)))
        #expect(!FirstLayerConvolution.covers(ConvGeometry(channels: 3, height: 8, width: 8, kernelH: 3, kernelW: 3, padding: 0)))
        #expect(!FirstLayerConvolution.covers(ConvGeometry(channels: 1, height: 8, width: 8, kernelH: 7, kernelW: 7, padding: 3)))
        #expect(!FirstLayerConvolution.covers(ConvGeometry(channels: 1, height: 8, width: 8, kernelH: 1, kernelW: 1, padding: 0)))
        #expect(FirstLayerConvolution.covers(ConvGeometry(channels: 4, height: 8, width: 8, kernelH: 5, kernelW: 5, padding: 2)))
    }

    /// Whole networks, one step with the direct weight gradient and one with im2col + sgemm
    /// (`directWeightGradient = false` on every conv), from the same weights and batch: the
    /// weight gradients of the convs that took the direct form within 1e-5 of their largest
    /// |value| (different summation orders), every other gradient and the logits bit for
    /// bit; the first conv took the direct form (fp32 through the fused ReLU-pool backward
    /// and the plain one, w8a8g8 through the g8 float path; a covered second conv with an
    /// input gradient, fp32).
    @Test(arguments: [
        ("fp32", "conv 32 k3 | relu | maxpool 2 | conv 16 k3 | relu | maxpool 2 | dense 10", [3, 16, 16]),
        ("fp32", "conv 5 k3 | bn | relu | conv 7 k3 | relu | maxpool 2 | dense 10", [1, 12, 12]),
        ("fp32", "conv 6 k5 p2 | relu | maxpool 2 | conv 16 k5 p0 | relu | maxpool 2 | dense 10", [1, 28, 28]),
        ("w8a8g8", "conv 32 k3 | relu | maxpool 2 | conv 16 k3 | relu | maxpool 2 | dense 10", [3, 16, 16]),
        ("w8a8g8", "conv 17 k3 | relu | maxpool 2 | conv 8 k3 | relu | maxpool 2 | dense 10", [4, 12, 12]),
        ("w8a8", "conv 16 k3 | relu | maxpool 2 | dense 10", [2, 8, 8]),
        ("fp32", "conv 4 k3 | relu | conv 9 k3 | relu | maxpool 2 | dense 10", [3, 10, 10]),
    ])
    func networkGradientMatchesSgemmPath(precision: String, spec: String, input: [Int]) throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: training keeps im2col + sgemm")
        let (direct, sgemm) = try twinNetworks(spec, inputShape: input, precision: precision == "fp32" ? "w32a32" : precision, seed: 91)
        for case let conv as Conv2D in sgemm.weightedLayers { conv.directWeightGradient = false }
        for step in 0..<2 {
            let x = randomTensor([5] + input, seed: UInt64(300 + step))
            let r = randomTensor([5, 10], seed: UInt64(400 + step))
            runStep([direct, sgemm], input: x, training: true, logitGradient: r)
            let what = "\(precision) \(spec), step \(step)"
            #expect((direct.weightedLayers[0] as! Conv2D).lastWeightGradientWasDirect, "direct form ran, \(what)")
            #expect(!(sgemm.weightedLayers[0] as! Conv2D).lastWeightGradientWasDirect, "sgemm path ran, \(what)")
            #expect(Self.bits(direct.logits.data) == Self.bits(sgemm.logits.data), "logits, \(what)")
            let directWeights = direct.weightedLayers.compactMap { ($0 as? Conv2D).flatMap { $0.lastWeightGradientWasDirect ? $0.weight.name : nil } }
            if spec.hasPrefix("conv 4 k3") { #expect(directWeights.count == 2, "both convs direct, \(what)") }
            for (a, b) in zip(direct.parameters, sgemm.parameters) {
                if directWeights.contains(a.name) {
                    let scale = b.grad.data.map { abs($0) }.max() ?? 0
                    #expect(scale > 0, "\(a.name) gradient is not all zero, \(what)")
                    assertClose(a.grad.data, b.grad.data, rtol: 0, atol: 1e-5 * scale, "\(a.name) gradient, \(what)")
                } else {
                    #expect(Self.bits(a.grad.data) == Self.bits(b.grad.data), "\(a.name) gradient, \(what)")
                }
            }
        }
    }
}
