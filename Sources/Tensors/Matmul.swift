import CDNNL
import Glibc

/// oneDNN matmul primitives for the int8 and bf16 GEMMs (`gemmU8S8S32`,
/// `gemmS8S8S32`, `BFloat16.gemm`) where the CPU has AMX.
///
/// With oneDNN's instruction set no longer capped below AMX (`CPUDispatch`), its
/// gemm API runs int8 through AMX kernels that were 2–10× slower than the AVX-512
/// VNNI ones for quantlab's shapes, while the matmul primitive's brgemm kernels
/// (`brg:avx512_core_amx_int8`, `…_bf16`) ran the forward shapes 1.2–2.2× faster
/// than VNNI and bf16 2.5–5.7× faster than the capped bf16 gemm API (the figures are in
/// the README's "AMX matmul" section). `route` decides per GEMM; every path is exact for
/// int8 (int32 accumulation), and bf16 differs from the gemm API by summation order.
///
/// A primitive is made once per (kind, shape, transposes, strides, alpha, beta,
/// thread count) and kept per thread, with the thread's own engine and stream;
/// trials on separate threads share nothing here.
public enum Matmul {
    public enum Kind: Int32, Sendable {
        case u8s8s32 = 0, s8s8s32 = 1, bf16bf16f32 = 2

        /// The start of the implementation names taken for this kind and inner dimension;
        /// others go to the gemm API. Any brgemm kernel for u8 and bf16 sources. For s8
        /// sources, oneDNN 2.6's AVX-512 VNNI brgemm (its choice for small m, e.g. 16, or
        /// small k) adds the +128 compensation in fp32, which rounds sums past 2²⁴ (a C
        /// test: −1,064,530,112 for −1,064,530,129 at k = 66,001); it is exact while
        /// k · 255 · 127 < 2²⁴ (k ≤ 518), past that only the AMX tiles, which multiply
        /// s8 × s8 straight into int32, are taken.
        func requiredKernel(k: Int) -> String {
            self == .s8s8s32 && k * 255 * 127 >= 1 << 24 ? "brg:avx512_core_amx" : "brg:"
        }

        /// The implementation taken when oneDNN offers it ("": oneDNN's first choice,
        /// AMX where present). An int8 GEMM with inner dimension k ≤ 128 takes the AVX-512
        /// VNNI brgemm: one or two 64-byte AMX tile products per output tile leave the
        /// tile loads and stores to dominate, and the backward GEMMs of a dense layer
        /// over a batch of 64 (fmnist2's dense1, 64×3136×128 and 128×3136×64) ran 1.1–2.9×
        /// faster on VNNI (a C test on the matmul primitives, one thread, warm and cold
        /// caches). A fixed rule on k, so a replay takes the same kernels; exact for s8
        /// too (k ≤ 518, see `requiredKernel`).
        func preferredKernel(k: Int) -> String {
            self != .bf16bf16f32 && k <= 128 ? "brg:avx512_core_vnni" : ""
        }
    }

    /// How one GEMM runs.
    enum Path: Equatable, Sendable {
        /// oneDNN's gemm API (`dnnl_gemm_u8s8s32`, …): every GEMM on a CPU without AMX.
        case gemmAPI
        /// A matmul primitive on the operands as they are.
        case matmul
        /// A matmul primitive after copying op(A) row-major into a scratch buffer:
        /// oneDNN 2.6's int8 brgemm takes no transposed source, and its gemm API with
        /// AMX is the slow one.
        case matmulTransposingA
    }

    /// Whether oneDNN runs AMX kernels on this CPU (effective instruction set).
    static var usesAMX: Bool { CPUDispatch.hasAMX }

    /// The path for one GEMM (a fixed rule, so a replay takes the same one): see
    /// the shape table in the README's "AMX" section for the measurements behind it.
    static func route(_ kind: Kind, transA: Bool, transB: Bool, m: Int, n: Int, k: Int) -> Path {
        guard usesAMX else { return .gemmAPI }
        if kind == .bf16bf16f32 || !transA { return .matmul }
        return .matmulTransposingA
    }

    /// C = alpha · op(A) · op(B) + beta · C through a cached primitive; false when
    /// oneDNN offers no brgemm primitive for it (the caller then takes the gemm API).
    static func run(_ kind: Kind, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                    a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int, beta: Float = 0,
                    c: UnsafeMutableRawPointer, ldc: Int, path: Path) -> Bool {
        let state = ThreadState.current
        var a = a, lda = lda, transA = transA
        if path == .matmulTransposingA && transA {
            // op(A) = Aᵀ, A stored k×m: copy it to m×k rows.
            let p = state.scratch(bytes: m * k)
            transposeBytes(a.assumingMemoryBound(to: UInt8.self), rows: k, columns: m, stride: lda,
                           into: p.assumingMemoryBound(to: UInt8.self))
            a = UnsafeRawPointer(p); lda = k; transA = false
        }
        let key = Key(kind: kind, transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc,
                      alpha: alpha.bitPattern, beta: beta.bitPattern, threads: Int32(BLAS.threads))
        guard let entry = state.entry(key) else { return false }
        let status = entry.execute(a: a, b: b, c: c, stream: state.stream, engine: state.engine)
        precondition(status == dnnl_success, "Matmul \(kind): oneDNN status \(status.rawValue) for \(m)×\(n)×\(k), lda \(lda) ldb \(ldb) ldc \(ldc)")
        return true
    }

    /// oneDNN's implementation name for a GEMM on the calling thread ("brg:avx512_core_amx_int8",
    /// …), or nil where it would take the gemm API: for tests and `quantlab bench`.
    public static func implementation(_ kind: Kind, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                               lda: Int, ldb: Int, ldc: Int, alpha: Float = 1, beta: Float = 0) -> String? {
        let path = route(kind, transA: transA, transB: transB, m: m, n: n, k: k)
        if path == .gemmAPI { return nil }
        let plainA = path == .matmulTransposingA && transA
        let key = Key(kind: kind, transA: plainA ? false : transA, transB: transB, m: m, n: n, k: k,
                      lda: plainA ? k : lda, ldb: ldb, ldc: ldc,
                      alpha: alpha.bitPattern, beta: beta.bitPattern, threads: Int32(BLAS.threads))
        guard let entry = ThreadState.current.entry(key) else { return nil }
        return withUnsafeBytes(of: entry.mm.pointee.impl) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }

    /// dst[j·rows + i] = src[i·stride + j] for i < rows, j < columns: 8×8 blocks as
    /// eight 64-bit words, transposed in three rounds of masks and shifts (bytes, then
    /// 16-bit pairs, then 32-bit halves), in 64×64 tiles; the edges byte by byte. About
    /// twice the speed of a tiled byte loop (a C test, -O3 -march=native: 74 against
    /// 125 µs for 768×288).
    static func transposeBytes(_ src: UnsafePointer<UInt8>, rows: Int, columns: Int, stride: Int,
                               into dst: UnsafeMutablePointer<UInt8>) {
        let rows8 = rows & ~7, columns8 = columns & ~7
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        var i0 = 0
        while i0 < rows8 {
            let i1 = min(i0 + 64, rows8)
            var j0 = 0
            while j0 < columns8 {
                let j1 = min(j0 + 64, columns8)
                var i = i0
                while i < i1 {
                    var j = j0
                    while j < j1 {
                        transpose8x8(s + (i &* stride &+ j), stride: stride, into: d + (j &* rows &+ i), stride: rows)
                        j &+= 8
                    }
                    i &+= 8
                }
                j0 = j1
            }
            i0 = i1
        }
        // The last rows % 8 rows (all columns) and the last columns % 8 columns (the other rows).
        for i in 0..<rows {
            for j in (i < rows8 ? columns8 : 0)..<columns { dst[j &* rows &+ i] = src[i &* stride &+ j] }
        }
    }

    @inline(__always)
    private static func transpose8x8(_ s: UnsafeRawPointer, stride ls: Int, into d: UnsafeMutableRawPointer, stride ld: Int) {
        // r_i: row i, byte j = element (i, j) (little-endian).
        var r0 = s.loadUnaligned(as: UInt64.self), r1 = (s + ls).loadUnaligned(as: UInt64.self)
        var r2 = (s + 2 &* ls).loadUnaligned(as: UInt64.self), r3 = (s + 3 &* ls).loadUnaligned(as: UInt64.self)
        var r4 = (s + 4 &* ls).loadUnaligned(as: UInt64.self), r5 = (s + 5 &* ls).loadUnaligned(as: UInt64.self)
        var r6 = (s + 6 &* ls).loadUnaligned(as: UInt64.self), r7 = (s + 7 &* ls).loadUnaligned(as: UInt64.self)
        @inline(__always) func swap(_ a: inout UInt64, _ b: inout UInt64, _ mask: UInt64, _ shift: UInt64) {
            let x = (a & mask) | ((b & mask) << shift), y = ((a >> shift) & mask) | (b & ~mask)
            a = x; b = y
        }
        let m8: UInt64 = 0x00FF_00FF_00FF_00FF, m16: UInt64 = 0x0000_FFFF_0000_FFFF, m32: UInt64 = 0x0000_0000_FFFF_FFFF
        swap(&r0, &r1, m8, 8); swap(&r2, &r3, m8, 8); swap(&r4, &r5, m8, 8); swap(&r6, &r7, m8, 8)
        swap(&r0, &r2, m16, 16); swap(&r1, &r3, m16, 16); swap(&r4, &r6, m16, 16); swap(&r5, &r7, m16, 16)
        swap(&r0, &r4, m32, 32); swap(&r1, &r5, m32, 32); swap(&r2, &r6, m32, 32); swap(&r3, &r7, m32, 32)
        // Now r_j is column j.
        d.storeBytes(of: r0, as: UInt64.self); (d + ld).storeBytes(of: r1, as: UInt64.self)
        (d + 2 &* ld).storeBytes(of: r2, as: UInt64.self); (d + 3 &* ld).storeBytes(of: r3, as: UInt64.self)
        (d + 4 &* ld).storeBytes(of: r4, as: UInt64.self); (d + 5 &* ld).storeBytes(of: r5, as: UInt64.self)
        (d + 6 &* ld).storeBytes(of: r6, as: UInt64.self); (d + 7 &* ld).storeBytes(of: r7, as: UInt64.self)
    }

    struct Key: Hashable {
        var kind: Kind
        var transA: Bool, transB: Bool
        var m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int
        var alpha: UInt32, beta: UInt32
        var threads: Int32
    }

    /// One cached GEMM: its primitive on B as the caller stores it and, for int8, the
    /// same product on B reordered once into oneDNN's own layout ("packed"), used
    /// while B's bytes equal the copy the packing was made from. A layer's weights are
    /// B in every forward GEMM of a step (one per chunk of images), so they are
    /// reordered once per step; a B that changes on most calls (a backward operand)
    /// stops the packing after a few calls and runs unpacked from then on. The
    /// comparison is of the bytes themselves, so a reused result is always current.
    final class Entry {
        let mm: UnsafeMutablePointer<quantlab_matmul>
        let key: Key
        /// op(B)'s rows as stored: count, bytes used of each, stride in bytes.
        private let bRows: Int, bRowBytes: Int, bStride: Int
        /// The bytes of B the packed memory holds (nil: no packed B).
        private var source: UnsafeMutableRawPointer?
        private var packedIsCurrent = false
        private var hits = 0, misses = 0
        /// False for bf16 (packing could move its summation order between calls), when
        /// oneDNN has no packed brgemm for the shape, or once B proved to change.
        private var packable: Bool

        init(mm: UnsafeMutablePointer<quantlab_matmul>, key: Key) {
            self.mm = mm
            self.key = key
            let size = key.kind == .bf16bf16f32 ? 2 : 1
            bRows = key.transB ? key.n : key.k
            bRowBytes = (key.transB ? key.k : key.n) * size
            bStride = key.ldb * size
            packable = key.kind != .bf16bf16f32
        }

        deinit {
            quantlab_matmul_destroy(mm)
            mm.deallocate()
            source?.deallocate()
        }

        private func sameAsSource(_ b: UnsafeRawPointer) -> Bool {
            guard let source else { return false }
            for r in 0..<bRows where memcmp(b + r * bStride, source + r * bRowBytes, bRowBytes) != 0 { return false }
            return true
        }

        private func keepSource(_ b: UnsafeRawPointer) {
            if source == nil { source = UnsafeMutableRawPointer.allocate(byteCount: max(1, bRows * bRowBytes), alignment: 64) }
            for r in 0..<bRows { (source! + r * bRowBytes).copyMemory(from: b + r * bStride, byteCount: bRowBytes) }
        }

        func execute(a: UnsafeRawPointer, b: UnsafeRawPointer, c: UnsafeMutableRawPointer,
                     stream: dnnl_stream_t, engine: dnnl_engine_t) -> dnnl_status_t {
            guard packable else { return quantlab_matmul_execute(mm, stream, a, b, c) }
            if sameAsSource(b) {
                hits += 1
                if !packedIsCurrent {
                    if mm.pointee.packed_primitive == nil
                        && quantlab_matmul_add_packing(mm, engine, Float(bitPattern: key.alpha), Float(bitPattern: key.beta),
                                                       key.kind.requiredKernel(k: key.k), key.kind.preferredKernel(k: key.k)) == 0 {
                        stopPacking()
                        return quantlab_matmul_execute(mm, stream, a, b, c)
                    }
                    let status = quantlab_matmul_pack(mm, stream, b)
                    if status != dnnl_success { return status }
                    packedIsCurrent = true
                }
                return quantlab_matmul_execute_packed(mm, stream, a, c)
            }
            // A new B: kept for comparison with the next call's; repacked at once while
            // reuse has outweighed change, else run unpacked.
            misses += 1
            if misses > hits + 3 {
                stopPacking()
                return quantlab_matmul_execute(mm, stream, a, b, c)
            }
            keepSource(b)
            packedIsCurrent = false
            guard hits >= misses, mm.pointee.packed_primitive != nil else { return quantlab_matmul_execute(mm, stream, a, b, c) }
            let status = quantlab_matmul_pack(mm, stream, b)
            if status != dnnl_success { return status }
            packedIsCurrent = true
            return quantlab_matmul_execute_packed(mm, stream, a, c)
        }

        private func stopPacking() {
            packable = false
            packedIsCurrent = false
            source?.deallocate()
            source = nil
        }
    }

    /// One thread's engine, stream, primitives and transpose scratch; released with
    /// the thread (pthread key destructor).
    final class ThreadState {
        let engine: dnnl_engine_t
        let stream: dnnl_stream_t
        /// nil: oneDNN has no brgemm primitive for the key (the gemm API runs it).
        private var entries: [Key: Entry?] = [:]
        private var buffer: UnsafeMutableRawPointer?
        private var bufferBytes = 0
        /// More distinct GEMMs than a network has: the cache starts over past this.
        static let capacity = 256

        init() {
            BLAS.prepareThread()
            var e: dnnl_engine_t?
            var status = dnnl_engine_create(&e, dnnl_cpu, 0)
            precondition(status == dnnl_success && e != nil, "Matmul: oneDNN engine_create status \(status.rawValue)")
            var s: dnnl_stream_t?
            status = dnnl_stream_create(&s, e, dnnl_stream_default_flags.rawValue)
            precondition(status == dnnl_success && s != nil, "Matmul: oneDNN stream_create status \(status.rawValue)")
            engine = e!
            stream = s!
        }

        deinit {
            entries.removeAll()
            buffer?.deallocate()
            dnnl_stream_destroy(stream)
            dnnl_engine_destroy(engine)
        }

        /// The cached GEMM for `key`, made on first use; nil when oneDNN's choice is not
        /// one `Kind.requiredKernel` accepts (its `gemm:jit` fallback is the gemm API
        /// itself).
        func entry(_ key: Key) -> Entry? {
            if let cached = entries[key] { return cached }
            if entries.count >= Self.capacity { entries.removeAll() }
            BLAS.prepareThread()
            let mm = UnsafeMutablePointer<quantlab_matmul>.allocate(capacity: 1)
            let status = quantlab_matmul_create(mm, engine, key.kind.rawValue, key.transA ? 1 : 0, key.transB ? 1 : 0,
                                                Int64(key.m), Int64(key.n), Int64(key.k), Int64(key.lda), Int64(key.ldb),
                                                Int64(key.ldc), Float(bitPattern: key.alpha), Float(bitPattern: key.beta),
                                                key.kind.preferredKernel(k: key.k))
            let accepted = status == dnnl_success
                && withUnsafeBytes(of: mm.pointee.impl) { $0.starts(with: key.kind.requiredKernel(k: key.k).utf8) }
            guard accepted else {
                if status == dnnl_success { quantlab_matmul_destroy(mm) }
                mm.deallocate()
                entries[key] = .some(nil)
                return nil
            }
            let entry = Entry(mm: mm, key: key)
            entries[key] = entry
            return entry
        }

        /// A scratch buffer of at least `bytes`, reused by later calls on this thread.
        func scratch(bytes: Int) -> UnsafeMutableRawPointer {
            if bytes > bufferBytes {
                buffer?.deallocate()
                bufferBytes = max(bytes, 2 * bufferBytes)
                buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferBytes, alignment: 64)
            }
            return buffer!
        }

        /// The calling thread's state, made on its first GEMM.
        static var current: ThreadState {
            if let p = pthread_getspecific(threadKey) { return Unmanaged<ThreadState>.fromOpaque(p).takeUnretainedValue() }
            let state = ThreadState()
            pthread_setspecific(threadKey, Unmanaged.passRetained(state).toOpaque())
            return state
        }
    }

    /// The pthread key of `ThreadState.current`; its destructor releases the state.
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { p in
            if let p { Unmanaged<ThreadState>.fromOpaque(p).release() }
        }
        precondition(status == 0, "Matmul: pthread_key_create failed (\(status))")
        return key
    }()
}
