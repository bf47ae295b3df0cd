// Dimension legend: N batch, C input channels, H×W input size, KH×KW kernel,
// OH×OW output size, S stride, P zero padding.
//
// The batched column matrix has C·KH·KW rows and N·OH·OW columns: row r = (c, ki, kj),
// column q = (n, oh, ow). One sgemm over the whole batch then computes every output
// (weights K×(C·KH·KW) times columns), which keeps the GEMM large even for small
// images (cifar3's first conv has only 27 rows).

import CTrainKernels

/// Geometry of a 2-D convolution or pooling window.
public struct ConvGeometry: Equatable, Sendable {
    public var channels: Int, height: Int, width: Int
    public var kernelH: Int, kernelW: Int
    public var stride: Int, padding: Int

    public init(channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int, stride: Int = 1, padding: Int = 0) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW; self.stride = stride; self.padding = padding
    }

    public var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
    public var rows: Int { channels * kernelH * kernelW }
}

/// Writes the batched column matrix of `x` (N×C×H×W) into `col` (rows × N·OH·OW).
///
/// Loop order c → image → (ki, kj) → output row: the nine taps of a channel plane
/// are written while that plane is in L1 (tap-major over the whole chunk, as before,
/// re-read every plane nine times: im2col + col2im were 16% of cifar3 fp32 training, perf).
/// Stride 1 on AVX-512 runs `ql_im2col_s1_avx512` (the same values; masked row stores
/// instead of memmove/memset calls on rows of 8–32 floats: 8% + 5% memmove of cifar3 fp32
/// training, perf); `portableIm2col` is the reference.
public func im2col(_ x: UnsafePointer<Float>, batch n: Int, _ g: ConvGeometry, into col: UnsafeMutablePointer<Float>) {
    if g.stride == 1 && Kernels.hasAVX512 {
        ql_im2col_s1_avx512(x, n, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.padding, col)
        return
    }
    portableIm2col(x, batch: n, g, into: col)
}

/// `im2col` in Swift, for every stride and CPU.
public func portableIm2col(_ x: UnsafePointer<Float>, batch n: Int, _ g: ConvGeometry, into col: UnsafeMutablePointer<Float>) {
    let oh = g.outHeight, ow = g.outWidth
    let plane = oh * ow, cols = n * plane
    let hw = g.height * g.width
    for c in 0..<g.channels {
        for b in 0..<n {
            let src = x + (b * g.channels + c) * hw
            for ki in 0..<g.kernelH {
                for kj in 0..<g.kernelW {
                    let row = (c * g.kernelH + ki) * g.kernelW + kj
                    let d = col + row * cols + b * plane
                    let (lo, hi) = g.validColumns(kj)
                    for i in 0..<oh {
                        let ih = i * g.stride - g.padding + ki
                        let drow = d + i * ow
                        if ih < 0 || ih >= g.height {
                            drow.update(repeating: 0, count: ow)
                            continue
                        }
                        let srow = src + ih * g.width
                        if g.stride == 1 {
                            // Contiguous run; zero the padded ends.
                            if lo > 0 { drow.update(repeating: 0, count: lo) }
                            if hi > lo { (drow + lo).update(from: srow + (lo - g.padding + kj), count: hi - lo) }
                            if hi < ow { (drow + max(hi, 0)).update(repeating: 0, count: ow - max(hi, 0)) }
                        } else {
                            for j in 0..<ow {
                                let iw = j * g.stride - g.padding + kj
                                drow[j] = (iw >= 0 && iw < g.width) ? srow[iw] : 0
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Adds the batched column matrix `col` back into `dx` (N×C×H×W): the adjoint of
/// `im2col`. With `overwrite` the n images of `dx` are zeroed first (here, while the
/// chunk's dx is about to be read: a caller's fill of the whole batch's dx ran as a
/// separate pass from memory); else it accumulates into what dx holds. Either way each
/// element is +0 plus its terms, so the same bits as a zeroed dx.
///
/// Loop order c → image → (ki, kj) → output row, so a dx plane takes its nine taps
/// while in L1. Each dx element still receives its terms in (ki, kj) order, the
/// order of the tap-major loop this replaced: the sums are bit-identical.
/// Stride 1 on AVX-512 runs `ql_col2im_s1_avx512`: the same loop order, so the same
/// sums bit for bit; `portableCol2im` is the reference.
public func col2im(_ col: UnsafePointer<Float>, batch n: Int, _ g: ConvGeometry, into dx: UnsafeMutablePointer<Float>,
                   overwrite: Bool = false) {
    if overwrite { dx.update(repeating: 0, count: n * g.channels * g.height * g.width) }
    if g.stride == 1 && Kernels.hasAVX512 {
        ql_col2im_s1_avx512(col, n, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.padding, dx)
        return
    }
    portableCol2im(col, batch: n, g, into: dx)
}

/// `col2im` in Swift, for every stride and CPU.
public func portableCol2im(_ col: UnsafePointer<Float>, batch n: Int, _ g: ConvGeometry, into dx: UnsafeMutablePointer<Float>) {
    let oh = g.outHeight, ow = g.outWidth
    let plane = oh * ow, cols = n * plane
    let hw = g.height * g.width
    for c in 0..<g.channels {
        for b in 0..<n {
            let dst = dx + (b * g.channels + c) * hw
            for ki in 0..<g.kernelH {
                for kj in 0..<g.kernelW {
                    let row = (c * g.kernelH + ki) * g.kernelW + kj
                    let s = col + row * cols + b * plane
                    let (lo, hi) = g.validColumns(kj)
                    for i in 0..<oh {
                        let ih = i * g.stride - g.padding + ki
                        if ih < 0 || ih >= g.height { continue }
                        let drow = dst + ih * g.width
                        let srow = s + i * ow
                        if g.stride == 1 {
                            if hi > lo { addInto(drow + (lo - g.padding + kj), srow + lo, count: hi - lo) }
                        } else {
                            for j in 0..<ow {
                                let iw = j * g.stride - g.padding + kj
                                if iw >= 0 && iw < g.width { drow[iw] += srow[j] }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension ConvGeometry {
    /// For stride 1: the output columns lo..<hi whose tap kj reads inside the image.
    @inline(__always)
    func validColumns(_ kj: Int) -> (Int, Int) {
        let ow = outWidth
        return (min(ow, max(0, padding - kj)), min(ow, width + padding - kj))
    }
}

/// d[j] += s[j], eight lanes at a time (the scalar loop did not vectorise: the
/// pointers may alias).
@inline(__always)
func addInto(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, count n: Int) {
    var j = 0
    while j + 8 <= n {
        let a = UnsafeRawPointer(d + j).loadUnaligned(as: SIMD8<Float>.self)
        let b = UnsafeRawPointer(s + j).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(d + j).storeBytes(of: a + b, as: SIMD8<Float>.self)
        j += 8
    }
    while j < n { d[j] += s[j]; j += 1 }
}
