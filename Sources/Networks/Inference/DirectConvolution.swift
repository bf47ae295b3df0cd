import CBitKernels
import Tensors

/// A convolution with short rows (R = C·KH·KW ≤ `maxRows`, a first layer on image
/// channels) computed directly, position-major: out[(b·OH·OW + p)·ldo + k] is filter k
/// at output position p, the layout the packed epilogue reads contiguously.
///
/// Sums run tap by tap in (c, ki, kj) order with fused multiply-adds (`fmaf`, correctly
/// rounded), so every instruction set gives the same bits (`CBitKernels/conv_direct.c`).
/// Why not im2col + sgemm: at R = 27 the GEMM's K is too short for oneDNN to reach its
/// speed, and its [K, N·P] output needed a strided transpose in the epilogue (cifar3
/// conv1 was 45% of the packed w1a1 forward).
public struct DirectConvolution: Sendable {
    public static let maxRows = 64
    public let geometry: ConvGeometry
    public let filters: Int
    /// Weights transposed to [R, filtersPadded], zero past `filters`.
    let transposed: [Float]
    let filtersPadded: Int

    /// `weights` are [K, R], R in (c, ki, kj) order, as Conv2D holds them.
    public init(weights: [Float], filters k: Int, geometry g: ConvGeometry) {
        precondition(weights.count == k * g.rows, "DirectConvolution: \(weights.count) weights for \(k) filters of \(g.rows)")
        geometry = g; filters = k
        filtersPadded = ql_conv_direct_padded_filters(k)
        var t = [Float](repeating: 0, count: max(1, g.rows * filtersPadded))
        for f in 0..<k { for r in 0..<g.rows { t[r * filtersPadded + f] = weights[f * g.rows + r] } }
        transposed = t
    }

    /// The instruction set to use (2 AVX-512, 1 AVX2 + FMA, 0 plain C), capped like the
    /// XNOR kernels by `QUANTLAB_MAX_ISA`; the C side falls back where the CPU lacks it.
    public static let bestLevel: Int32 = XNORLevel.best >= .avx512 ? 2 : XNORLevel.best >= .avx2 ? 1 : 0
    public static var levelName: String { ["C", "avx2", "avx512"][Int(bestLevel)] }

    /// Runs on `batch` NCHW images at `x`; `level` caps the instruction set (2 AVX-512,
    /// 1 AVX2, 0 plain C); every level gives the same bits.
    public func run(_ x: UnsafePointer<Float>, batch: Int, into out: UnsafeMutablePointer<Float>, ldo: Int,
                    level: Int32 = DirectConvolution.bestLevel) {
        precondition(ldo >= filters, "DirectConvolution: ldo \(ldo) < \(filters) filters")
        transposed.withUnsafeBufferPointer { wt in
            var a = arguments(x, batch: batch, wt.baseAddress!)
            a.out = out; a.ldo = ldo
            ql_conv_direct(level, &a)
        }
    }

    /// Runs on `batch` NCHW images at `x` and stores only the sign bits of out + bias[k]
    /// (≥ 0 → 1, NaN → 0) in the NHWC bit layout of `bits` (see `BitGeometry`; the batch's
    /// first sample at `into`): the packed epilogue of a layer with no operations before
    /// its sign quantizer, without the float results in memory. Same bits on every level.
    func runSigns(_ x: UnsafePointer<Float>, batch: Int, bias: UnsafePointer<Float>, into out: UnsafeMutablePointer<UInt32>,
                  bits: BitGeometry, level: Int32 = DirectConvolution.bestLevel) {
        precondition(bits.channels == filters && bits.positions == geometry.outHeight * geometry.outWidth,
                     "DirectConvolution: sign bits of \(bits.channels)×\(bits.positions) for \(filters) filters")
        transposed.withUnsafeBufferPointer { wt in
            var a = arguments(x, batch: batch, wt.baseAddress!)
            a.bias = bias; a.bits = out
            a.words_per_position = bits.wordsPerPosition; a.half_words_per_sample = 2 * bits.wordsPerSample
            ql_conv_direct(level, &a)
        }
    }

    /// Runs on `batch` NCHW images at `x` and stores only the u8 codes of out + bias[k]
    /// (NHWC, `filters` bytes a position; the batch's first sample at `into`) as the packed
    /// epilogue's uniform quantizer computes them (clamp to [0, clip], roundEven(· inverse),
    /// at most `top`, NaN → 0): the epilogue of a layer with at most a ReLU before its
    /// quantizer (the clamp at 0 contains the ReLU), without the floats in memory.
    func runCodes(_ x: UnsafePointer<Float>, batch: Int, bias: UnsafePointer<Float>, clip: Float, inverse: Float, top: Float,
                  into out: UnsafeMutablePointer<UInt8>, level: Int32 = DirectConvolution.bestLevel) {
        transposed.withUnsafeBufferPointer { wt in
            var a = arguments(x, batch: batch, wt.baseAddress!)
            a.bias = bias; a.codes = out; a.clip = clip; a.inverse = inverse; a.top = top
            ql_conv_direct(level, &a)
        }
    }

    private func arguments(_ x: UnsafePointer<Float>, batch: Int, _ wt: UnsafePointer<Float>) -> ql_conv_direct_args {
        let g = geometry
        var a = ql_conv_direct_args()
        a.x = x; a.batch = batch; a.channels = g.channels; a.height = g.height; a.width = g.width
        a.kernel_h = g.kernelH; a.kernel_w = g.kernelW; a.stride = g.stride; a.padding = g.padding
        a.out_height = g.outHeight; a.out_width = g.outWidth
        a.wt = wt; a.filters = filters; a.filters_padded = filtersPadded
        return a
    }
}
