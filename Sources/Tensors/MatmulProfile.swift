import Foundation
import Synchronization

/// `QUANTLAB_GEMM_PROFILE=1` in the environment: every int8, bf16 and f32 GEMM is timed
/// (thread CPU seconds) and summed per kind, path, transposes and shape; the table
/// goes to standard error when the process exits, slowest total first. For the shape
/// table of the README's "AMX" section: run the same `quantlab bench NET.PRECISION`
/// with and without `DNNL_MAX_CPU_ISA=AVX512_CORE_BF16` (the kernels before AMX).
/// The f32 rows (`sgemm`, path `sgemm`) are for the README's float GEMM table.
enum GEMMProfile {
    static let enabled: Bool = {
        guard getenv("QUANTLAB_GEMM_PROFILE") != nil else { return false }
        atexit { GEMMProfile.printTable() }
        return true
    }()

    struct Row: Hashable {
        var kind: String, path: String, transA: Bool, transB: Bool, m: Int, n: Int, k: Int
    }
    private static let totals = Mutex<[Row: (calls: Int, seconds: Double)]>([:])

    /// Runs `body` (which returns the path it took) and adds its thread CPU time to
    /// the row of this GEMM.
    @inline(__always)
    static func timed(_ kind: Matmul.Kind, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                      _ body: () -> Matmul.Path) {
        guard enabled else { _ = body(); return }
        let name = kind == .u8s8s32 ? "u8s8s32" : kind == .s8s8s32 ? "s8s8s32" : "bf16"
        timed(name, transA: transA, transB: transB, m: m, n: n, k: k) { "\(body())" }
    }

    /// The same for a GEMM of kind `name` ("f32") whose `body` returns its path's name.
    static func timed(_ name: String, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, _ body: () -> String) {
        let t0 = threadCPUSeconds()
        let path = body()
        let seconds = threadCPUSeconds() - t0
        let row = Row(kind: name, path: path, transA: transA, transB: transB, m: m, n: n, k: k)
        totals.withLock { $0[row, default: (0, 0)].calls += 1; $0[row, default: (0, 0)].seconds += seconds }
    }

    /// "kind path tA tB m×n×k calls ms GOP/s", slowest total first.
    static func table() -> [String] {
        totals.withLock { rows in
            rows.sorted { $0.value.seconds > $1.value.seconds }.map { row, t in
                let ops = 2.0 * Double(row.m * row.n * row.k) * Double(t.calls)
                return "\(row.kind) \(row.path) \(row.transA ? "T" : "N")\(row.transB ? "T" : "N") \(row.m)x\(row.n)x\(row.k) "
                    + "calls \(t.calls) ms \(String(format: "%.1f", t.seconds * 1e3)) G/s \(String(format: "%.0f", ops / t.seconds / 1e9))"
            }
        }
    }

    static func printTable() {
        FileHandle.standardError.write(("# GEMM profile (QUANTLAB_GEMM_PROFILE, isa \(CPUDispatch.isaName))\n"
            + table().joined(separator: "\n") + "\n").data(using: .utf8)!)
    }
}
