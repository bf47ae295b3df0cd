import Testing
import Foundation
import Tensors

/// The int8 and bf16 GEMMs on the path `Matmul.route` picks (oneDNN matmul
/// primitives with AMX on a CPU that has it, the gemm API elsewhere): int8 exact
/// against the Int64 loops for every transpose, odd sizes, padded leading
/// dimensions, extreme codes and a long k; bf16 against a Double loop over the bf16
/// values within 1e-4 of the absolute sum (products of bf16 values are exact in
/// fp32, only the fp32 summation order differs); cached primitives reused with new
/// data and from two threads at once.
@Suite struct MatmulTests {
    static func bytes(_ count: Int, seed: UInt64, range: ClosedRange<Int>) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { i in
            i == 0 ? range.lowerBound : i == 1 ? range.upperBound : range.lowerBound + rng.nextInt(below: range.count)
        }
    }

    /// C (m×n, row stride ldc) from both GEMMs, through the fast path and the Int64 loop;
    /// the entries past n in each row must stay untouched.
    static func int8Pair(signedA: Bool, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, pad: Int,
                         seed: UInt64) -> (fast: [Int32], naive: [Int32]) {
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad
        let a = bytes((transA ? k : m) * lda, seed: seed, range: signedA ? -127...127 : 0...255)
        let b = bytes((transB ? n : k) * ldb, seed: seed + 1, range: -127...127).map { Int8($0) }
        return products(signedA: signedA, transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                        ldc: n + pad)
    }

    /// op(A)·op(B) through `gemmU8S8S32` (or `gemmS8S8S32` when `signedA`) and its Int64 loop.
    static func products(signedA: Bool, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [Int], lda: Int,
                         b: [Int8], ldb: Int, ldc: Int) -> (fast: [Int32], naive: [Int32]) {
        var fast = [Int32](repeating: 7, count: m * ldc), naive = fast
        func run<A>(_ a8: [A], _ gemm: (Bool, Bool, Int, Int, Int, UnsafePointer<A>, Int, UnsafePointer<Int8>, Int,
                                        UnsafeMutablePointer<Int32>, Int) -> Void,
                    _ reference: (Bool, Bool, Int, Int, Int, UnsafePointer<A>, Int, UnsafePointer<Int8>, Int,
                                  UnsafeMutablePointer<Int32>, Int) -> Void) {
            a8.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                fast.withUnsafeMutableBufferPointer {
                    gemm(transA, transB, m, n, k, ap.baseAddress!, lda, bp.baseAddress!, ldb, $0.baseAddress!, ldc)
                }
                naive.withUnsafeMutableBufferPointer {
                    reference(transA, transB, m, n, k, ap.baseAddress!, lda, bp.baseAddress!, ldb, $0.baseAddress!, ldc)
                }
            } }
        }
        if signedA {
            run(a.map { Int8($0) }, { gemmS8S8S32(transA: $0, transB: $1, m: $2, n: $3, k: $4, a: $5, lda: $6, b: $7, ldb: $8, c: $9, ldc: $10) },
                { naiveGemmS8S8S32(transA: $0, transB: $1, m: $2, n: $3, k: $4, a: $5, lda: $6, b: $7, ldb: $8, c: $9, ldc: $10) })
        } else {
            run(a.map { UInt8($0) }, { gemmU8S8S32(transA: $0, transB: $1, m: $2, n: $3, k: $4, a: $5, lda: $6, b: $7, ldb: $8, c: $9, ldc: $10) },
                { naiveGemmU8S8S32(transA: $0, transB: $1, m: $2, n: $3, k: $4, a: $5, lda: $6, b: $7, ldb: $8, c: $9, ldc: $10) })
        }
        return (fast, naive)
    }

    static func firstDifference(_ x: [Int32], _ y: [Int32]) -> String? {
        guard let i = x.indices.first(where: { x[$0] != y[$0] }) else { return nil }
        return "index \(i): \(x[i]) vs \(y[i])"
    }

    @Test(.enabled(if: CPUDispatch.hasVNNI, "u8 0…255 and s8 −127…127 in full are exact with VNNI or AMX"),
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func int8ExactEveryTranspose(transA: Bool, transB: Bool) {
        // Odd sizes on both sides of the AMX tile sizes (16 rows, 64 bytes of k), padded strides.
        for (signedA, m, n, k, pad) in [(false, 37, 19, 300, 0), (true, 23, 17, 290, 3), (false, 1, 1, 1, 0),
                                        (true, 65, 33, 129, 5), (false, 200, 70, 577, 1), (true, 16, 64, 64, 0)] {
            let r = Self.int8Pair(signedA: signedA, transA: transA, transB: transB, m: m, n: n, k: k, pad: pad, seed: UInt64(m * k))
            #expect(Self.firstDifference(r.fast, r.naive) == nil,
                    "\(signedA ? "s8" : "u8")×s8 \(m)×\(n)×\(k) pad \(pad) trans \(transA)/\(transB): \(Self.firstDifference(r.fast, r.naive) ?? "")")
        }
    }

    /// The largest sums that fit, odd (not a float): 255 · (−127) · 66,001 = −2,137,442,385
    /// and −127 · 127 · 66,001, in every entry, with k far past any blocking; small m
    /// (oneDNN picks AVX-512 VNNI brgemm there) and a forward-sized m (AMX tiles).
    /// k = 518 (m = 3): the largest k at which an s8 source may take oneDNN's VNNI brgemm.
    @Test(.enabled(if: CPUDispatch.hasVNNI, "needs VNNI or AMX"),
          arguments: [(3, false, 66_001), (3, true, 66_001), (64, false, 66_001), (64, true, 66_001), (3, false, 518)])
    func int8ExtremesLongK(m: Int, transA: Bool, k: Int) {
        let n = 5
        #expect(CPUDispatch.int8GEMMIsExact(maxA: 255, maxB: 127, k: k))
        let a = [UInt8](repeating: 255, count: m * k), b = [Int8](repeating: -127, count: k * n)
        var c = [Int32](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            gemmU8S8S32(transA: transA, m: m, n: n, k: k, a: ap.baseAddress!, lda: transA ? m : k, b: bp.baseAddress!, ldb: n,
                        c: cp.baseAddress!, ldc: n)
        } } }
        #expect(c.allSatisfy { $0 == -255 * 127 * Int32(k) }, "u8: \(c[0]) for \(-255 * 127 * k)")
        let s = [Int8](repeating: -127, count: m * k), t = [Int8](repeating: 127, count: k * n)
        s.withUnsafeBufferPointer { ap in t.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            gemmS8S8S32(transA: transA, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: transA ? m : k,
                        b: bp.baseAddress!, ldb: k, c: cp.baseAddress!, ldc: n)
        } } }
        #expect(c.allSatisfy { $0 == -127 * 127 * Int32(k) }, "s8: \(c[0]) for \(-127 * 127 * k)")
        // +127 · +127: the source's +128 shift makes 255 · 127 per product inside oneDNN.
        let p = [Int8](repeating: 127, count: m * k)
        p.withUnsafeBufferPointer { ap in t.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            gemmS8S8S32(transA: transA, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: transA ? m : k,
                        b: bp.baseAddress!, ldb: k, c: cp.baseAddress!, ldc: n)
        } } }
        #expect(c.allSatisfy { $0 == 127 * 127 * Int32(k) }, "s8: \(c[0]) for \(127 * 127 * k)")
    }

    /// The same B (weights) on many calls with new A, as a forward pass over chunks of a
    /// batch: after the first call B is reordered once and reused ("packed"); a changed
    /// B (the next step's weights, in place) and a changed A must both show.
    @Test(arguments: [false, true])
    func reusedWeightsStayExact(signedA: Bool) {
        let m = 96, n = 64, k = 288
        var b = Self.bytes(n * k, seed: 5, range: -127...127).map { Int8($0) }
        for step in 0..<3 {
            if step > 0 { b[step * 7] = b[step * 7] == 127 ? -127 : 127 }   // the weights change in place
            for chunk in 0..<4 {
                let a = Self.bytes(m * k, seed: UInt64(10 * step + chunk), range: signedA ? -127...127 : 0...255)
                let (fast, naive) = Self.products(signedA: signedA, transA: false, transB: true, m: m, n: n, k: k,
                                                  a: a, lda: k, b: b, ldb: k, ldc: n)
                #expect(Self.firstDifference(fast, naive) == nil, "step \(step) chunk \(chunk): \(Self.firstDifference(fast, naive) ?? "")")
            }
        }
    }

    /// The backward GEMMs of a dense layer over a batch of 64 (fmnist2's dense1: dx
    /// 64×3136×128, dQ(W) 128×3136×64) and k at the edge of the VNNI rule (128, 129),
    /// full-range codes: exact on the kernels `Matmul.Kind.preferredKernel` picks.
    @Test(.enabled(if: CPUDispatch.hasVNNI, "u8 0…255 and s8 −127…127 in full are exact with VNNI or AMX"),
          arguments: [(true, 64, 3136, 128), (true, 128, 3136, 64), (false, 64, 3136, 128), (true, 40, 300, 129),
                      (false, 33, 70, 128), (true, 17, 96, 129)])
    func int8ExactShortK(signedA: Bool, m: Int, n: Int, k: Int) {
        for transA in [false, true] {
            let r = Self.int8Pair(signedA: signedA, transA: transA, transB: false, m: m, n: n, k: k, pad: 0, seed: UInt64(m + n + k))
            #expect(Self.firstDifference(r.fast, r.naive) == nil,
                    "\(signedA ? "s8" : "u8")×s8 \(m)×\(n)×\(k) transA \(transA): \(Self.firstDifference(r.fast, r.naive) ?? "")")
        }
    }

    /// A cached primitive called again with other buffers and values gives their product.
    @Test func cachedPrimitiveTakesNewBuffers() {
        for seed in [UInt64(11), 12, 13] {
            let r = Self.int8Pair(signedA: false, transA: false, transB: true, m: 96, n: 64, k: 288, pad: 0, seed: seed)
            #expect(Self.firstDifference(r.fast, r.naive) == nil, "seed \(seed)")
        }
    }

    /// Two threads, each with its own primitives and stream, several shapes at once.
    @Test func concurrentThreadsStayExact() async {
        let failures = await withTaskGroup(of: [String].self) { group in
            for t in 0..<2 {
                group.addTask {
                    var bad: [String] = []
                    for i in 0..<6 {
                        let (m, n, k) = [(48, 64, 288), (33, 20, 100), (128, 16, 576)][(i + t) % 3]
                        let r = Self.int8Pair(signedA: i % 2 == 1, transA: i % 3 == 0, transB: true, m: m, n: n, k: k,
                                              pad: t, seed: UInt64(100 * t + i))
                        if let d = Self.firstDifference(r.fast, r.naive) { bad.append("thread \(t) step \(i): \(d)") }
                    }
                    return bad
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func bf16AgainstDoubleLoop(transA: Bool, transB: Bool) {
        for (m, n, k, alpha, beta, pad) in [(37, 70, 300, Float(1), Float(0), 0), (64, 288, 193, 0.5, 1, 3),
                                            (5, 3, 1, 2, 0, 1), (130, 31, 64, 1, 1, 0)] {
            let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
            var rng = SplitMix64(seed: UInt64(m + n + k))
            let a = (0..<((transA ? k : m) * lda)).map { _ in BFloat16.bits(rng.nextNormal()) }
            let b = (0..<((transB ? n : k) * ldb)).map { _ in BFloat16.bits(rng.nextNormal()) }
            let c0 = (0..<(m * ldc)).map { _ in rng.nextNormal() }
            var c = c0
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer {
                BFloat16.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, lda: lda,
                              b: bp.baseAddress!, ldb: ldb, beta: beta, c: $0.baseAddress!, ldc: ldc)
            } } }
            var worst = 0.0, padding = 0
            for i in 0..<m {
                for j in 0..<ldc {
                    guard j < n else { padding += c[i * ldc + j] == c0[i * ldc + j] ? 0 : 1; continue }
                    var s = 0.0, mag = 0.0
                    for p in 0..<k {
                        let av = Double(BFloat16.float(transA ? a[p * lda + i] : a[i * lda + p]))
                        let bv = Double(BFloat16.float(transB ? b[j * ldb + p] : b[p * ldb + j]))
                        s += av * bv; mag += abs(av * bv)
                    }
                    let prior = Double(beta) * Double(c0[i * ldc + j])
                    let want = Double(alpha) * s + prior
                    worst = max(worst, abs(Double(c[i * ldc + j]) - want) / (Double(alpha) * mag + abs(prior) + 1e-30))
                }
            }
            #expect(worst < 1e-4, "\(m)×\(n)×\(k) α \(alpha) β \(beta) trans \(transA)/\(transB): relative error \(worst)")
            #expect(padding == 0, "\(padding) entries past n changed")
        }
    }

    /// On a CPU with AMX the GEMMs run on AMX brgemm kernels; elsewhere the gemm API.
    @Test func kernelsNamed() {
        let forward = Matmul.implementation(.u8s8s32, transA: false, transB: true, m: 768, n: 64, k: 288, lda: 288, ldb: 288, ldc: 64)
        let bf16 = Matmul.implementation(.bf16bf16f32, transA: true, transB: false, m: 288, n: 768, k: 64, lda: 288, ldb: 768, ldc: 768)
        // s8 sources with long k: AMX tiles or the gemm API, never the VNNI brgemm (see `Matmul.Kind`).
        let longS8 = Matmul.implementation(.s8s8s32, transA: false, transB: true, m: 3, n: 5, k: 66_001, lda: 66_001, ldb: 66_001, ldc: 5)
        #expect(longS8 == nil || longS8!.hasPrefix("brg:avx512_core_amx"), "\(longS8 ?? "")")
        // Inner dimension ≤ 128: the VNNI brgemm (`Matmul.Kind.preferredKernel`); 129: AMX.
        let shortK = Matmul.implementation(.s8s8s32, transA: false, transB: false, m: 64, n: 3136, k: 128, lda: 128, ldb: 3136, ldc: 3136)
        let edgeK = Matmul.implementation(.u8s8s32, transA: false, transB: false, m: 64, n: 3136, k: 129, lda: 129, ldb: 3136, ldc: 3136)
        if CPUDispatch.hasAMX {
            #expect(shortK == "brg:avx512_core_vnni", "\(shortK ?? "gemm API")")
            #expect(edgeK == "brg:avx512_core_amx_int8", "\(edgeK ?? "gemm API")")
            #expect(forward == "brg:avx512_core_amx_int8")
            #expect(bf16 == "brg:avx512_core_amx_bf16")
            #expect(CPUFeatures.summary.contains("int8 oneDNN avx512_core_amx matmul"), "\(CPUFeatures.summary)")
        } else {
            #expect(forward == nil && bf16 == nil && shortK == nil && edgeK == nil)
            #expect(CPUFeatures.summary.contains("int8 oneDNN \(CPUDispatch.isaName) gemm"), "\(CPUFeatures.summary)")
        }
    }
}
