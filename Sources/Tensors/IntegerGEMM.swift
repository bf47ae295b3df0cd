import CDNNL

/// C = op(A) · op(B), row-major, A unsigned 8-bit, B signed 8-bit, C 32-bit,
/// through oneDNN `dnnl_gemm_u8s8s32` (no offsets, alpha 1, beta 0), or a cached
/// matmul primitive on AMX tiles where the CPU has them (`Matmul.route`; same integers).
///
/// op(A) is m×k, op(B) is k×n. Exact while `CPUDispatch.int8GEMMIsExact` holds for
/// the codes used (checked by the callers). One thread on this machine: 811 GOP/s at
/// 512³ against 238 GFLOP/s for `sgemm` (DESIGN.md).
@inline(__always)
public func gemmU8S8S32(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                        a: UnsafePointer<UInt8>, lda: Int, b: UnsafePointer<Int8>, ldb: Int,
                        c: UnsafeMutablePointer<Int32>, ldc: Int) {
    if m == 0 || n == 0 { return }
    BLAS.prepareThread()
    GEMMProfile.timed(.u8s8s32, transA: transA, transB: transB, m: m, n: n, k: k) {
        let path = k > 0 ? Matmul.route(.u8s8s32, transA: transA, transB: transB, m: m, n: n, k: k) : .gemmAPI
        if path != .gemmAPI, Matmul.run(.u8s8s32, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b,
                                        ldb: ldb, c: c, ldc: ldc, path: path) { return path }
        var zero: Int32 = 0
        let status = dnnl_gemm_u8s8s32(transA ? 0x54 : 0x4E, transB ? 0x54 : 0x4E, 0x46,   // "T"/"N", offset "F"
                                       Int64(m), Int64(n), Int64(k), 1, a, Int64(lda), 0, b, Int64(ldb), 0,
                                       0, c, Int64(ldc), &zero)
        precondition(status == dnnl_success, "gemmU8S8S32: oneDNN status \(status.rawValue) for \(m)×\(n)×\(k), lda \(lda) ldb \(ldb) ldc \(ldc)")
        return .gemmAPI
    }
}

/// The naive loop with the contract of `gemmU8S8S32`, accumulating in Int64 (and
/// trapping if a sum leaves Int32): the reference the tests compare with.
public func naiveGemmU8S8S32(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             a: UnsafePointer<UInt8>, lda: Int, b: UnsafePointer<Int8>, ldb: Int,
                             c: UnsafeMutablePointer<Int32>, ldc: Int) {
    naiveIntegerGemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
}

/// C = op(A) · op(B), row-major, A and B signed 8-bit, C 32-bit, through oneDNN
/// `dnnl_gemm_s8s8s32` (no offsets, alpha 1, beta 0): the int8 backward GEMMs of
/// `grad=8` (weight codes × gradient codes).
///
/// oneDNN's gemm API shifts A by +128 to u8 and compensates, so the products are
/// those of `gemmU8S8S32` with |A| ≤ 255: exact while `CPUDispatch.int8GEMMIsExact(maxA:
/// 255, maxB:, k:)` holds (VNNI; checked by the callers). On AMX (`Matmul`) the tiles
/// multiply s8 × s8 into int32 directly, exact under the same bound.
@inline(__always)
public func gemmS8S8S32(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                        a: UnsafePointer<Int8>, lda: Int, b: UnsafePointer<Int8>, ldb: Int,
                        c: UnsafeMutablePointer<Int32>, ldc: Int) {
    if m == 0 || n == 0 { return }
    BLAS.prepareThread()
    GEMMProfile.timed(.s8s8s32, transA: transA, transB: transB, m: m, n: n, k: k) {
        let path = k > 0 ? Matmul.route(.s8s8s32, transA: transA, transB: transB, m: m, n: n, k: k) : .gemmAPI
        if path != .gemmAPI, Matmul.run(.s8s8s32, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b,
                                        ldb: ldb, c: c, ldc: ldc, path: path) { return path }
        var zero: Int32 = 0
        let status = dnnl_gemm_s8s8s32(transA ? 0x54 : 0x4E, transB ? 0x54 : 0x4E, 0x46,
                                       Int64(m), Int64(n), Int64(k), 1, a, Int64(lda), 0, b, Int64(ldb), 0,
                                       0, c, Int64(ldc), &zero)
        precondition(status == dnnl_success, "gemmS8S8S32: oneDNN status \(status.rawValue) for \(m)×\(n)×\(k), lda \(lda) ldb \(ldb) ldc \(ldc)")
        return .gemmAPI
    }
}

/// The naive loop with the contract of `gemmS8S8S32`, accumulating in Int64: the
/// reference the tests compare with.
public func naiveGemmS8S8S32(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Int8>, lda: Int, b: UnsafePointer<Int8>, ldb: Int,
                             c: UnsafeMutablePointer<Int32>, ldc: Int) {
    naiveIntegerGemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
}

/// The Int64 triple loop behind both naive references (traps if a sum leaves Int32).
private func naiveIntegerGemm<A: BinaryInteger, B: BinaryInteger>(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<A>, lda: Int,
    b: UnsafePointer<B>, ldb: Int, c: UnsafeMutablePointer<Int32>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var s: Int64 = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += Int64(av) * Int64(bv)
            }
            c[i * ldc + j] = Int32(s)
        }
    }
}
