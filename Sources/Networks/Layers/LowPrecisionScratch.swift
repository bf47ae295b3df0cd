import Tensors
import CTrainKernels
import Quantization

/// Buffers of a layer's `gbf16` / `g8` backward pass (Conv2D+GradientPrecision.swift,
/// Dense+GradientPrecision.swift) and of Conv2D's direct weight gradient, grown on first use and reused, so a training step
/// allocates nothing after the first batch.
final class LowPrecisionScratch {
    var floatColumns: [Float] = []   // float columns of the portable column passes
    var gradBits: [UInt16] = []      // bf16 ∂L/∂y, the GEMM's layout
    var inputBits: [UInt16] = []     // bf16 input (columns for a conv)
    var weightBits: [UInt16] = []    // bf16 Q(W)
    var weightCodes: [Int8] = []     // Q(W) / s_w, when Q(W) has one scale
    var accW: [Int32] = []           // integer weight gradient
    var shiftedCodes: [Int8] = []    // input codes − 128 (dense weight gradient)
    var codeOffsets: [Int32] = []    // 128 · Σ gradient codes per output (dense)
    var accWTotal: [Int32] = []      // integer weight gradient of the chunks so far (conv)
    var accX: [Int32] = []           // integer input gradient
    var flippedCodes: [Int8] = []    // codes(W) of the transposed convolution [C, (ki, kj, K)]
    var compensation: [Int32] = []   // 128 · Σ flippedCodes per input channel
    var gradRows: [UInt8] = []       // u8 rows of the gradient codes (transposed convolution)
    var flippedBits: [UInt16] = []   // bf16 Q(W) of the transposed convolution [C, (ki, kj, K)]
    var gradBitsNHWC: [UInt16] = []  // bf16 ∂L/∂y of a chunk, NHWC
    var gradRowBits: [UInt16] = []   // bf16 rows of ∂L/∂y (transposed convolution)
    var transposedOut: [Float] = []  // the transposed convolution's output [m·H·W, C]
    var paddedImage: [Float] = []    // one zero-padded input image (Conv2D's direct weight gradient)

    /// Whether `loadWeightCodes` runs the AVX-512 kernel (the same codes and verdict).
    var vectorKernel = Kernels.hasAVX512

    /// Grows `a` to at least `n` elements.
    static func reserve<T: BinaryInteger>(_ a: inout [T], _ n: Int) {
        if a.count < n { a = [T](repeating: 0, count: n) }
    }

    /// Codes of Q(W) into `weightCodes` when every value is s·code, |code| ≤ 127, for
    /// one per-tensor scale s; returns s, or nil (per-channel scales, > 8-bit or
    /// float weights) when the input gradient must stay a float GEMM.
    func loadWeightCodes(_ q: UnsafePointer<Float>, count n: Int, precision: Precision, scales: [Float]) -> Float? {
        guard IntegerWeights.maxCode(of: precision) != nil, scales.count == 1, scales[0] > 0, scales[0].isFinite else { return nil }
        let s = scales[0]
        Self.reserve(&weightCodes, n)
        var bad = false
        weightCodes.withUnsafeMutableBufferPointer { cp in
            if vectorKernel { bad = ql_scaled_codes_avx512(q, n, s, cp.baseAddress!) == 0; return }
            for i in 0..<n {
                let j = (q[i] / s).rounded(.toNearestOrEven)
                if s * j != q[i] || abs(j) > 127 { bad = true; break }
                cp[i] = Int8(j)
            }
        }
        return bad ? nil : s
    }
}

/// dst[i·P + j, k] = src[(start + i), k, j] for i < m: a batch chunk [m, K, P] of an
/// NCHW tensor as NHWC [m·P, K].
func nhwcChunk<T>(_ src: UnsafePointer<T>, start: Int, images m: Int, channels k: Int, plane p: Int,
                  into dst: UnsafeMutablePointer<T>) {
    for i in 0..<m {
        for c in 0..<k {
            let s = src + ((start + i) * k + c) * p, d = dst + i * p * k + c
            for j in 0..<p { d[j * k] = s[j] }
        }
    }
}

/// The flipped filters of a transposed convolution: dst[c, (ki, kj, k)] =
/// src[k, c, KH−1−ki, KW−1−kj] for src [K, C, KH, KW] (square kernel).
func flippedFilters<T>(_ src: UnsafePointer<T>, filters kk: Int, channels: Int, kernel: Int, into dst: UnsafeMutablePointer<T>) {
    let taps = kernel * kernel, row = taps * kk
    for c in 0..<channels {
        for t in 0..<taps {
            let ki = t / kernel, kj = t % kernel
            let s = src + (c * kernel + (kernel - 1 - ki)) * kernel + (kernel - 1 - kj)
            for k in 0..<kk { dst[c * row + t * kk + k] = s[k * channels * taps] }
        }
    }
}

/// dst[k, i·P + j] = src[(start + i), k, j] for i < m: a batch chunk [m, K, P] of an
/// NCHW gradient as the K-major matrix [K, m·P] the backward GEMMs read.
@inline(__always)
func kMajorChunk<T>(_ src: UnsafePointer<T>, start: Int, images m: Int, channels k: Int, plane p: Int,
                    into dst: UnsafeMutablePointer<T>) {
    let np = m * p
    for c in 0..<k {
        for i in 0..<m {
            (dst + c * np + i * p).update(from: src + ((start + i) * k + c) * p, count: p)
        }
    }
}
