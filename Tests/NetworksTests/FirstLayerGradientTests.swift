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

    /// A network's logits, parameters and activation clips with the direct forward and with
    /// im2col + sgemm + scatter (`directForward` off), bit for bit over three steps of 7
    /// images: fp32 (the fused ReLU-pool epilogue; the biased direct forward when no pool
    /// follows, and with no bias), w8a8 and w8a8g8 (the biased direct forward with the batch
    /// maximum the clip reads).
    @Test(arguments: [
        ("w32a32", [3, 16, 16], "conv 32 k3 | relu | maxpool 2 | conv 16 k3 | relu | maxpool 2 | dense 10"),
        ("w32a32", [3, 16, 16], "conv 20 k3 | relu | conv 16 k3 | relu | maxpool 2 | dense 10"),
        ("w32a32", [1, 14, 14], "conv 13 k5 nobias | relu | maxpool 2 | dense 10"),
        ("w8a8", [3, 16, 16], "conv 32 k3 | relu | maxpool 2 | conv 16 k3 | relu | maxpool 2 | dense 10"),
        ("w8a8g8", [1, 14, 14], "conv 32 k3 | relu | maxpool 2 | conv 16 k3 | relu | maxpool 2 | dense 10"),
        ("w8a8g8", [3, 15, 17], "conv 21 k3 | relu | conv 16 k3 | relu | maxpool 2 | dense 10"),
    ])
    func forwardLogitsEqualSgemmPath(precision: String, input: [Int], spec: String) throws {
        let (direct, sgemm) = try twinNetworks(spec, inputShape: input, precision: precision, seed: 5)
        for case let conv as Conv2D in sgemm.weightedLayers { conv.directForward = false }
        for step in 0..<3 {
            let x = randomTensor([7] + input, seed: UInt64(600 + step))
            let r = randomTensor([7, 10], seed: UInt64(700 + step))
            runStep([direct, sgemm], input: x, training: step < 2, logitGradient: step < 2 ? r : nil, learningRate: 0.05)
            #expect(Self.bits(direct.logits.data) == Self.bits(sgemm.logits.data), "logits, \(precision), \(spec), step \(step)")
            for (a, b) in zip(direct.weightedLayers, sgemm.weightedLayers) {
                #expect(a.activationQuantizer.clip?.bitPattern == b.activationQuantizer.clip?.bitPattern, "\(a.name) clip, step \(step)")
                for (pa, pb) in zip(a.parameters, b.parameters) {
                    #expect(Self.bits(pa.value.data) == Self.bits(pb.value.data), "\(pa.name), \(precision), \(spec), step \(step)")
                }
            }
        }
        #expect((direct.weightedLayers.first as? Conv2D)?.directForward == true)
    }

    /// The two passes the biased direct forward replaces: the K-major direct forward
    /// (`forward(into: kmajor)`, the bits of im2col + sgemm) and the scatter that adds the
    /// bias; with a starting maximum, the scatter that also reduces it (AVX-512 only: the
    /// only form that exists).
    static func twoPasses(_ x: [Float], n: Int, _ g: ConvGeometry, weights: [Float], filters: Int, bias: [Float]?,
                          maximum: Float?) -> (y: [Float], maximum: Float?) {
        let p = g.height * g.width
        var kmajor = [Float](repeating: 7, count: filters * n * p), y = kmajor
        var scratch = [Float](repeating: .nan, count: FirstLayerConvolution.scratchCount(g))
        FirstLayerConvolution.forward(x, images: n, g, weights: weights, filters: filters, scratch: &scratch, into: &kmajor,
                                      vector: false)
        guard var top = maximum else {
            ql_conv_scatter_bias(kmajor, n, filters, p, bias, &y)
            return (y, nil)
        }
        ql_conv_scatter_bias_max_avx512(kmajor, n, filters, p, bias, &y, &top)
        return (y, top)
    }

    /// The biased direct forward (`forward(bias:into:maximum:)`), AVX-512 or portable.
    static func fused(_ x: [Float], n: Int, _ g: ConvGeometry, weights: [Float], filters: Int, bias: [Float]?,
                      maximum: Float?, vector: Bool) -> (y: [Float], maximum: Float?) {
        var y = [Float](repeating: 7, count: filters * n * g.height * g.width)
        var scratch = [Float](repeating: .nan, count: FirstLayerConvolution.scratchCount(g))
        var top = maximum ?? 0
        (bias ?? []).withUnsafeBufferPointer { bp in
            withUnsafeMutablePointer(to: &top) { tp in
                FirstLayerConvolution.forward(x, images: n, g, weights: weights, filters: filters, bias: bias == nil ? nil : bp.baseAddress,
                                              scratch: &scratch, into: &y, maximum: maximum == nil ? nil : tp, vector: vector)
            }
        }
        return (y, maximum == nil ? nil : top)
    }

    /// The biased direct forward against the two passes it replaces, bit for bit, y and the
    /// running maximum, both forms: filters 1 … 40 (passes of 8, 4, 1), 3×3 and 5×5,
    /// C = 1 … 4, rows of 1 … 33 pixels (masked row ends; planes with and without a scalar
    /// tail in the scatter), batches of 1 … 9, bias absent, random or −0, NaN / ±∞ in the
    /// image, an image of NaN only (no maximum), all-negative outputs, and starting maxima
    /// −∞, −0, +0, 1e30.
    @Test func biasedForwardEqualsTwoPasses() {
        let shapes: [(k: Int, c: Int, h: Int, w: Int, n: Int)] = [
            (3, 3, 32, 32, 9), (3, 1, 28, 28, 3), (5, 1, 28, 28, 2), (3, 2, 2, 3, 9), (3, 4, 1, 1, 1), (5, 4, 7, 33, 2),
            (3, 3, 17, 16, 3), (5, 2, 5, 5, 1), (3, 1, 31, 17, 2), (3, 3, 4, 4, 5),
        ]
        let filterCounts = [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 15, 16, 17, 23, 31, 32, 33, 40]
        for (index, t) in shapes.enumerated() {
            let g = Self.geometry(channels: t.c, height: t.h, width: t.w, kernel: t.k)
            for (fi, filters) in filterCounts.enumerated() where (fi + index) % 3 == 0 || filters == 40 || filters == 1 {
                for round in 0..<6 {
                    let seed = UInt64(index * 1000 + filters * 10 + round)
                    var x = randomTensor([t.n, t.c, t.h, t.w], seed: seed).data
                    var w = randomTensor([filters, g.rows], seed: seed + 500).data
                    var bias: [Float]? = randomTensor([filters], seed: seed + 900).data
                    switch round {
                    case 0: bias = nil
                    case 1: x[x.count / 2] = .nan; x[0] = .infinity; x[x.count - 1] = -.infinity; x[x.count / 3] = -0.0
                    case 2: bias = [Float](repeating: -0.0, count: filters)
                    case 3: x = x.map { abs($0) }; w = w.map { -abs($0) }; bias = bias!.map { -abs($0) }   // all negative
                    case 4: x = [Float](repeating: .nan, count: x.count)
                    default: x[1] = .infinity; bias = nil
                    }
                    let what = "k \(t.k) C \(t.c) \(t.h)×\(t.w) n \(t.n) K \(filters) round \(round)"
                    let plain = Self.twoPasses(x, n: t.n, g, weights: w, filters: filters, bias: bias, maximum: nil)
                    for vector in Kernels.hasAVX512 ? [false, true] : [false] {
                        let y = Self.fused(x, n: t.n, g, weights: w, filters: filters, bias: bias, maximum: nil, vector: vector).y
                        #expect(Self.bits(y) == Self.bits(plain.y), "y, vector \(vector), \(what)")
                    }
                    guard Kernels.hasAVX512 else { continue }
                    for start: Float in [-.infinity, -0.0, 0, 1e30] {
                        let old = Self.twoPasses(x, n: t.n, g, weights: w, filters: filters, bias: bias, maximum: start)
                        #expect(Self.bits(old.y) == Self.bits(plain.y), "scatter with maximum, \(what)")
                        if round == 3 { #expect(old.maximum! < 0 || start >= 0, "all negative, \(what)") }
                        if round == 4 { #expect(old.maximum!.bitPattern == start.bitPattern, "NaN only, \(what)") }
                        for vector in [false, true] {
                            let new = Self.fused(x, n: t.n, g, weights: w, filters: filters, bias: bias, maximum: start, vector: vector)
                            #expect(Self.bits(new.y) == Self.bits(plain.y), "y with maximum, vector \(vector), \(what)")
                            #expect(new.maximum!.bitPattern == old.maximum!.bitPattern,
                                    "maximum \(new.maximum!) vs \(old.maximum!), start \(start), vector \(vector), \(what)")
                        }
                    }
                }
            }
        }
    }

    /// A maximum of ±0: outputs that are all ±0 or negative, each zero's sign set by the
    /// last tap's product (±1e-30 · ±1e-30 rounds to ±0; a −0 bias keeps it, a +0 bias or
    /// none makes it +0), so the scatter's order (16 lanes, their halving, the tails, the
    /// earlier chunk) decides which zero it keeps. The biased direct forward, which finds
    /// its largest value in another order, gives the same bits, both forms; and the cases
    /// reach both +0 and −0 from both starting points.
    @Test func zeroMaximumKeepsTheScattersSign() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: the scatter with a maximum does not run")
        var results: Set<UInt32> = []
        let shapes: [(k: Int, c: Int, h: Int, w: Int, n: Int, filters: Int)] = [
            (3, 3, 32, 32, 2, 5), (3, 1, 28, 28, 3, 9), (3, 2, 3, 5, 4, 3), (5, 1, 7, 9, 3, 17), (3, 3, 4, 4, 1, 1), (3, 1, 5, 16, 2, 2),
        ]
        for (index, t) in shapes.enumerated() {
            let g = Self.geometry(channels: t.c, height: t.h, width: t.w, kernel: t.k)
            for round in 0..<12 {
                var rng = SplitMix64(seed: UInt64(index * 100 + round))
                let sign = { (p: Int) -> Float in rng.nextInt(below: 100) < p ? -1 : 1 }
                let negativeShare = [5, 50, 95][round % 3]
                let x = (0..<(t.n * t.c * t.h * t.w)).map { _ in sign(negativeShare) * 1e-30 }
                let w = (0..<(t.filters * g.rows)).map { _ in sign(50) * 1e-30 }
                // −0 keeps each zero's sign; −1 makes a filter negative; +0 (some rounds) makes its zeros +0.
                let bias = (0..<t.filters).map { f -> Float in
                    f % 3 == 2 ? -1 : (round >= 6 && f % 4 == 1 ? 0 : -0.0)
                }
                let what = "k \(t.k) C \(t.c) \(t.h)×\(t.w) n \(t.n) K \(t.filters) round \(round)"
                for start: Float in [-.infinity, -0.0, 0, -2] {
                    let old = Self.twoPasses(x, n: t.n, g, weights: w, filters: t.filters, bias: bias, maximum: start)
                    #expect(old.maximum! == 0, "a zero maximum, \(what)")
                    results.insert(old.maximum!.bitPattern)
                    for vector in [false, true] {
                        let new = Self.fused(x, n: t.n, g, weights: w, filters: t.filters, bias: bias, maximum: start, vector: vector)
                        #expect(Self.bits(new.y) == Self.bits(old.y), "y, vector \(vector), \(what)")
                        #expect(new.maximum!.bitPattern == old.maximum!.bitPattern,
                                "maximum \(new.maximum!) vs \(old.maximum!), start \(start), vector \(vector), \(what)")
                    }
                }
            }
        }
        #expect(results == [Float(0).bitPattern, Float(-0.0).bitPattern], "both zeros reached: \(results)")
    }

    /// `ql_conv_planes_max` leaves the maximum as the scatter does on the planes it wrote,
    /// lanes and tails of awkward values (NaN, ±0, ±∞) and of ±0 only, planes of 1 … 49 values.
    @Test func planesMaximumEqualsScatters() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: the scatter with a maximum does not run")
        for (m, filters, p) in [(1, 1, 1), (3, 7, 5), (2, 16, 17), (3, 5, 64), (1, 3, 49), (4, 2, 32), (2, 3, 16)] {
            for zerosOnly in [false, true] {
                var km = VectorKernelTests.awkward(m * filters * p, seed: UInt64(filters * 31 + p))
                if zerosOnly { km = km.map { $0.sign == .minus ? -0.0 : 0 } }
                for start: Float in [-.infinity, -0.0, 0, 2] {
                    var y = [Float](repeating: 9, count: km.count), scattered = start, planes = start
                    ql_conv_scatter_bias_max_avx512(km, m, filters, p, nil, &y, &scattered)
                    ql_conv_planes_max(y, m, filters, p, &planes)
                    #expect(planes.bitPattern == scattered.bitPattern, "m \(m) K \(filters) P \(p) zeros \(zerosOnly) start \(start)")
                }
            }
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
