import Testing
import Tensors

/// `gemmU8S8S32` (oneDNN) against `naiveGemmU8S8S32` (Int64 loop): exact, over the
/// full code ranges u8 0…255 × s8 −127…127 when the CPU has VNNI (0…127 otherwise,
/// inside the int16 saturation bound), every transpose combination.
@Suite struct IntegerGEMMTests {
    static func codes(_ count: Int, seed: UInt64, range: ClosedRange<Int>) -> [Int] {
        var rng = SplitMix64(seed: seed)
        // Extremes first, so both ends of the range are always exercised.
        return (0..<count).map { i in
            i == 0 ? range.lowerBound : i == 1 ? range.upperBound
                : range.lowerBound + rng.nextInt(below: range.count)
        }
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func u8s8s32MatchesNaive(transA: Bool, transB: Bool) {
        let m = 37, n = 19, k = 300
        let maxA = CPUDispatch.hasVNNI ? 255 : 127, maxB = 127
        let a = Self.codes(m * k, seed: 1, range: 0...maxA).map { UInt8($0) }
        let b = Self.codes(k * n, seed: 2, range: -maxB...maxB).map { Int8($0) }
        let lda = transA ? m : k, ldb = transB ? k : n
        var fast = [Int32](repeating: 7, count: m * n), naive = fast
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
            fast.withUnsafeMutableBufferPointer { cp in
                gemmU8S8S32(transA: transA, transB: transB, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda,
                            b: bp.baseAddress!, ldb: ldb, c: cp.baseAddress!, ldc: n)
            }
            naive.withUnsafeMutableBufferPointer { cp in
                naiveGemmU8S8S32(transA: transA, transB: transB, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda,
                                 b: bp.baseAddress!, ldb: ldb, c: cp.baseAddress!, ldc: n)
            }
        } }
        let firstDiff = fast.indices.first { fast[$0] != naive[$0] }
        #expect(firstDiff == nil, "first difference at \(firstDiff ?? -1): \(firstDiff.map { "\(fast[$0]) vs \(naive[$0])" } ?? "")")
        // The naive loop against the definition, element (3, 5).
        var s = 0
        for p in 0..<k {
            let av = Int(transA ? a[p * lda + 3] : a[3 * lda + p]), bv = Int(transB ? b[5 * ldb + p] : b[p * ldb + 5])
            s += av * bv
        }
        #expect(Int(naive[3 * n + 5]) == s)
    }

    /// The largest products in every position: 255 · (−127) · k, where int16 pair
    /// sums would saturate without VNNI.
    @Test(.enabled(if: CPUDispatch.hasVNNI, "needs VNNI"))
    func u8s8s32ExtremesExactWithVNNI() {
        let m = 4, n = 3, k = 1000
        let a = [UInt8](repeating: 255, count: m * k), b = [Int8](repeating: -127, count: k * n)
        var c = [Int32](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            gemmU8S8S32(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
        } } }
        #expect(c.allSatisfy { $0 == -255 * 127 * 1000 }, "\(c)")
    }

    @Test func exactnessBounds() {
        #expect(!CPUDispatch.int8GEMMIsExact(maxA: 256, maxB: 1, k: 1))
        #expect(!CPUDispatch.int8GEMMIsExact(maxA: 1, maxB: 128, k: 1))
        #expect(!CPUDispatch.int8GEMMIsExact(maxA: 255, maxB: 127, k: 70_000))   // 255·127·70000 > 2³¹
        #expect(CPUDispatch.int8GEMMIsExact(maxA: 15, maxB: 7, k: 4608))          // w4a4: 2·15·7 ≤ 32767 on any ISA
        #expect(CPUDispatch.int8GEMMIsExact(maxA: 255, maxB: 127, k: 576) == CPUDispatch.hasVNNI)
    }

    @Test func isaIsNamed() {
        #expect(!CPUDispatch.isaName.hasPrefix("isa "), "unknown oneDNN ISA \(CPUDispatch.isaName)")
        #expect(BLAS.coreName.hasPrefix("oneDNN \(CPUDispatch.isaName), OpenBLAS "))
    }
}
