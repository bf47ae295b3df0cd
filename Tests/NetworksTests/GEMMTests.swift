import Testing
import Tensors

/// `sgemm` (OpenBLAS) against `naiveGemm` (triple loop in Double), and im2col/col2im
/// against a direct gather and against each other.
@Suite struct GEMMTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func sgemmMatchesNaive(transA: Bool, transB: Bool) {
        let m = 5, n = 7, k = 3
        // Stored shapes: A is m×k (or k×m when transposed), B is k×n (or n×k).
        let lda = transA ? m : k, ldb = transB ? k : n
        let a = randomTensor([m * k], seed: 1).data, b = randomTensor([k * n], seed: 2).data
        let c0 = randomTensor([m * n], seed: 3).data
        var blas = c0, naive = c0
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                blas.withUnsafeMutableBufferPointer { cp in
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: ap.baseAddress!, lda: lda,
                          b: bp.baseAddress!, ldb: ldb, beta: 0.3, c: cp.baseAddress!, ldc: n)
                }
                naive.withUnsafeMutableBufferPointer { cp in
                    naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: ap.baseAddress!, lda: lda,
                              b: bp.baseAddress!, ldb: ldb, beta: 0.3, c: cp.baseAddress!, ldc: n)
                }
            }
        }
        assertClose(blas, naive, rtol: 1e-5, atol: 1e-5, "transA \(transA) transB \(transB)")
        // And naiveGemm itself against the definition, element (1, 2).
        var s = 0.0
        for p in 0..<k {
            let av = transA ? a[p * lda + 1] : a[1 * lda + p]
            let bv = transB ? b[2 * ldb + p] : b[p * ldb + 2]
            s += Double(av) * Double(bv)
        }
        #expect(abs(Double(naive[1 * n + 2]) - (0.7 * s + 0.3 * Double(c0[1 * n + 2]))) < 1e-5)
    }

    static let geometries: [ConvGeometry] = [
        ConvGeometry(channels: 2, height: 5, width: 4, kernelH: 3, kernelW: 3, stride: 1, padding: 1),
        ConvGeometry(channels: 1, height: 6, width: 7, kernelH: 3, kernelW: 3, stride: 2, padding: 0),
        ConvGeometry(channels: 3, height: 4, width: 5, kernelH: 2, kernelW: 2, stride: 2, padding: 2),
        ConvGeometry(channels: 2, height: 3, width: 3, kernelH: 3, kernelW: 3, stride: 1, padding: 2),
        // Padding wider than the output row: im2col's stride-1 fast path zero-fills
        // `padding − kj` > OW leading values for kj = 0 (see report).
        ConvGeometry(channels: 1, height: 1, width: 1, kernelH: 5, kernelW: 5, stride: 1, padding: 2),
    ]

    /// col[(c, ki, kj), (n, i, j)] = x[n, c, i·S − P + ki, j·S − P + kj], 0 outside.
    static func naiveIm2col(_ x: [Float], batch: Int, _ g: ConvGeometry) -> [Float] {
        let oh = g.outHeight, ow = g.outWidth, cols = batch * oh * ow
        var col = [Float](repeating: 0, count: g.rows * cols)
        for c in 0..<g.channels { for ki in 0..<g.kernelH { for kj in 0..<g.kernelW {
            let r = (c * g.kernelH + ki) * g.kernelW + kj
            for b in 0..<batch { for i in 0..<oh { for j in 0..<ow {
                let ih = i * g.stride - g.padding + ki, iw = j * g.stride - g.padding + kj
                guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
                col[r * cols + (b * oh + i) * ow + j] = x[((b * g.channels + c) * g.height + ih) * g.width + iw]
            } } }
        } } }
        return col
    }

    @Test(arguments: geometries)
    func im2colMatchesDirectGather(_ g: ConvGeometry) {
        let batch = 2
        let x = randomTensor([batch * g.channels * g.height * g.width], seed: 4).data
        // Guard values after the matrix catch writes past its end.
        let count = g.rows * batch * g.outHeight * g.outWidth
        var col = [Float](repeating: .nan, count: count + 8)
        x.withUnsafeBufferPointer { xp in
            col.withUnsafeMutableBufferPointer { cp in im2col(xp.baseAddress!, batch: batch, g, into: cp.baseAddress!) }
        }
        assertClose(Array(col[..<count]), Self.naiveIm2col(x, batch: batch, g), rtol: 0, atol: 0)
        let untouched = col[count...].allSatisfy { $0.isNaN }
        #expect(untouched, "im2col wrote past the column matrix")
    }

    /// col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩.
    @Test(arguments: geometries)
    func col2imIsAdjointOfIm2col(_ g: ConvGeometry) {
        let batch = 2
        let xCount = batch * g.channels * g.height * g.width
        let cCount = g.rows * batch * g.outHeight * g.outWidth
        let x = randomTensor([xCount], seed: 5).data, c = randomTensor([cCount], seed: 6).data
        var col = [Float](repeating: 0, count: cCount), back = [Float](repeating: 0, count: xCount)
        x.withUnsafeBufferPointer { xp in
            col.withUnsafeMutableBufferPointer { cp in im2col(xp.baseAddress!, batch: batch, g, into: cp.baseAddress!) }
        }
        c.withUnsafeBufferPointer { cp in
            back.withUnsafeMutableBufferPointer { bp in col2im(cp.baseAddress!, batch: batch, g, into: bp.baseAddress!) }
        }
        let lhs = zip(col, c).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "⟨im2col x, c⟩ = \(lhs), ⟨x, col2im c⟩ = \(rhs)")
    }

    /// col2im against the direct scatter-add in (c, ki, kj, n, i, j) order, exactly: each
    /// dx element receives its terms in (ki, kj) order, which shipped sessions' numbers
    /// depend on (the loop order of col2im may change, this order may not). Geometries
    /// as above plus a cifar3-like one wide enough for the eight-lane adds.
    @Test(arguments: geometries + [ConvGeometry(channels: 3, height: 19, width: 21, kernelH: 3, kernelW: 3, stride: 1, padding: 1)])
    func col2imMatchesScatterAddBitExactly(_ g: ConvGeometry) {
        let batch = 3
        let oh = g.outHeight, ow = g.outWidth, cols = batch * oh * ow
        let c = randomTensor([g.rows * cols], seed: 7).data
        let start = randomTensor([batch * g.channels * g.height * g.width], seed: 8).data
        var expected = start, back = start
        for ch in 0..<g.channels { for ki in 0..<g.kernelH { for kj in 0..<g.kernelW {
            let r = (ch * g.kernelH + ki) * g.kernelW + kj
            for b in 0..<batch { for i in 0..<oh { for j in 0..<ow {
                let ih = i * g.stride - g.padding + ki, iw = j * g.stride - g.padding + kj
                guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
                expected[((b * g.channels + ch) * g.height + ih) * g.width + iw] += c[r * cols + (b * oh + i) * ow + j]
            } } }
        } } }
        c.withUnsafeBufferPointer { cp in
            back.withUnsafeMutableBufferPointer { bp in col2im(cp.baseAddress!, batch: batch, g, into: bp.baseAddress!) }
        }
        #expect(back == expected)
    }
}

extension ConvGeometry: CustomTestStringConvertible {
    public var testDescription: String {
        "C\(channels) \(height)×\(width) k\(kernelH)×\(kernelW) s\(stride) p\(padding)"
    }
}
