import Testing
import Tensors

/// The backward GEMMs of `g8` and `gbf16`: `gemmS8S8S32` against its Int64 loop
/// (exact), bf16 conversion against hand-computed bits, and `BFloat16.gemm` (oneDNN
/// where available, and the forced sgemm fallback) against a Double loop over the
/// bf16 values (products of bf16 values are exact in fp32: only the fp32 summation
/// order differs, relative error ≤ ~k·2⁻²⁴ of the absolute sum, so rtol 1e-4 here).
@Suite(.serialized) struct LowPrecisionGEMMTests {
    @Test(.enabled(if: CPUDispatch.hasVNNI, "s8×s8 is exact with VNNI"),
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func s8s8s32MatchesNaive(transA: Bool, transB: Bool) {
        let m = 23, n = 17, k = 290
        var rng = SplitMix64(seed: 3)
        let a = (0..<(m * k)).map { i in Int8(i == 0 ? -127 : i == 1 ? 127 : rng.nextInt(below: 255) - 127) }
        let b = (0..<(k * n)).map { i in Int8(i == 0 ? -127 : i == 1 ? 127 : rng.nextInt(below: 255) - 127) }
        let lda = transA ? m : k, ldb = transB ? k : n
        var fast = [Int32](repeating: 9, count: m * n), naive = fast
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
            fast.withUnsafeMutableBufferPointer {
                gemmS8S8S32(transA: transA, transB: transB, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda,
                            b: bp.baseAddress!, ldb: ldb, c: $0.baseAddress!, ldc: n)
            }
            naive.withUnsafeMutableBufferPointer {
                naiveGemmS8S8S32(transA: transA, transB: transB, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda,
                                 b: bp.baseAddress!, ldb: ldb, c: $0.baseAddress!, ldc: n)
            }
        } }
        let first = fast.indices.first { fast[$0] != naive[$0] }
        #expect(first == nil, "first difference at \(first ?? -1)")
        // All −127 × 127 (the most negative sums): k·(−16129).
        var c: [Int32] = [0]
        let lo = [Int8](repeating: -127, count: k), hi = [Int8](repeating: 127, count: k)
        lo.withUnsafeBufferPointer { ap in hi.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer {
            gemmS8S8S32(m: 1, n: 1, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: 1, c: $0.baseAddress!, ldc: 1)
        } } }
        #expect(c[0] == Int32(-16129 * k))
    }

    /// Round to nearest even on the 16 dropped bits, hand-computed.
    @Test func bf16Rounding() {
        #expect(BFloat16.bits(1) == 0x3F80)
        #expect(BFloat16.bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)   // tie, even stays
        #expect(BFloat16.bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)   // tie, odd rounds up
        #expect(BFloat16.bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)   // above the tie
        #expect(BFloat16.bits(-2.5) == 0xC020)
        #expect(BFloat16.bits(.infinity) == 0x7F80)
        #expect(BFloat16.float(BFloat16.bits(.nan)).isNaN)
        #expect(BFloat16.bits(Float(bitPattern: 0x7F7F_FFFF)) == 0x7F80)  // largest float rounds to ∞
        // The vector conversion equals the scalar one (with NaN, ∞ and a tail).
        var rng = SplitMix64(seed: 5)
        var xs = (0..<37).map { _ in rng.nextNormal() * 1000 }
        xs[3] = .nan; xs[4] = -.infinity; xs[20] = Float(bitPattern: 0x3F81_8000)
        var out = [UInt16](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { BFloat16.convert(xp.baseAddress!, into: $0.baseAddress!, count: xs.count) } }
        #expect(out == xs.map(BFloat16.bits))
    }

    @Test(arguments: [(false, false, false), (true, false, false), (false, true, false), (true, true, false),
                      (false, false, true), (true, true, true)])
    func bf16GEMMMatchesDoubleLoop(transA: Bool, transB: Bool, fallback: Bool) {
        let m = 19, n = 33, k = 150
        var rng = SplitMix64(seed: 9)
        let a = (0..<(m * k)).map { _ in BFloat16.bits(rng.nextNormal()) }
        let b = (0..<(k * n)).map { _ in BFloat16.bits(rng.nextNormal()) }
        let c0 = (0..<(m * n)).map { _ in rng.nextNormal() }
        let lda = transA ? m : k, ldb = transB ? k : n
        var c = c0
        BFloat16.forceFallback = fallback
        defer { BFloat16.forceFallback = false }
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer {
            BFloat16.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!, lda: lda,
                          b: bp.baseAddress!, ldb: ldb, beta: 1, c: $0.baseAddress!, ldc: n)
        } } }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0, mag = 0.0
                for p in 0..<k {
                    let av = Double(BFloat16.float(transA ? a[p * lda + i] : a[i * lda + p]))
                    let bv = Double(BFloat16.float(transB ? b[j * ldb + p] : b[p * ldb + j]))
                    s += av * bv; mag += abs(av * bv)
                }
                let want = 0.5 * s + Double(c0[i * n + j])
                worst = max(worst, abs(Double(c[i * n + j]) - want) / (0.5 * mag + abs(Double(c0[i * n + j]))))
            }
        }
        #expect(worst < 1e-4, "largest error relative to the absolute sum: \(worst) (native \(BFloat16.hasNativeGEMM), fallback \(fallback))")
    }
}
