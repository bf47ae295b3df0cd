import CTrainKernels

/// A network's first convolution (stride 1, 'same' padding, k ∈ {3, 5}, at most 4 float
/// input channels) computed directly from the zero-padded image, without columns: its
/// weight gradient, and its forward into the K-major layout of im2col + sgemm or, with
/// the bias and the batch maximum on the way, straight into NCHW.
///
/// The forward (`forward`, `ql_conv_direct_forward`) gives the sgemm's bits: per filter and
/// pixel an fmaf chain from +0 over (c, ki, kj) in order (OpenBLAS's NN kernel for K ≤ 100,
/// checked by tests on random batches); cifar3's conv1 in a C test: 18 against 37 µs an
/// image for im2col + sgemm NN 32×9216×27 (99 GFLOP/s, and no columns written).
///
/// The weight gradient:
/// im2col + sgemm with an inner dimension of a chunk's pixels (cifar3's conv1: f32 sgemm
/// 32×27×9216) ran at 20–25 GFLOP/s in training, about 89 µs an image; the direct form
/// reads the padded image and dY once per pass of 16 filters and keeps each pass's
/// (c, ki, kj) sums in registers. Order (`ql_conv_dw_direct`): per image, filter and tap,
/// an fmaf chain over each row, the rows' sums added in order, then dw += the image's sum,
/// image by image. The bits depend neither on how the batch is chunked nor on the CPU.
public enum FirstLayerConvolution {
    /// Whether `accumulate` covers a convolution of this geometry.
    public static func covers(_ g: ConvGeometry) -> Bool {
        g.stride == 1 && g.kernelH == g.kernelW && g.padding * 2 + 1 == g.kernelH
            && ql_conv_dw_direct_covers(g.channels, g.kernelH) != 0
    }

    /// Floats of the padded-image scratch `accumulate` needs.
    public static func scratchCount(_ g: ConvGeometry) -> Int {
        g.channels * (g.height + g.kernelH - 1) * (g.width + g.kernelW - 1)
    }

    /// dw [K, C·k·k] += the weight gradient of `images` images x [n, C, H, W] (NCHW) with
    /// dY [n·H·W, K] (NHWC); `scratch` holds `scratchCount(g)` floats. `vector` picks the
    /// AVX-512 form (tests compare both; the bits are the same).
    public static func accumulateWeightGradient(_ x: UnsafePointer<Float>, images n: Int, _ g: ConvGeometry,
                                  dy: UnsafePointer<Float>, filters: Int, scratch: UnsafeMutablePointer<Float>,
                                  into dw: UnsafeMutablePointer<Float>, vector: Bool = Kernels.hasAVX512) {
        precondition(covers(g), "FirstLayerConvolution: \(g) is not a stride-1 'same' 3×3 or 5×5 convolution over 1–4 channels")
        precondition(n >= 0 && filters >= 1, "FirstLayerConvolution: \(n) images, \(filters) filters")
        if vector {
            ql_conv_dw_direct_avx512(x, dy, n, g.channels, g.height, g.width, g.kernelH, filters, scratch, dw)
        } else {
            ql_conv_dw_direct(x, dy, n, g.channels, g.height, g.width, g.kernelH, filters, scratch, dw)
        }
    }

    /// kmajor [K, n·P] = the convolution (no bias) of n images x [n, C, H, W] (NCHW) with
    /// weights [K, C·k·k]; `scratch` holds `scratchCount(g)` floats. `vector` as above.
    public static func forward(_ x: UnsafePointer<Float>, images n: Int, _ g: ConvGeometry, weights: UnsafePointer<Float>,
                               filters: Int, scratch: UnsafeMutablePointer<Float>, into kmajor: UnsafeMutablePointer<Float>,
                               vector: Bool = Kernels.hasAVX512) {
        precondition(covers(g), "FirstLayerConvolution: \(g) is not a stride-1 'same' 3×3 or 5×5 convolution over 1–4 channels")
        precondition(n >= 0 && filters >= 1, "FirstLayerConvolution: \(n) images, \(filters) filters")
        if vector {
            ql_conv_direct_forward_avx512(x, n, g.channels, g.height, g.width, g.kernelH, weights, filters, scratch, kmajor)
        } else {
            ql_conv_direct_forward(x, n, g.channels, g.height, g.width, g.kernelH, weights, filters, scratch, kmajor)
        }
    }

    /// y [n, K, H, W] (NCHW) = the convolution of n images x [n, C, H, W] with weights
    /// [K, C·k·k], plus bias[f] (nil: + 0): the bits of `forward` and `ql_conv_scatter_bias`
    /// in one pass. With `maximum`, it becomes what `ql_conv_scatter_bias_max_avx512` makes
    /// of it on these n images (±0 included). `scratch` and `vector` as above.
    public static func forward(_ x: UnsafePointer<Float>, images n: Int, _ g: ConvGeometry, weights: UnsafePointer<Float>,
                               filters: Int, bias: UnsafePointer<Float>?, scratch: UnsafeMutablePointer<Float>,
                               into y: UnsafeMutablePointer<Float>, maximum: UnsafeMutablePointer<Float>?,
                               vector: Bool = Kernels.hasAVX512) {
        precondition(covers(g), "FirstLayerConvolution: \(g) is not a stride-1 'same' 3×3 or 5×5 convolution over 1–4 channels")
        precondition(n >= 0 && filters >= 1, "FirstLayerConvolution: \(n) images, \(filters) filters")
        if vector {
            ql_conv_direct_forward_bias_avx512(x, n, g.channels, g.height, g.width, g.kernelH, weights, filters, bias,
                                               scratch, y, maximum)
        } else {
            ql_conv_direct_forward_bias(x, n, g.channels, g.height, g.width, g.kernelH, weights, filters, bias, scratch, y, maximum)
        }
    }

    /// dst [columns, rows] = the transpose of src [rows, columns] whose rows are `ld` apart
    /// (an image's K-major dY to NHWC).
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                                 into dst: UnsafeMutablePointer<Float>, vector: Bool = Kernels.hasAVX512) {
        precondition(rows >= 0 && columns >= 0 && ld >= columns, "transpose: \(rows)×\(columns), rows \(ld) apart")
        if vector { ql_transpose_f32_avx512(src, rows, columns, ld, dst) } else { ql_transpose_f32(src, rows, columns, ld, dst) }
    }
}
