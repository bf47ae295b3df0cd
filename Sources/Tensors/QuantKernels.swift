import CTrainKernels

/// The passes around the integer GEMM of quantized training (issue 11): the int32 →
/// float epilogue and the fused ReLU + clip backward mask. With AVX-512 (F, BW, VL)
/// they run the C forms in `CTrainKernels/quant_kernels.c`, elsewhere (and as the
/// reference the tests compare with) the loops in `Portable`; both compute the same
/// float operations in the same order, so results are bit-identical.
public enum QuantKernels {
    /// y[i, o, j] = Float(acc[i, j, o] − offset[o]) · scale[o] + bias[o], i < m, j < p,
    /// o < k: the [m, P, K] result of a convolution's integer GEMM into NCHW floats
    /// (`offset` nil: 0; sign inputs pass the weights' row sums). The Swift loop it
    /// replaces was 2.9 % of cifar3 w8a8 training (perf); the C form gathers 16 planes' values.
    /// `maximum` (nil: skipped) becomes the largest of itself and every y, NaN ignored.
    @inline(__always)
    public static func epilogueTranspose(_ acc: UnsafePointer<Int32>, batch m: Int, plane p: Int, channels k: Int,
                                         scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                         offset: UnsafePointer<Int32>? = nil, into y: UnsafeMutablePointer<Float>,
                                         maximum: UnsafeMutablePointer<Float>? = nil) {
        if Kernels.hasAVX512 && p * k < Int(Int32.max) {
            ql_int32_epilogue_transpose_avx512(acc, m, p, k, scale, bias, offset, y, maximum); return
        }
        Portable.epilogueTranspose(acc, batch: m, plane: p, channels: k, scale: scale, bias: bias, offset: offset, into: y,
                                   maximum: maximum)
    }

    /// y[i, o] = Float(acc[i, o] − offset[o]) · scale[o] + bias[o], i < n, o < k (a dense
    /// layer's epilogue; `offset` nil: 0).
    @inline(__always)
    public static func epilogueRows(_ acc: UnsafePointer<Int32>, rows n: Int, columns k: Int,
                                    scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                    offset: UnsafePointer<Int32>? = nil, into y: UnsafeMutablePointer<Float>) {
        ql_int32_epilogue_rows(acc, n, k, scale, bias, offset, y)
    }

    /// dx[i] = 0 < x[i] ≤ hi ? dy[i] : 0 — the backward of clip∘ReLU from the ReLU's
    /// input x, in one pass: ReLU's mask y > 0 and the clip's 0 ≤ y ≤ hi, y = max(x, 0),
    /// agree with it on every x (NaN included: both give 0).
    @inline(__always)
    public static func maskOpenClosed(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                      _ dx: UnsafeMutablePointer<Float>, count n: Int, hi: Float) {
        if Kernels.hasAVX512 { ql_mask_open_closed_avx512(x, dy, dx, n, hi); return }
        Portable.maskOpenClosed(x, dy, dx, count: n, hi: hi)
    }

    /// max p[i], −∞ for an empty range: eight accumulators (NaN only when p[0] is NaN),
    /// the activation quantizer's clip statistic. The C form keeps the eight lanes, so
    /// even a zero maximum has the same sign.
    @inline(__always)
    public static func maximum(_ p: UnsafePointer<Float>, count n: Int) -> Float {
        if Kernels.hasAVX512 { return ql_maximum_avx512(p, n) }
        return Portable.maximum(p, count: n)
    }

    /// y[i] = step · roundEven(v · inverse), v = x[i] clamped to [0, clip] (NaN stays
    /// NaN): the k-bit unsigned activation quantizer's forward (3.8 % of fmnist2 w8a8
    /// training as the eight-lane Swift loop, perf).
    @inline(__always)
    public static func uniformQuantize(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int,
                                       clip: Float, inverse: Float, step: Float) {
        if Kernels.hasAVX512 { ql_uniform_quantize_avx512(x, y, n, clip, inverse, step); return }
        Portable.uniformQuantize(x, into: y, count: n, clip: clip, inverse: inverse, step: step)
    }

    /// y[i] = x[i] ≥ 0 ? 1 : −1 (NaN → −1): binary activations.
    @inline(__always)
    public static func sign(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        if Kernels.hasAVX512 { ql_sign_avx512(x, y, n); return }
        Portable.sign(x, into: y, count: n)
    }

    /// An activation quantizer and the 2×2 stride-2 max pooling after it in one pass
    /// (`ql_quant_pool2_avx512`; AVX-512 only): x [planes, h, w] (h, w even) → pooled
    /// [planes, h/2, w/2], max of each window's quantized values, bit for bit the
    /// quantizer's forward then MaxPool's; and per pooled value the corner MaxPool's
    /// backward routes its gradient to when that corner's x passes the quantizer's mask
    /// (sign: −1 ≤ x ≤ 1; uniform: 0 < x ≤ clip, x a ReLU's input), else 4.
    /// With `codes` (planes = images · `channels`), also the next integer layer's input
    /// codes [images, h/2·w/2, channels] of the pooled values, as `activationCodesNHWC`
    /// (grid `quantizer.grid`) or `signCodesNHWC` computes them; returns whether they were
    /// all on their grid (false: codes unspecified), false without `codes`.
    @discardableResult
    public static func quantizePool2(_ x: UnsafePointer<Float>, planes: Int, height h: Int, width w: Int,
                                     _ quantizer: Pool2Quantizer, into pooled: UnsafeMutablePointer<Float>,
                                     routes: UnsafeMutablePointer<UInt8>, channels: Int = 1,
                                     codes: UnsafeMutablePointer<UInt8>? = nil) -> Bool {
        precondition(Kernels.hasAVX512 && h % 2 == 0 && w % 2 == 0, "QuantKernels.quantizePool2: AVX-512 and even planes only")
        let q = quantizer, sign: Int32 = q.sign ? 1 : 0
        guard let codes else {
            ql_quant_pool2_avx512(x, planes, h, w, sign, q.clip, q.inverse, q.step, pooled, routes)
            return false
        }
        precondition(channels >= 1 && planes % channels == 0, "QuantKernels.quantizePool2: \(planes) planes of \(channels) channels")
        return ql_quant_pool2_codes_avx512(x, planes / channels, channels, h, w, sign, q.clip, q.inverse, q.step, q.top,
                                           pooled, routes, codes) != 0
    }

    /// The integer forward's epilogue (`epilogueTranspose`) and `quantizePool2` in one pass
    /// (`ql_int32_quant_pool2_avx512`; AVX-512 only), never writing the float conv output:
    /// acc [images, h·w, channels] (the GEMM's int32 result, h and w even) → pooled and
    /// routes [images, channels, h/2·w/2], bit for bit `epilogueTranspose` then
    /// `quantizePool2`; `codes` and the result as there.
    @discardableResult
    public static func int32QuantizePool2(_ acc: UnsafePointer<Int32>, images m: Int, height h: Int, width w: Int,
                                          channels k: Int, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                          offset: UnsafePointer<Int32>?, _ quantizer: Pool2Quantizer,
                                          into pooled: UnsafeMutablePointer<Float>, routes: UnsafeMutablePointer<UInt8>,
                                          codes: UnsafeMutablePointer<UInt8>?) -> Bool {
        precondition(Kernels.hasAVX512 && h % 2 == 0 && w % 2 == 0 && h * w * k < Int(Int32.max),
                     "QuantKernels.int32QuantizePool2: AVX-512, even planes and h·w·k < 2³¹ only")
        let q = quantizer
        return ql_int32_quant_pool2_avx512(acc, m, h, w, k, scale, bias, offset, q.sign ? 1 : 0, q.clip, q.inverse, q.step,
                                           q.top, pooled, routes, codes) != 0
    }

    /// colmax[o] = max(colmax[o], acc[r, o]) over rows r of acc [rows, k], and acc into
    /// `copy` (nil: none) on the way (AVX-512 only).
    public static func columnMaximum(_ acc: UnsafePointer<Int32>, rows: Int, columns k: Int,
                                     into colmax: UnsafeMutablePointer<Int32>, copy: UnsafeMutablePointer<Int32>? = nil) {
        precondition(Kernels.hasAVX512, "QuantKernels.columnMaximum: AVX-512 only")
        ql_s32_column_max_avx512(acc, rows, k, colmax, copy)
    }

    /// MaxPool's backward from the routes of `quantizePool2`, the quantizer's mask
    /// included: dx [planes, h, w] = dy at each window's route, +0 elsewhere (AVX-512 only).
    public static func unpool2(_ dy: UnsafePointer<Float>, routes: UnsafePointer<UInt8>, planes: Int, height h: Int, width w: Int,
                               into dx: UnsafeMutablePointer<Float>) {
        precondition(Kernels.hasAVX512 && h % 2 == 0 && w % 2 == 0, "QuantKernels.unpool2: AVX-512 and even planes only")
        ql_unpool2_avx512(dy, routes, planes, h, w, dx)
    }

    /// 1.5 · 2²³: (v + m) − m rounds half to even for |v| ≤ 2²².
    static let roundingMagic: Float = 12_582_912

    /// The portable loops (the tests' references).
    public enum Portable {
        public static func maximum(_ p: UnsafePointer<Float>, count: Int) -> Float {
            guard count > 0 else { return -.infinity }
            var m0 = p[0], m1 = p[0], m2 = p[0], m3 = p[0], m4 = p[0], m5 = p[0], m6 = p[0], m7 = p[0]
            var i = 0
            while i &+ 8 <= count {
                let a0 = p[i], a1 = p[i &+ 1], a2 = p[i &+ 2], a3 = p[i &+ 3]
                let a4 = p[i &+ 4], a5 = p[i &+ 5], a6 = p[i &+ 6], a7 = p[i &+ 7]
                m0 = a0 > m0 ? a0 : m0; m1 = a1 > m1 ? a1 : m1; m2 = a2 > m2 ? a2 : m2; m3 = a3 > m3 ? a3 : m3
                m4 = a4 > m4 ? a4 : m4; m5 = a5 > m5 ? a5 : m5; m6 = a6 > m6 ? a6 : m6; m7 = a7 > m7 ? a7 : m7
                i &+= 8
            }
            while i < count { let a = p[i]; m0 = a > m0 ? a : m0; i &+= 1 }
            return max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
        }

        public static func sign(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
            for i in 0..<count { y[i] = x[i] >= 0 ? 1 : -1 }
        }

        /// Eight lanes at a time, the same operations as the scalar tail.
        public static func uniformQuantize(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int,
                                           clip c: Float, inverse inv: Float, step: Float) {
            let zero = SIMD8<Float>(repeating: 0), cv = SIMD8<Float>(repeating: c)
            let iv = SIMD8<Float>(repeating: inv), sv = SIMD8<Float>(repeating: step)
            let magic = SIMD8<Float>(repeating: roundingMagic)
            var i = 0
            while i + 8 <= count {
                var v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                v = v.replacing(with: zero, where: v .< zero)
                v = v.replacing(with: cv, where: v .> cv)
                UnsafeMutableRawPointer(y + i).storeBytes(of: sv * ((v * iv + magic) - magic), as: SIMD8<Float>.self)
                i += 8
            }
            while i < count {
                var v = x[i]
                v = v < 0 ? 0 : v
                v = v > c ? c : v
                y[i] = step * ((v * inv + roundingMagic) - roundingMagic)
                i += 1
            }
        }

        public static func epilogueTranspose(_ acc: UnsafePointer<Int32>, batch m: Int, plane p: Int, channels k: Int,
                                             scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                             offset: UnsafePointer<Int32>? = nil, into y: UnsafeMutablePointer<Float>,
                                             maximum: UnsafeMutablePointer<Float>? = nil) {
            var top = -Float.infinity
            for i in 0..<m {
                let src = acc + i * p * k, dst = y + i * k * p
                for o in 0..<k {
                    let s = scale[o], b = bias[o], z = offset?[o] ?? 0, d = dst + o * p
                    for j in 0..<p {
                        d[j] = Float(src[j * k + o] - z) * s + b
                        top = d[j] > top ? d[j] : top
                    }
                }
            }
            if let maximum { maximum.pointee = top > maximum.pointee ? top : maximum.pointee }
        }

        public static func epilogueRows(_ acc: UnsafePointer<Int32>, rows n: Int, columns k: Int,
                                        scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                        offset: UnsafePointer<Int32>? = nil, into y: UnsafeMutablePointer<Float>) {
            for i in 0..<n {
                for o in 0..<k { y[i * k + o] = Float(acc[i * k + o] - (offset?[o] ?? 0)) * scale[o] + bias[o] }
            }
        }

        public static func maskOpenClosed(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                          _ dx: UnsafeMutablePointer<Float>, count n: Int, hi: Float) {
            let zero = SIMD8<Float>(repeating: 0), h = SIMD8<Float>(repeating: hi)
            var i = 0
            while i + 8 <= n {
                let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                let gv = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(dx + i).storeBytes(of: zero.replacing(with: gv, where: (xv .> zero) .& (xv .<= h)),
                                                           as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { dx[i] = (x[i] > 0 && x[i] <= hi) ? dy[i] : 0; i += 1 }
        }
    }
}

/// The activation quantizer of a fused quantize → maxpool 2 pass (`QuantKernels.quantizePool2`):
/// sign (x ≥ 0 ? 1 : −1), or uniform on [0, clip] with maxCode levels, its inverse and
/// step computed as `UniformActivationQuantizer` and `ActivationGrid` compute them.
public struct Pool2Quantizer: Equatable, Sendable {
    public let sign: Bool
    public let clip: Float, inverse: Float, step: Float, top: Float

    public static let sign = Pool2Quantizer(sign: true, clip: 0, inverse: 0, step: 0, top: 2)

    private init(sign: Bool, clip: Float, inverse: Float, step: Float, top: Float) {
        self.sign = sign; self.clip = clip; self.inverse = inverse; self.step = step; self.top = top
    }

    /// Uniform on [0, clip] (clip > 0), codes 0…maxCode.
    public init(clip c: Float, maxCode: Int) {
        let levels = Float(maxCode)
        self.init(sign: false, clip: c, inverse: levels / c, step: c / levels, top: levels)
    }
}

/// What a fused quantize → maxpool 2 forward did.
public enum Pool2Outcome: Equatable, Sendable {
    /// Nothing (the caller runs the layers one by one).
    case declined
    /// Pooled values and routes written (no codes, or some off their grid).
    case pooled
    /// Pooled values, routes, and the next layer's input codes written.
    case pooledWithCodes

    public var ran: Bool { self != .declined }
}
