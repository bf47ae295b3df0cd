import CDNNL
import Synchronization

/// bfloat16: the upper 16 bits of an fp32 (8 exponent bits, 7 mantissa bits).
///
/// Conversions round to nearest even, as oneDNN's and PyTorch's do; NaN stays a
/// (quiet) NaN. A bf16 × bf16 product is exact in fp32, so a GEMM over bf16
/// operands with fp32 accumulation equals `sgemm` over the bf16-rounded floats up to
/// summation order: that is the fallback where oneDNN has no bf16 GEMM.
public enum BFloat16 {
    /// The bf16 bits of `x`, rounded to nearest even.
    @inline(__always)
    public static func bits(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        if b & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: b >> 16) | 0x40 }
        return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }

    /// The fp32 value of bf16 bits (exact).
    @inline(__always)
    public static func float(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    /// `x` rounded to the nearest bf16 value, as an fp32.
    @inline(__always)
    public static func rounded(_ x: Float) -> Float { float(bits(x)) }

    /// dst[i] = bits(src[i]), i < n; sixteen at a time.
    public static func convert(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<UInt16>, count n: Int) {
        let mask = SIMD16<UInt32>(repeating: 0x7FFF_FFFF), inf = SIMD16<UInt32>(repeating: 0x7F80_0000)
        let half = SIMD16<UInt32>(repeating: 0x7FFF), one = SIMD16<UInt32>(repeating: 1)
        let quiet = SIMD16<UInt32>(repeating: 0x40)
        var i = 0
        while i + 16 <= n {
            let b = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<UInt32>.self)
            let r = (b &+ half &+ ((b &>> 16) & one)) &>> 16
            let nan = (b & mask) .> inf
            let h = r.replacing(with: (b &>> 16) | quiet, where: nan)
            UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: h), as: SIMD16<UInt16>.self)
            i += 16
        }
        while i < n { dst[i] = bits(src[i]); i += 1 }
    }

    /// Whether oneDNN's bf16 GEMM answered on this machine (checked once, on a tiny
    /// product). False: `gemm` falls back to `sgemm` over the expanded values.
    public static let hasNativeGEMM: Bool = {
        BLAS.prepareThread()
        let a: [UInt16] = [bits(1.5), bits(-2)], b: [UInt16] = [bits(4), bits(0.25)]
        var c: [Float] = [0]
        let status = a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    dnnl_gemm_bf16bf16f32(0x4E, 0x4E, 1, 1, 2, 1, ap.baseAddress!, 2, bp.baseAddress!, 1, 0, cp.baseAddress!, 1)
                }
            }
        }
        return status == dnnl_success && c[0] == 5.5
    }()

    /// C = alpha · op(A) · op(B) + beta · C, row-major, A and B bf16 bits, C fp32:
    /// the contract of `sgemm`. When `hasNativeGEMM`: a cached oneDNN matmul primitive
    /// on AMX tiles where the CPU has them (`Matmul`, `tdpbf16ps`), else oneDNN
    /// `dnnl_gemm_bf16bf16f32` (avx512_bf16 `vdpbf16ps`), fp32 accumulation either way
    /// (in another order); otherwise `sgemm` over the expanded operands (allocates; the
    /// fallback is for CPUs without bf16 support).
    public static func gemm(transA: Bool = false, transB: Bool = false,
                            m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<UInt16>, lda: Int,
                            b: UnsafePointer<UInt16>, ldb: Int,
                            beta: Float = 0,
                            c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if hasNativeGEMM && !forceFallback {
            BLAS.prepareThread()
            GEMMProfile.timed(.bf16bf16f32, transA: transA, transB: transB, m: m, n: n, k: k) {
                let path = k > 0 ? Matmul.route(.bf16bf16f32, transA: transA, transB: transB, m: m, n: n, k: k) : .gemmAPI
                if path != .gemmAPI, Matmul.run(.bf16bf16f32, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, path: path) {
                    return path
                }
                let status = dnnl_gemm_bf16bf16f32(transA ? 0x54 : 0x4E, transB ? 0x54 : 0x4E, Int64(m), Int64(n), Int64(k),
                                                   alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
                precondition(status == dnnl_success, "BFloat16.gemm: oneDNN status \(status.rawValue) for \(m)×\(n)×\(k), lda \(lda) ldb \(ldb) ldc \(ldc)")
                return .gemmAPI
            }
            return
        }
        let aCount = transA ? k * lda : m * lda, bCount = transB ? n * ldb : k * ldb
        let af = (0..<aCount).map { float(a[$0]) }, bf = (0..<bCount).map { float(b[$0]) }
        af.withUnsafeBufferPointer { ap in
            bf.withUnsafeBufferPointer { bp in
                sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                      b: bp.baseAddress!, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    /// Forces the fallback (tests compare both paths); set only while nothing runs.
    private static let fallbackFlag = Atomic<Bool>(false)
    public static var forceFallback: Bool {
        get { fallbackFlag.load(ordering: .relaxed) }
        set { fallbackFlag.store(newValue, ordering: .relaxed) }
    }
}
