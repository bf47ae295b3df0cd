import COpenBLAS

/// C = alpha · op(A) · op(B) + beta · C, row-major, through OpenBLAS `cblas_sgemm`.
///
/// op(A) is m×k, op(B) is k×n, C is m×n. `lda`, `ldb`, `ldc` are the row strides of
/// the stored (untransposed) matrices.
@inline(__always)
public func sgemm(transA: Bool = false, transB: Bool = false,
                  m: Int, n: Int, k: Int, alpha: Float = 1,
                  a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0,
                  c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor,
                transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The naive triple loop with the same contract as `sgemm`, accumulating in Double.
/// The reference the tests compare the BLAS path with.
public func naiveGemm(transA: Bool = false, transB: Bool = false,
                      m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += Double(av) * Double(bv)
            }
            let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            c[i * ldc + j] = Float(Double(alpha) * s + prior)
        }
    }
}

/// Process-wide BLAS settings.
public enum BLAS {
    /// Sets the OpenBLAS thread count (process-wide). Trials use 1.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    public static var threads: Int { Int(openblas_get_num_threads()) }

    nonisolated(unsafe) private static var warmed = false

    /// One 512×512×512 sgemm. OpenBLAS runs 1.5–3.6× slower for the whole process
    /// if its first sgemm is small (measured on this machine, DESIGN.md), so every
    /// entry point calls this once before training.
    public static func warmUp() {
        if warmed { return }
        warmed = true
        let n = 512
        let a = [Float](repeating: 0.5, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                sgemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: ap.baseAddress!, ldb: n,
                      c: cp.baseAddress!, ldc: n)
            }
        }
    }

    /// Name of the OpenBLAS kernel in use (e.g. "Haswell"), for session headers.
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }
    public static var configString: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }
}
