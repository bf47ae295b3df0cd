import COpenBLAS
import CDNNL
import Foundation
import Synchronization

/// C = alpha · op(A) · op(B) + beta · C, row-major, through oneDNN `dnnl_sgemm`.
///
/// op(A) is m×k, op(B) is k×n, C is m×n. `lda`, `ldb`, `ldc` are the row strides of
/// the stored (untransposed) matrices.
///
/// oneDNN rather than OpenBLAS: the environment pins OpenBLAS to its Haswell (AVX2)
/// kernels, oneDNN dispatches to AVX-512 itself. One thread, this machine (EPYC,
/// `quantlab bench sgemm`): 512³ 122 → 238 GFLOP/s, cifar3 conv2 64×16384×288
/// 103 → 203, conv3 128×4096×576 116 → 212 (DESIGN.md).
@inline(__always)
public func sgemm(transA: Bool = false, transB: Bool = false,
                  m: Int, n: Int, k: Int, alpha: Float = 1,
                  a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0,
                  c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    BLAS.prepareThread()
    if GEMMProfile.enabled {
        GEMMProfile.timed("f32", transA: transA, transB: transB, m: m, n: n, k: k) {
            dnnlSgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                      beta: beta, c: c, ldc: ldc)
            return "sgemm"
        }
        return
    }
    dnnlSgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c, ldc: ldc)
}

@inline(__always)
private func dnnlSgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                       a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                       beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let status = dnnl_sgemm(transA ? 0x54 : 0x4E, transB ? 0x54 : 0x4E,   // "T" / "N"
                            Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb),
                            beta, c, Int64(ldc))
    precondition(status == dnnl_success, "sgemm: oneDNN status \(status.rawValue) for \(m)×\(n)×\(k), lda \(lda) ldb \(ldb) ldc \(ldc)")
}

/// The same contract as `sgemm`, through OpenBLAS `cblas_sgemm` (Haswell kernels):
/// kept for `quantlab bench sgemm`, which compares the two libraries.
@inline(__always)
public func openBLASSgemm(transA: Bool = false, transB: Bool = false,
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

/// Process-wide compute-library settings: oneDNN (GEMMs) and OpenBLAS.
public enum BLAS {
    /// Read by every trial thread (`prepareThread`), written by `setThreads`: atomic,
    /// so the compiler accepts the sharing (it was `nonisolated(unsafe)`).
    private static let dnnlThreads = Atomic<Int32>(1)

    /// Sets the compute thread count. OpenBLAS's is process-wide; oneDNN runs on
    /// OpenMP, whose count is per thread: every thread applies it before its first
    /// oneDNN call (`prepareThread`). Trials use 1, for bit-identical results.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(n))
        dnnlThreads.store(Int32(max(1, n)), ordering: .relaxed)
        prepareThread()
    }
    public static var threads: Int { Int(dnnlThreads.load(ordering: .relaxed)) }

    /// Applies the thread count to the calling thread's OpenMP settings (once per
    /// thread and count; a thread-local compare afterwards).
    @inline(__always)
    public static func prepareThread() {
        quantlab_dnnl_thread_setup(dnnlThreads.load(ordering: .relaxed))
    }

    /// Set by the first `warmUp` (atomically: two threads calling it run one warm-up).
    private static let warmed = Atomic<Bool>(false)
    /// Set by the first `generateKernels`.
    private static let generated = Atomic<Bool>(false)

    /// oneDNN's one-time cost, paid here rather than inside a timed region: its first
    /// GEMM of the process, whatever the size, generates the JIT kernels, 33–55 ms of
    /// CPU on this machine (a C program: an 8×8×8 `dnnl_sgemm` first took 33 ms, the
    /// 512³ one after it 2.7 ms). That was half of every process's start-up while
    /// `Startup` warmed up eagerly, though most processes (help, data, config, the
    /// fuzz's command lines) never run a GEMM; now a trial calls this before it
    /// starts its clock, so the first epoch's measured CPU time does not carry it.
    /// `perf` names these samples `__itt_pt_write`: libdnnl is stripped and the
    /// generator's code follows that exported two-instruction function.
    /// The integer GEMMs generate theirs on first use too (`dnnl_gemm_u8s8s32` and
    /// `dnnl_gemm_s8s8s32` 5–8 ms each, a C program here), and the bf16 GEMM's check
    /// (`BFloat16.hasNativeGEMM`) runs one: inside a trial they were charged to the first
    /// epoch of whichever configuration used them first, whose measured time (`cost=time`)
    /// then depended on the order the configurations ran in.
    /// The kernels do not depend on the first call's shape, so results do not either.
    public static func generateKernels() {
        guard generated.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        let a = [Float](repeating: 0, count: 8 * 8)
        var c = a
        a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                sgemm(m: 8, n: 8, k: 8, a: ap.baseAddress!, lda: 8, b: ap.baseAddress!, ldb: 8, c: cp.baseAddress!, ldc: 8)
            }
        }
        let u = [UInt8](repeating: 0, count: 8 * 8), s = [Int8](repeating: 0, count: 8 * 8)
        var ci = [Int32](repeating: 0, count: 8 * 8)
        u.withUnsafeBufferPointer { up in
        s.withUnsafeBufferPointer { sp in
        ci.withUnsafeMutableBufferPointer { cp in
            gemmU8S8S32(m: 8, n: 8, k: 8, a: up.baseAddress!, lda: 8, b: sp.baseAddress!, ldb: 8, c: cp.baseAddress!, ldc: 8)
            gemmS8S8S32(m: 8, n: 8, k: 8, a: sp.baseAddress!, lda: 8, b: sp.baseAddress!, ldb: 8, c: cp.baseAddress!, ldc: 8)
        } } }
        _ = BFloat16.hasNativeGEMM
    }

    /// One 512×512×512 GEMM through each library, for `quantlab bench`, which times
    /// them: OpenBLAS runs 1.5–3.6× slower for the whole process if its first sgemm
    /// is small (DESIGN.md; only `bench sgemm` still calls OpenBLAS), and oneDNN
    /// generates its kernels on first use (`generateKernels`).
    public static func warmUp() {
        guard warmed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        generateKernels()
        let n = 512
        let a = [Float](repeating: 0.5, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        a.withUnsafeBufferPointer { ap in
            c.withUnsafeMutableBufferPointer { cp in
                openBLASSgemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: ap.baseAddress!, ldb: n,
                              c: cp.baseAddress!, ldc: n)
                sgemm(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: ap.baseAddress!, ldb: n,
                      c: cp.baseAddress!, ldc: n)
            }
        }
    }

    /// The compute kernels in use, for session headers and bench: oneDNN's
    /// instruction set and the OpenBLAS kernel, e.g. "oneDNN avx512_core_bf16, OpenBLAS Haswell".
    /// Results are bit-identical only for the same value (and thread count).
    public static var coreName: String { "oneDNN \(CPUDispatch.isaName), OpenBLAS \(openBLASCoreName)" }

    /// Name of the OpenBLAS kernel in use (e.g. "Haswell").
    public static var openBLASCoreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }
    public static var configString: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }
}
