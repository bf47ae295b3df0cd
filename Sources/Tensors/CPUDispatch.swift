import CDNNL
import CBitKernels

/// The instruction set oneDNN dispatches to on this CPU, chosen by oneDNN at run
/// time: AVX-512 with AMX on the Xeon these figures come from (AVX-512 VNNI and BF16
/// on the EPYC, AVX2 on older machines). `DNNL_MAX_CPU_ISA` in the environment caps
/// it (`AVX512_CORE_BF16` for the kernels before AMX, `AVX2` for the fallbacks).
/// quantlab capped it at AVX-512 BF16 until AMX paid through `Matmul`: oneDNN's gemm
/// API runs int8 slower with AMX than with VNNI, and sgemm uses no AMX (its bits are
/// the same either way). Results are bit-identical for one instruction set and
/// thread count; the session header and `quantlab bench` name it.
public enum CPUDispatch {
    /// oneDNN's raw ISA value (`dnnl_cpu_isa_t`).
    public static var isa: UInt32 { dnnl_get_effective_cpu_isa().rawValue }

    /// "avx512_core_bf16", "avx512_core_vnni", "avx2", … .
    public static var isaName: String {
        switch isa {
        case 0x1: return "sse41"
        case 0x3: return "avx"
        case 0x7: return "avx2"
        case 0x407: return "avx2_vnni"
        case 0x27: return "avx512_core"
        case 0x67: return "avx512_core_vnni"
        case 0xe7: return "avx512_core_bf16"
        case 0x3e7: return "avx512_core_amx"
        default: return "isa 0x" + String(isa, radix: 16)
        }
    }

    /// Whether u8×s8 products accumulate straight into int32 (VNNI `vpdpbusd`).
    /// Without VNNI oneDNN adds pairs of products in saturating int16 first
    /// (`vpmaddubsw`), which is exact only while 2·maxA·maxB ≤ 32767.
    public static var hasVNNI: Bool { isa & 0x40 != 0 || isa & 0x400 != 0 }

    /// Whether oneDNN runs AMX (`avx512_core_amx`: amx_int8 and amx_bf16 tiles). Its
    /// int8 tiles (`tdpbusd`, `tdpbssd`) add each product into int32 accumulators,
    /// exact as VNNI is; `Matmul` routes the int8 and bf16 GEMMs through them.
    public static var hasAMX: Bool { isa & 0x3e7 == 0x3e7 }

    /// Whether `gemmU8S8S32` is exact for activation codes 0…maxA, weight codes
    /// −maxB…maxB and inner dimension k: no int16 saturation (see `hasVNNI`) and
    /// no int32 overflow.
    public static func int8GEMMIsExact(maxA: Int, maxB: Int, k: Int) -> Bool {
        guard maxA <= 255, maxB <= 127, k * maxA * maxB < Int(Int32.max) else { return false }
        return hasVNNI || 2 * maxA * maxB <= 32767
    }
}

/// The CPU's instruction-set extensions, read once with cpuid (CBitKernels), for the
/// kernels quantlab dispatches itself (XNOR-popcount) and for the session header.
public enum CPUFeatures {
    /// Feature bits of `ql_cpu_features`.
    public static let bits: UInt32 = ql_cpu_features()

    /// Names of the features that matter here, present on this CPU, in a fixed order.
    public static var names: [String] {
        var table: [(Int, String)] = []
        table.append((Int(QL_CPU_AVX2), "avx2")); table.append((Int(QL_CPU_FMA), "fma"))
        table.append((Int(QL_CPU_AVX512F), "avx512f")); table.append((Int(QL_CPU_AVX512BW), "avx512bw"))
        table.append((Int(QL_CPU_AVX512_VNNI), "avx512_vnni")); table.append((Int(QL_CPU_AVX512_BF16), "avx512_bf16"))
        table.append((Int(QL_CPU_AVX512_VPOPCNTDQ), "avx512_vpopcntdq")); table.append((Int(QL_CPU_AVX_VNNI), "avx_vnni"))
        table.append((Int(QL_CPU_AMX_INT8), "amx_int8")); table.append((Int(QL_CPU_AMX_BF16), "amx_bf16"))
        return table.filter { Int(bits) & $0.0 != 0 }.map(\.1)
    }

    /// One line for headers and bench: the features and the kernels chosen, e.g.
    /// "avx2 fma avx512f … amx_int8; int8 oneDNN avx512_core_amx matmul, bf16 oneDNN
    /// matmul, xnor avx512_vpopcntdq" (`matmul`: primitives on AMX tiles, see `Matmul`;
    /// `gemm`: oneDNN's gemm API, as on CPUs without AMX).
    public static var summary: String {
        let list = names.isEmpty ? "none of avx2/avx512" : names.joined(separator: " ")
        let api = CPUDispatch.hasAMX ? "matmul" : "gemm"
        let bf16 = BFloat16.hasNativeGEMM ? "oneDNN \(api)" : "sgemm fallback"
        return "\(list); int8 oneDNN \(CPUDispatch.isaName) \(api), bf16 \(bf16), xnor \(XNORLevel.best.name)"
    }
}
