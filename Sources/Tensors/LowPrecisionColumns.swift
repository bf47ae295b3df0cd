// Column passes of the `gbf16` / `g8` convolution backward (legend as in Im2col.swift):
// im2col straight into bf16 (stride 1 on AVX-512 runs the fused kernel of grad_kernels.c;
// the portable form below is its definition, the tests compare bit for bit), and the
// u8 rows of a transposed convolution over gradient codes.

import CTrainKernels

/// bf16 bits of the column matrix of `x` (N×C×H×W): `BFloat16.bits` of `im2col`.
/// The fused kernel skips the float columns (a write and a read of rows × N·OH·OW
/// floats: `gbf16` ran slower than fp32, perf). `scratch` holds the float columns on
/// the portable path (grown when short).
public func im2colBF16(_ x: UnsafePointer<Float>, batch n: Int, _ g: ConvGeometry,
                       into col: UnsafeMutablePointer<UInt16>, scratch: inout [Float]) {
    if g.stride == 1 && Kernels.hasAVX512 {
        ql_im2col_s1_bf16_avx512(x, n, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.padding, col)
        return
    }
    portableIm2colBF16(x, batch: n, g, into: col, scratch: &scratch)
}

/// `im2colBF16` as `im2col` then `BFloat16.convert`, for every stride and CPU.
public func portableIm2colBF16(_ x: UnsafePointer<Float>, batch n: Int, _ g: ConvGeometry,
                               into col: UnsafeMutablePointer<UInt16>, scratch: inout [Float]) {
    let count = g.rows * n * g.outHeight * g.outWidth
    if scratch.count < count { scratch = [Float](repeating: 0, count: count) }
    scratch.withUnsafeMutableBufferPointer { sp in
        portableIm2col(x, batch: n, g, into: sp.baseAddress!)
        BFloat16.convert(sp.baseAddress!, into: col, count: count)
    }
}

/// The u8 column matrix of NHWC activation codes [n, H, W, C] in im2col order:
/// cols[(c, ki, kj), (b, i, j)] = codes[b, i·S − P + ki, j·S − P + kj, c], 0 outside the
/// image: the left operand of the `g8` weight gradient dQ(W)ᵀ[(c, ki, kj), K] = cols ·
/// codes(dY), positions the inner dimension, as oneDNN 2.6's int8 matmul takes it (it
/// accepts no transposed source: `im2row` and a byte transpose per chunk were 6 % of
/// cifar3 g8 training). AVX-512 where present (16 × 16 byte blocks transposed in
/// registers), else the portable loop; the same bytes.
public func im2colCodes(_ codes: UnsafePointer<UInt8>, batch n: Int, _ g: ConvGeometry,
                        into cols: UnsafeMutablePointer<UInt8>) {
    if Kernels.hasAVX512 {
        ql_im2col_codes_u8_avx512(codes, n, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.stride, g.padding, cols)
        return
    }
    portableIm2colCodes(codes, batch: n, g, into: cols)
}

/// `im2colCodes` as its definition's loop, for every CPU (and the tests).
public func portableIm2colCodes(_ codes: UnsafePointer<UInt8>, batch n: Int, _ g: ConvGeometry,
                                into cols: UnsafeMutablePointer<UInt8>) {
    let oh = g.outHeight, ow = g.outWidth, c = g.channels, np = n * oh * ow
    for ch in 0..<c {
        for ki in 0..<g.kernelH {
            for kj in 0..<g.kernelW {
                let row = cols + ((ch * g.kernelH + ki) * g.kernelW + kj) * np
                for b in 0..<n {
                    for i in 0..<oh {
                        let ih = i * g.stride - g.padding + ki
                        for j in 0..<ow {
                            let iw = j * g.stride - g.padding + kj
                            let inside = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
                            row[(b * oh + i) * ow + j] = inside ? codes[((b * g.height + ih) * g.width + iw) * c + ch] : 0
                        }
                    }
                }
            }
        }
    }
}

/// rows[(b, i, j), (ki, kj, c)] = codes[b, i − P + ki, j − P + kj, c] + 128 as u8
/// (128, code 0, outside the image), stride 1, NHWC s8 codes [n, H, W, C]: the u8
/// left operand of the transposed convolution that gives a `g8` input gradient
/// (oneDNN's integer GEMM takes u8 × s8; the + 128 is taken back with the weights'
/// sums). Output positions (H + 2P − KH + 1) × (W + 2P − KW + 1). AVX-512 where
/// present (each tap row's in-image taps one run of 64-byte xors), the same bytes.
public func im2rowOffset(_ codes: UnsafePointer<Int8>, batch n: Int, channels c: Int, height h: Int, width w: Int,
                         kernel k: Int, padding p: Int, into rows: UnsafeMutablePointer<UInt8>, vector: Bool = Kernels.hasAVX512) {
    if vector { ql_im2row_offset_u8_avx512(codes, n, c, h, w, k, p, rows); return }
    ql_im2row_offset_u8(codes, n, c, h, w, k, p, rows)
}

/// rows[(b, i, j), (ki, kj, c)] = x[b, i − P + ki, j − P + kj, c], 0 outside the image,
/// stride 1, NHWC bf16 bits [n, H, W, C]: the left operand of the transposed
/// convolution that gives a `gbf16` input gradient (bf16 zero is 0). Output positions
/// (H + 2P − K + 1) × (W + 2P − K + 1); runs of in-image taps are copied whole.
public func im2rowBF16(_ x: UnsafePointer<UInt16>, batch n: Int, channels c: Int, height h: Int, width w: Int,
                       kernel k: Int, padding p: Int, into rows: UnsafeMutablePointer<UInt16>) {
    let oh = h + 2 * p - k + 1, ow = w + 2 * p - k + 1, r = k * k * c
    for b in 0..<n {
        let image = x + b * h * w * c
        for i in 0..<oh {
            for j in 0..<ow {
                var dst = rows + ((b * oh + i) * ow + j) * r
                let w0 = j - p, lo = max(0, -w0), hi = min(k, w - w0)
                for ki in 0..<k {
                    let ih = i - p + ki
                    if ih < 0 || ih >= h || hi <= lo {
                        dst.update(repeating: 0, count: k * c)
                    } else {
                        if lo > 0 { dst.update(repeating: 0, count: lo * c) }
                        (dst + lo * c).update(from: image + (ih * w + w0 + lo) * c, count: (hi - lo) * c)
                        if hi < k { (dst + hi * c).update(repeating: 0, count: (k - hi) * c) }
                    }
                    dst += k * c
                }
            }
        }
    }
}

/// The int32 → float epilogue of a `g8` backward GEMM whose result is the transpose of
/// the layout wanted: dst[c·ld + r] = Float(src[r·cols + c] − offset[c]) · scale
/// (offset nil: 0), plus dst[c·ld + r] itself when `accumulate` (the product rounded
/// first, then the sum), r < rows, c < cols. One pass of 16 × 16 blocks transposed in
/// registers where the CPU has AVX-512 (bit-identical to the loop): the scalar loop's
/// strided writes (a page apart for fmnist2's dense1, 3136 × 128) were most of that
/// layer's backward, and the 16-row gathers after it 2.8 % of cifar3 g8 training.
public func int32TransposedToFloat(_ src: UnsafePointer<Int32>, rows: Int, columns cols: Int, offset: UnsafePointer<Int32>? = nil,
                                   scale: Float, accumulate: Bool, into dst: UnsafeMutablePointer<Float>, ld: Int) {
    if Kernels.hasAVX512 {
        ql_s32_transpose_scale_avx512(src, rows, cols, offset, scale, accumulate ? 1 : 0, dst, ld)
        return
    }
    portableInt32TransposedToFloat(src, rows: rows, columns: cols, offset: offset, scale: scale, accumulate: accumulate, into: dst, ld: ld)
}

/// `int32TransposedToFloat` as its definition's loop, for every CPU (and the tests).
public func portableInt32TransposedToFloat(_ src: UnsafePointer<Int32>, rows: Int, columns cols: Int, offset: UnsafePointer<Int32>? = nil,
                                           scale: Float, accumulate: Bool, into dst: UnsafeMutablePointer<Float>, ld: Int) {
    for r in 0..<rows {
        for c in 0..<cols {
            let v = Float(src[r * cols + c] &- (offset?[c] ?? 0)) * scale
            dst[c * ld + r] = accumulate ? dst[c * ld + r] + v : v
        }
    }
}

/// dst[r·cols + c] = Float(src[r·cols + c] + rowOffset[r]) · scale (rowOffset nil: 0),
/// plus dst[r·cols + c] itself when `accumulate` (product rounded first, then the sum):
/// AVX-512 where present, bit-identical to the loop.
public func int32RowsToFloat(_ src: UnsafePointer<Int32>, rows: Int, columns cols: Int, rowOffset: UnsafePointer<Int32>? = nil,
                             scale: Float, accumulate: Bool, into dst: UnsafeMutablePointer<Float>) {
    if Kernels.hasAVX512 {
        ql_s32_rows_scale_avx512(src, rows, cols, rowOffset, scale, accumulate ? 1 : 0, dst)
        return
    }
    portableInt32RowsToFloat(src, rows: rows, columns: cols, rowOffset: rowOffset, scale: scale, accumulate: accumulate, into: dst)
}

/// `int32RowsToFloat` as its definition's loop, for every CPU (and the tests).
public func portableInt32RowsToFloat(_ src: UnsafePointer<Int32>, rows: Int, columns cols: Int, rowOffset: UnsafePointer<Int32>? = nil,
                                     scale: Float, accumulate: Bool, into dst: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let off = rowOffset?[r] ?? 0
        for c in 0..<cols {
            let v = Float(src[r * cols + c] &+ off) * scale
            dst[r * cols + c] = accumulate ? dst[r * cols + c] + v : v
        }
    }
}

/// dst[i] = Float(src[i]) · scale, i < n (AVX-512 where present, the same products).
public func int32ToFloat(_ src: UnsafePointer<Int32>, count n: Int, scale: Float, into dst: UnsafeMutablePointer<Float>) {
    if Kernels.hasAVX512 { ql_s32_scale_avx512(src, n, scale, dst); return }
    for i in 0..<n { dst[i] = Float(src[i]) * scale }
}

/// values[i] = Float(codes[i]) · scale, i < n: the s_g·codes of 8-bit gradient codes,
/// the product `GradientQuantizer.quantize` forms (AVX-512 where present, the same
/// products).
public func gradientValues(_ codes: UnsafePointer<Int8>, count n: Int, scale: Float, into values: UnsafeMutablePointer<Float>) {
    if Kernels.hasAVX512 { ql_codes_to_values_avx512(codes, n, scale, values); return }
    for i in 0..<n { values[i] = Float(codes[i]) * scale }
}
