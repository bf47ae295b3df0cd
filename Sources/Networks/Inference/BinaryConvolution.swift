import CBitKernels
import Tensors

/// A convolution of ±1 weights over NHWC sign bits, computed directly
/// (`CBitKernels/xnor_conv.c`): each output's taps are read where they lie in the input
/// and taps outside the image are skipped, so no bit rows, masks or valid counts are
/// built (building them cost as much as the XNOR GEMM, perf), and for a layer with no
/// operations before its sign quantizer the epilogue runs on the accumulators.
///
///     dot(b, i, j, k) = Σ over taps inside, channels c of x(b, c, i·S − P + ki, j·S − P + kj) · w(k, c, ki, kj)
///
/// with x, w ∈ {−1, +1} held as bits (1 = +1). Popcounts are exact, so every level
/// (AVX-512 VPOPCNTDQ, scalar popcnt, portable C) gives the same integers.
struct BinaryConvolution {
    let geometry: ConvGeometry
    let filters: Int
    let filtersPadded: Int
    /// Word q of tap t = ki·KW + kj of filter k at [(t·C32 + q)·filtersPadded + k]: the
    /// taps' words for 16 filters side by side, as the 512-bit kernel loads them.
    let weights: [UInt32]

    /// `codes` are ±1 weight codes [K, C, KH, KW] (the .qlm order; code > 0 is +1).
    init(codes: [Int32], filters k: Int, geometry g: ConvGeometry) {
        precondition(codes.count == k * g.rows, "BinaryConvolution: \(codes.count) codes for \(k) filters of \(g.rows)")
        geometry = g; filters = k
        filtersPadded = ql_xnor_conv_padded_filters(k)
        let taps = g.kernelH * g.kernelW, c32 = (g.channels + 31) / 32
        var w = [UInt32](repeating: 0, count: max(1, taps * c32 * filtersPadded))
        for f in 0..<k {
            for t in 0..<taps {
                for ch in 0..<g.channels where codes[f * g.rows + PackedWeights.sourceIndex(channel: ch, position: t, positions: taps)] > 0 {
                    w[(t * c32 + ch / 32) * filtersPadded + f] |= 1 << UInt32(ch % 32)
                }
            }
        }
        weights = w
    }

    /// What `evaluate` prints for the kernel.
    static func levelName(_ level: XNORLevel) -> String { level >= .avx512 ? XNORLevel.avx512.name : level >= .popcnt ? "popcnt" : "portable" }

    /// The dot products of `batch` samples of bits at `x` (layout `input`) into
    /// out[(b·OH·OW + p)·ldo + k].
    func run(_ x: UnsafePointer<UInt32>, batch: Int, input: BitGeometry, into out: UnsafeMutablePointer<Int32>, ldo: Int,
             level: XNORLevel = .best) {
        precondition(ldo >= filters, "BinaryConvolution: ldo \(ldo) < \(filters) filters")
        call(x, batch: batch, input: input, level: level) { $0.out = out; $0.ldo = ldo }
    }

    /// Only the sign bits of (Float)dot · scale[k] + bias[k] (≥ 0 → 1, NaN → 0), in the
    /// layout `output` at `into`: the packed epilogue of a layer with no operations
    /// before its sign quantizer, fused. At most 2048 filters.
    func runSigns(_ x: UnsafePointer<UInt32>, batch: Int, input: BitGeometry, scale: UnsafePointer<Float>,
                  bias: UnsafePointer<Float>, into out: UnsafeMutablePointer<UInt32>, output: BitGeometry,
                  level: XNORLevel = .best) {
        precondition(output.channels == filters && output.positions == geometry.outHeight * geometry.outWidth
                     && output.wordsPerPosition <= 64,
                     "BinaryConvolution: sign bits of \(output.channels)×\(output.positions) for \(filters) filters")
        call(x, batch: batch, input: input, level: level) {
            $0.scale = scale; $0.bias = bias; $0.bits = out
            $0.out_words_per_position = output.wordsPerPosition; $0.out_half_words_per_sample = 2 * output.wordsPerSample
        }
    }

    private func call(_ x: UnsafePointer<UInt32>, batch: Int, input: BitGeometry, level: XNORLevel,
                      _ fill: (inout ql_xnor_conv_args) -> Void) {
        let g = geometry
        precondition(input.channels == g.channels && input.positions == g.height * g.width,
                     "BinaryConvolution: input \(input.channels)×\(input.positions) for \(g.channels)×\(g.height)×\(g.width)")
        weights.withUnsafeBufferPointer { wt in
            var a = ql_xnor_conv_args()
            a.x = x; a.batch = batch; a.half_words_per_sample = 2 * input.wordsPerSample; a.channels = g.channels
            a.words_per_position = input.wordsPerPosition; a.height = g.height; a.width = g.width
            a.kernel_h = g.kernelH; a.kernel_w = g.kernelW; a.stride = g.stride; a.padding = g.padding
            a.out_height = g.outHeight; a.out_width = g.outWidth
            a.wt = wt.baseAddress!; a.filters = filters; a.filters_padded = filtersPadded
            fill(&a)
            ql_xnor_conv(level.rawValue, &a)
        }
    }
}
