import Tensors
import CTrainKernels

/// Quantizes the gradient ∂L/∂y arriving at a weighted layer's output, per its
/// `GradientPrecision`; the layer's backward then reads `values` (and, for `8`,
/// `codes` and `scale`) instead of ∂L/∂y.
///
/// - `8`: s = max|g|/127 per tensor (per batch), code = clamp(⌊g/s + u⌋, −127, 127)
///   with u uniform in [0, 1) (16 bits) from this quantizer's seeded stream (stochastic
///   rounding: E[s·code] = g, so the gradient stays unbiased), values = s·code.
///   An all-zero (or non-finite) gradient gives s = 0 and zero codes.
/// - `bf16`: values = g rounded to the nearest bfloat16, `bits` its bf16 bits.
/// - `32`: nothing (the layer reads ∂L/∂y itself).
public final class GradientQuantizer {
    public let precision: GradientPrecision
    private var rng: SplitMix64
    /// Q(g) as floats (`8` and `bf16`).
    public private(set) var values: [Float] = []
    /// Signed codes (`8`).
    public private(set) var codes: [Int8] = []
    /// The bf16 bits of Q(g) (`bf16`).
    public private(set) var bits: [UInt16] = []
    /// The scale of the last `quantize` (`8`), 0 for an all-zero gradient.
    public private(set) var scale: Float = 0
    /// Whether `8` rounds with the AVX-512 kernel (where the CPU has it): the same
    /// draws and values as `stochasticCodes`, which tests compare by turning it off.
    public var vectorKernel = Tensors.Kernels.hasAVX512
    private var draws: [UInt64] = []

    public init(_ precision: GradientPrecision, seed: UInt64 = 0) {
        self.precision = precision
        self.rng = SplitMix64(seed: seed)
    }

    /// Quantizes g[0..<count] into `values` (and `codes` or `bits`).
    public func quantize(_ g: UnsafePointer<Float>, count n: Int) {
        switch precision {
        case .float: return
        case .bf16:
            if bits.count != n { bits = [UInt16](repeating: 0, count: n); values = [Float](repeating: 0, count: n) }
            bits.withUnsafeMutableBufferPointer { bp in
                BFloat16.convert(g, into: bp.baseAddress!, count: n)
                values.withUnsafeMutableBufferPointer { vp in
                    for i in 0..<n { vp[i] = BFloat16.float(bp[i]) }
                }
            }
        case .int8:
            if codes.count != n { codes = [Int8](repeating: 0, count: n); values = [Float](repeating: 0, count: n) }
            // max |g| (NaN skipped): the AVX-512 kernel where the vector path runs, the same value.
            let m = vectorKernel ? ql_abs_max_avx512(g, n) : Kernels.absMax(g, count: n)
            scale = m.isFinite && m > 0 ? m / 127 : 0
            let s = scale, inverse = s > 0 ? 127 / m : 0
            var r = rng
            if vectorKernel {
                // The draws `stochasticCodes` takes, two per eight values, in its order.
                let words = 2 * ((n + 7) / 8)
                if draws.count < words { draws = [UInt64](repeating: 0, count: words) }
                draws.withUnsafeMutableBufferPointer { dp in
                    Self.fillDraws(&r, dp.baseAddress!, count: words)
                    codes.withUnsafeMutableBufferPointer { cp in
                        values.withUnsafeMutableBufferPointer { vp in
                            ql_stochastic_codes_avx512(g, n, inverse, s, dp.baseAddress!, cp.baseAddress!, vp.baseAddress!)
                        }
                    }
                }
                rng = r
                return
            }
            codes.withUnsafeMutableBufferPointer { cp in
                values.withUnsafeMutableBufferPointer { vp in
                    Self.stochasticCodes(g, count: n, inverse: inverse, scale: s, rng: &r,
                                         codes: cp.baseAddress!, values: vp.baseAddress!)
                }
            }
            rng = r
        }
    }

    /// `8` only: the codes of `quantize` (the same draws, so the same codes and scale),
    /// written NHWC (channel fastest) for a convolution's backward GEMMs in one pass:
    /// g is an NCHW gradient [n, K, P], codes[(i·P + j)·K + k] its code at (i, k, j).
    /// `channelSums[k]` = Σ codes of channel k over the batch (the bias gradient is
    /// scale · channelSums[k], exact). `values` = scale·codes in the same layout when
    /// `values` is true; otherwise its contents are unspecified.
    public func quantizeNHWC(_ g: UnsafePointer<Float>, images n: Int, channels k: Int, plane p: Int, values wantValues: Bool) {
        precondition(precision == .int8, "quantizeNHWC: only 8-bit gradients have codes")
        let count = n * k * p
        if codes.count != count { codes = [Int8](repeating: 0, count: count); values = [Float](repeating: 0, count: count) }
        channelSums = [Int](repeating: 0, count: k)
        // The vector kernel sums a channel's codes in Int32 lanes: |sum| ≤ 127·n·P.
        guard vectorKernel, 127 * n * p <= Int(Int32.max) else {
            // The definition: `quantize` (portable loop), then the NHWC copy and sums.
            let vector = vectorKernel
            vectorKernel = false
            quantize(g, count: count)
            vectorKernel = vector
            let plain = codes, plainValues = values
            plain.withUnsafeBufferPointer { cp in
            plainValues.withUnsafeBufferPointer { vp in
            codes.withUnsafeMutableBufferPointer { dp in
            values.withUnsafeMutableBufferPointer { dv in
                for i in 0..<n {
                    for c in 0..<k {
                        for j in 0..<p {
                            let src = (i * k + c) * p + j, dst = (i * p + j) * k + c
                            dp[dst] = cp[src]; dv[dst] = vp[src]
                            channelSums[c] += Int(cp[src])
                        }
                    }
                }
            } } } }
            return
        }
        vectorCodesNHWC(maximum: ql_abs_max_avx512(g, count), count: count, channels: k) { inverse, state, codes, sums in
            if Self.multipliesDQ {
                ql_grad_codes_nhwc_avx512dq(g, n, k, p, inverse, state, codes, sums)
            } else {
                ql_grad_codes_nhwc_avx512(g, n, k, p, inverse, state, codes, sums)
            }
        }
        if wantValues {
            // s·code: the product `quantize` forms (the code is exact as a float).
            codes.withUnsafeBufferPointer { cp in
                values.withUnsafeMutableBufferPointer { ql_codes_to_values_avx512(cp.baseAddress!, count, scale, $0.baseAddress!) }
            }
        }
    }

    /// `quantizeNHWC` (no values) of the full gradient [n, K, h, w] that a 2×2 stride-2 max
    /// pooling's backward spreads the pooled gradient g [n, K, h/2, w/2] to: each value at
    /// the corner its window's route names (0 … 3, row-major), +0 at the other corners (all
    /// four where the route is 4) — without writing it. A +0 or −0 has code 0 whatever its
    /// draw, so only routed values are rounded, each with the draw of its full-gradient
    /// position (`ql_grad_codes_pool2_nhwc_avx512`): the same codes, scale, channel sums and
    /// stream state. Without the vector kernel: the full gradient, then `quantizeNHWC`.
    public func quantizeNHWC(pooled g: UnsafePointer<Float>, routes: UnsafePointer<UInt8>, images n: Int, channels k: Int,
                             height h: Int, width w: Int) {
        quantizeNHWC(pooled: g, routes: routes, images: n, channels: k, height: h, width: w, chunk: n) { _, _, _ in }
    }

    /// The same codes, chunk by chunk: `body(first image, images, codes)` gets the codes
    /// [m·h·w, K] of images first ..< first + m (m ≤ `chunk`) as soon as they are written,
    /// valid until `body` returns; after the last chunk `scale`, `channelSums` and the
    /// stream stand as after the whole batch. The scale comes first (max |g| over the
    /// routed values of the whole batch); each chunk's draws are those of its positions in
    /// the whole gradient, so the codes do not depend on `chunk`. `codes` then holds only
    /// the last chunk (the whole batch where the vector kernel does not run). A chunk's
    /// codes stay in cache for the GEMMs that read them: written whole, they were a pass
    /// through memory (3.5 MB a cifar3 step) that each chunk read back.
    public func quantizeNHWC(pooled g: UnsafePointer<Float>, routes: UnsafePointer<UInt8>, images n: Int, channels k: Int,
                             height h: Int, width w: Int, chunk: Int,
                             _ body: (Int, Int, UnsafePointer<Int8>) -> Void) {
        precondition(precision == .int8, "quantizeNHWC: only 8-bit gradients have codes")
        precondition(h % 2 == 0 && w % 2 == 0, "quantizeNHWC(pooled:): \(h)×\(w) planes do not pool 2×2")
        precondition(chunk > 0, "quantizeNHWC(pooled:): chunks of \(chunk) images")
        let p = h * w, count = n * k * p
        guard vectorKernel, 127 * n * p <= Int(Int32.max) else {
            var full = [Float](repeating: 0, count: count)
            full.withUnsafeMutableBufferPointer { Self.unpool2(g, routes: routes, planes: n * k, height: h, width: w, into: $0.baseAddress!) }
            quantizeNHWC(full, images: n, channels: k, plane: p, values: false)
            codes.withUnsafeBufferPointer { cp in
                for start in stride(from: 0, to: n, by: chunk) { body(start, min(chunk, n - start), cp.baseAddress! + start * p * k) }
            }
            return
        }
        let room = min(chunk, n) * k * p
        if codes.count != room { codes = [Int8](repeating: 0, count: room); values = [Float](repeating: 0, count: room) }
        channelSums = [Int](repeating: 0, count: k)
        let pp = p / 4
        vectorCodesNHWC(maximum: ql_routed_abs_max_avx512(g, routes, count / 4), count: count, channels: k) { inverse, state, codes, sums in
            for start in stride(from: 0, to: n, by: chunk) {
                // Image `start` begins at draw start·K·P/4 of the stream (P is a multiple of 4).
                let m = min(chunk, n - start), at = start * k * pp
                let first = SplitMix64(seed: state).advanced(by: start * k * p / 4).state
                if Self.multipliesDQ {
                    ql_grad_codes_pool2_nhwc_avx512dq(g + at, routes + at, m, k, h, w, inverse, first, codes, sums)
                } else {
                    ql_grad_codes_pool2_nhwc_avx512(g + at, routes + at, m, k, h, w, inverse, first, codes, sums)
                }
                body(start, m, codes)
            }
        }
    }

    /// Whether the vector kernels draw with vpmullq (avx512dq): the same draws.
    static let multipliesDQ = Tensors.Kernels.hasAVX512DQ

    /// The vector tail of `quantizeNHWC`: scale and inverse from max |g| (NaN skipped), then
    /// `kernel(inverse, stream state, codes, int32 sums)`, which writes every code; the
    /// stream then stands where `quantize` leaves it (the words of `count` values), and
    /// `channelSums` holds the sums.
    private func vectorCodesNHWC(maximum m: Float, count: Int, channels k: Int,
                                 _ kernel: (Float, UInt64, UnsafeMutablePointer<Int8>, UnsafeMutablePointer<Int32>) -> Void) {
        scale = m.isFinite && m > 0 ? m / 127 : 0
        let inverse = scale > 0 ? 127 / m : 0
        // The draws `quantize` takes (element i: 16-bit word i of them, little-endian),
        // computed inside the kernel.
        let words = 2 * ((count + 7) / 8)
        var sums = [Int32](repeating: 0, count: k)
        let state = rng.state
        codes.withUnsafeMutableBufferPointer { cp in
            sums.withUnsafeMutableBufferPointer { kernel(inverse, state, cp.baseAddress!, $0.baseAddress!) }
        }
        rng = rng.advanced(by: words)
        for c in 0..<k { channelSums[c] = Int(sums[c]) }
    }

    /// dx [planes, h, w] = g [planes, h/2, w/2] at the corner routes names, +0 elsewhere
    /// (the portable form of QuantKernels.unpool2, MaxPool's backward from routes).
    static func unpool2(_ g: UnsafePointer<Float>, routes: UnsafePointer<UInt8>, planes: Int, height h: Int, width w: Int,
                        into dx: UnsafeMutablePointer<Float>) {
        let pw = w / 2, pp = (h / 2) * pw
        dx.update(repeating: 0, count: planes * h * w)
        for plane in 0..<planes {
            for q in 0..<pp {
                let r = Int(routes[plane * pp + q]), oi = q / pw, oj = q % pw
                if r < 4 { dx[plane * h * w + (2 * oi + r / 2) * w + 2 * oj + r % 2] = g[plane * pp + q] }
            }
        }
    }

    /// Σ codes per channel of the last `quantizeNHWC`.
    public private(set) var channelSums: [Int] = []

    /// dst[j] = rng.next(), j < count: the AVX-512 kernel (eight stream positions at a
    /// time) where the CPU has it and `vectorKernel` is on, else the loop.
    static func fillDraws(_ rng: inout SplitMix64, _ dst: UnsafeMutablePointer<UInt64>, count: Int) {
        guard Tensors.Kernels.hasAVX512 else {
            for j in 0..<count { dst[j] = rng.next() }
            return
        }
        var state = rng.state
        ql_splitmix64_fill_avx512(&state, dst, count)
        rng = SplitMix64(seed: state)
    }

    /// codes[i] = clamp(⌊g[i]·inverse + u⌋, −127, 127) (NaN → 0), values[i] = scale·codes[i],
    /// eight at a time. u takes 16 bits of a draw (four per 64-bit draw): its
    /// resolution, 2⁻¹⁶ of a step, bounds the rounding's bias far below the 8-bit step.
    /// (The scalar loop with one draw per value took 15% of fmnist2 g8 training, perf.)
    /// The integer ↔ float lane conversions are bit tricks, exact for these ranges:
    /// Swift's generic `SIMD8<Int32>(_: SIMD8<Float>)` and `SIMD8<Float>(_: SIMD8<UInt32>)`
    /// ran lane by lane through non-inlined generic code, 35% of cifar3 g8 training (perf).
    static func stochasticCodes(_ g: UnsafePointer<Float>, count n: Int, inverse: Float, scale: Float,
                                rng: inout SplitMix64, codes: UnsafeMutablePointer<Int8>,
                                values: UnsafeMutablePointer<Float>) {
        let magic = SIMD8<Float>(repeating: Kernels.roundingMagic)
        let lo = SIMD8<Float>(repeating: -127), hi = SIMD8<Float>(repeating: 127), zero = SIMD8<Float>(repeating: 0)
        let inv = SIMD8<Float>(repeating: inverse), sv = SIMD8<Float>(repeating: scale)
        let one = SIMD8<UInt32>(repeating: Float(1).bitPattern)
        let magicBits = SIMD8<Int32>(repeating: Int32(bitPattern: Kernels.roundingMagic.bitPattern))
        let shifts = SIMD8<UInt64>(0, 16, 32, 48, 0, 16, 32, 48)
        var gv = SIMD8<Float>(), i = 0
        while i < n {
            let k = min(8, n - i)
            if k == 8 { gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self) }
            else { gv = zero; for j in 0..<k { gv[j] = g[i + j] } }
            let x0 = rng.next(), x1 = rng.next()
            let words = SIMD8<UInt64>(x0, x0, x0, x0, x1, x1, x1, x1)
            // u = b / 2¹⁶ exactly: the float 1 + b·2⁻¹⁶ (b in the top mantissa bits) minus 1.
            let bits = SIMD8<UInt32>(truncatingIfNeeded: (words &>> shifts) & 0xFFFF)
            let u = unsafeBitCast((bits &<< 7) | one, to: SIMD8<Float>.self) - 1
            let t = gv * inv + u
            var c = (t + magic) - magic                          // round to nearest even
            c = c.replacing(with: c - 1, where: c .> t)          // ⌊t⌋
            c = c.replacing(with: lo, where: c .< lo).replacing(with: hi, where: c .> hi)
            c = c.replacing(with: zero, where: c .!= c)          // NaN → 0
            // The integer c (|c| ≤ 127) is the low mantissa bits of c + 1.5·2²³.
            let q = unsafeBitCast(c + magic, to: SIMD8<Int32>.self) &- magicBits
            let v = c * sv
            if k == 8 {
                UnsafeMutableRawPointer(values + i).storeBytes(of: v, as: SIMD8<Float>.self)
            } else {
                for j in 0..<k { values[i + j] = v[j] }
            }
            for j in 0..<k { codes[i + j] = Int8(truncatingIfNeeded: q[j]) }
            i += 8
        }
    }
}
