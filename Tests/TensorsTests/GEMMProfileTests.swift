import Testing
@testable import Tensors

/// `QUANTLAB_GEMM_PROFILE`'s table: a float GEMM's row names its kind, path, transposes
/// and shape, counts its calls and gives its rate from the summed CPU time.
@Suite struct GEMMProfileTests {
    @Test func floatRowsCountCallsAndRate() {
        // A shape no other test profiles, so the row is this test's alone.
        let (m, n, k) = (3, 5, 977)
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        for _ in 0..<3 {
            GEMMProfile.timed("f32", transA: false, transB: true, m: m, n: n, k: k) {
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            sgemm(transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k,
                                  c: cp.baseAddress!, ldc: n)
                        }
                    }
                }
                return "sgemm"
            }
        }
        #expect(c.allSatisfy { $0 == Float(k) * 0.125 }, "0.5 · 0.25 summed \(k) times is exact")
        let rows = GEMMProfile.table().filter { $0.hasPrefix("f32 sgemm NT 3x5x977 ") }
        #expect(rows.count == 1, "\(GEMMProfile.table())")
        guard let row = rows.first else { return }
        let fields = row.split(separator: " ")
        #expect(fields.count == 10 && fields[4] == "calls" && fields[5] == "3" && fields[6] == "ms" && fields[8] == "G/s", "\(row)")
        if fields.count == 10, let ms = Double(fields[7]), let rate = Double(fields[9]) {
            #expect(ms >= 0 && rate >= 0, "\(row)")
        }
    }
}
