import CBitKernels
import CTrainKernels

/// Vectorised elementwise kernels for the training hot loops.
///
/// On CPUs with AVX-512 (F, BW, VL) they run the C forms in `CTrainKernels`; elsewhere
/// (and as the reference the tests compare with) the portable loops in `Portable`.
/// Both compute the same selections and the same float operations, so results are
/// bit-identical. Swift compiles for generic x86-64, where `SIMD8<Float>` selects became
/// SSE compare-and-mask sequences with lane extracts (perf annotate, cifar3 training).
public enum Kernels {
    /// Whether this CPU runs the AVX-512 kernels (read once with cpuid).
    public static let hasAVX512: Bool = {
        let need = UInt32(QL_CPU_AVX512F) | UInt32(QL_CPU_AVX512BW) | UInt32(QL_CPU_AVX512VL)
        return ql_cpu_features() & need == need
    }()

    /// Whether the AVX-512 kernels may also use avx512dq (vpmullq: the g8 gradient
    /// codes' SplitMix64 draws take their `_avx512dq` forms, the same draws).
    public static let hasAVX512DQ: Bool = hasAVX512 && ql_cpu_features() & UInt32(QL_CPU_AVX512DQ) != 0

    /// dx[i] = y[i] > 0 ? dy[i] : 0  (ReLU backward from its output).
    @inline(__always)
    public static func maskPositive(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                    _ dx: UnsafeMutablePointer<Float>, count n: Int) {
        if hasAVX512 { ql_mask_positive_avx512(y, dy, dx, n); return }
        Portable.maskPositive(y, dy, dx, count: n)
    }

    /// dx[i] = lo ≤ x[i] ≤ hi ? dy[i] : 0  (straight-through estimator of a clip).
    @inline(__always)
    public static func maskInRange(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                   _ dx: UnsafeMutablePointer<Float>, count n: Int, lo: Float, hi: Float) {
        if hasAVX512 { ql_mask_in_range_avx512(x, dy, dx, n, lo, hi); return }
        Portable.maskInRange(x, dy, dx, count: n, lo: lo, hi: hi)
    }

    /// y[i] = max(x[i], 0).
    @inline(__always)
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        if hasAVX512 { ql_relu_avx512(x, y, n); return }
        Portable.relu(x, y, count: n)
    }

    /// The portable loops, over `SIMD8<Float>` because the scalar forms with a
    /// data-dependent select (`y > 0 ? g : 0`) compile to a compare-and-branch per
    /// element, which mispredicts on ReLU masks and ran 4× slower than memory bandwidth
    /// (perf, fmnist2).
    public enum Portable {
        public static func maskPositive(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                        _ dx: UnsafeMutablePointer<Float>, count n: Int) {
            let zero = SIMD8<Float>(repeating: 0)
            var i = 0
            while i + 8 <= n {
                let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
                let gv = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(dx + i).storeBytes(of: zero.replacing(with: gv, where: yv .> zero), as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { dx[i] = y[i] > 0 ? dy[i] : 0; i += 1 }
        }

        public static func maskInRange(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                       _ dx: UnsafeMutablePointer<Float>, count n: Int, lo: Float, hi: Float) {
            let zero = SIMD8<Float>(repeating: 0), l = SIMD8<Float>(repeating: lo), h = SIMD8<Float>(repeating: hi)
            var i = 0
            while i + 8 <= n {
                let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                let gv = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
                let keep = (xv .>= l) .& (xv .<= h)
                UnsafeMutableRawPointer(dx + i).storeBytes(of: zero.replacing(with: gv, where: keep), as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0; i += 1 }
        }

        public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
            let zero = SIMD8<Float>(repeating: 0)
            var i = 0
            while i + 8 <= n {
                let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(y + i).storeBytes(of: xv.replacing(with: zero, where: xv .< zero), as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { y[i] = Swift.max(x[i], 0); i += 1 }
        }
    }
}
