import Tensors
import CTrainKernels

/// Max pooling over square windows of each channel plane.
///
/// Forward, for input x [N, C, H, W] and output y [N, C, OH, OW]:
///   y[n, c, i, j] = max_{a, b < window} x[n, c, i·S + a, j·S + b]
/// Backward routes each dy to the position of its window's maximum (the first in
/// row-major window order on ties, as PyTorch):
///   dx[n, c, argmax] += dy[n, c, i, j]   (other inputs get 0).
public final class MaxPool: Layer {
    public var name: String
    public let window: PoolWindow

    /// Whether 2×2 stride-2 windows run the AVX-512 kernels of `CTrainKernels` (where the
    /// CPU has them; the same values as the loops below, which tests compare by turning it off).
    public var vectorKernels = Kernels.hasAVX512

    /// Set by `Sequential` when this pooling reads a ReLU's output: backward then also
    /// applies the ReLU's mask (dx = 0 where x ≤ 0) and the model skips the ReLU's
    /// backward. Same values: dy reaches only the position of its window's maximum m,
    /// and that position passes the ReLU's mask exactly when m > 0. Saves reading and
    /// writing the full-size gradient once more (ql_mask_positive was 3.8% of cifar3
    /// fp32 training, perf).
    var masksReLU = false

    /// Per output, the corner of its window that takes its gradient (0…3 row-major, 4:
    /// none), written by `Conv2D.forwardReLUPool` when this pooling runs fused with the
    /// conv and ReLU below it (Conv2D+ReLUPool.swift), or by `QuantizeActivation.forwardPool2`
    /// when it runs fused with the activation quantizer below it, and read by their backward.
    var routes: [UInt8] = []

    public init(name: String = "maxpool", window: Int, stride: Int? = nil) {
        self.name = name
        self.window = PoolWindow(size: window, stride: stride)
    }

    public var spec: String { "maxpool " + window.specSuffix }

    public func outputShape(for input: [Int]) throws -> [Int] {
        try window.outputShape(for: input, layer: "\(name) (\(spec))")
    }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        precondition(x.rank == 4, "\(name): expects a batch N×C×H×W, got \(x.shape)")
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
        let oh = window.outSize(h), ow = window.outSize(w)
        let k = window.size, s = window.stride
        y.reshapeForOverwrite([x.shape[0], x.shape[1], oh, ow])
        if k == 2 && s == 2 && vectorKernels {
            // 16 windows per step; the Swift form below ran SSE with lane shuffles.
            x.data.withUnsafeBufferPointer { xb in
                y.data.withUnsafeMutableBufferPointer { yb in
                    ql_maxpool2_forward_avx512(xb.baseAddress!, yb.baseAddress!, planes, h, w)
                }
            }
            return
        }
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                let xp = xb.baseAddress!, yp = yb.baseAddress!
                for p in 0..<planes {
                    let src = xp + p * h * w
                    let dst = yp + p * oh * ow
                    if k == 2 && s == 2 {
                        // The common case, branch-free: max of each 2×2 block.
                        for i in 0..<oh {
                            let r0 = src + 2 * i * w, r1 = r0 + w, d = dst + i * ow
                            for j in 0..<ow {
                                d[j] = Swift.max(Swift.max(r0[2 * j], r0[2 * j + 1]), Swift.max(r1[2 * j], r1[2 * j + 1]))
                            }
                        }
                        continue
                    }
                    for i in 0..<oh {
                        for j in 0..<ow {
                            var m = -Float.infinity
                            for a in 0..<k {
                                let row = src + (i * s + a) * w + j * s
                                for b in 0..<k { m = Swift.max(m, row[b]) }
                            }
                            dst[i * ow + j] = m
                        }
                    }
                }
            }
        }
    }

    /// Routes each dy to the first position (row-major in its window) holding the
    /// window's maximum, found again by comparison with y — cheaper than storing
    /// indices in forward, which made the forward pass branchy (perf, fmnist2).
    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        guard needsInputGradient else { return }
        let h = x.shape[2], w = x.shape[3], oh = dy.shape[2], ow = dy.shape[3]
        let planes = x.shape[0] * x.shape[1]
        let k = window.size, s = window.stride
        dx.reshapeForOverwrite(x.shape)
        // Disjoint 2×2 blocks that tile the plane write every dx below: no zeroing
        // (the fill was 2.4% of cifar3 training in perf).
        if !(k == 2 && s == 2 && h == 2 * oh && w == 2 * ow) { dx.fill(0) }
        if k == 2 && s == 2 && vectorKernels {
            // 16 windows per step with mask registers: the Swift form below built its
            // selects from SSE lane extracts and inserts (perf annotate: 6–7% of cifar3 training).
            x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeBufferPointer { yb in
            dy.data.withUnsafeBufferPointer { db in
            dx.data.withUnsafeMutableBufferPointer { gb in
                ql_maxpool2_backward_avx512(xb.baseAddress!, yb.baseAddress!, db.baseAddress!, gb.baseAddress!,
                                            planes, h, w, masksReLU ? 1 : 0)
            } } } }
            return
        }
        defer { if masksReLU { applyReLUMask(input: x, to: &dx) } }
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeBufferPointer { yb in
                dy.data.withUnsafeBufferPointer { db in
                    dx.data.withUnsafeMutableBufferPointer { gb in
                        for p in 0..<planes {
                            let src = xb.baseAddress! + p * h * w, dst = gb.baseAddress! + p * h * w
                            let out = yb.baseAddress! + p * oh * ow, g = db.baseAddress! + p * oh * ow
                            if k == 2 && s == 2 {
                                // Disjoint 2×2 blocks: the gradient goes to the first match, by selects.
                                for i in 0..<oh {
                                    let r0 = 2 * i * w, r1 = r0 + w
                                    var j = 0
                                    // Four windows at a time: deinterleave the two input rows into the
                                    // window corners a b / c d, route dy to the first corner equal to
                                    // the maximum with vector selects (the scalar form branched per
                                    // element: 13% of cifar3 training in perf).
                                    let zero = SIMD4<Float>(repeating: 0)
                                    while j + 4 <= ow {
                                        let top = UnsafeRawPointer(src + r0 + 2 * j).loadUnaligned(as: SIMD8<Float>.self)
                                        let bottom = UnsafeRawPointer(src + r1 + 2 * j).loadUnaligned(as: SIMD8<Float>.self)
                                        let m = UnsafeRawPointer(out + i * ow + j).loadUnaligned(as: SIMD4<Float>.self)
                                        let gv = UnsafeRawPointer(g + i * ow + j).loadUnaligned(as: SIMD4<Float>.self)
                                        let ea = top.evenHalf .== m, eb = top.oddHalf .== m
                                        let ec = bottom.evenHalf .== m, ed = bottom.oddHalf .== m
                                        let ga = zero.replacing(with: gv, where: ea)
                                        var rest = gv.replacing(with: zero, where: ea)
                                        let gb = zero.replacing(with: rest, where: eb)
                                        rest = rest.replacing(with: zero, where: eb)
                                        let gc = zero.replacing(with: rest, where: ec)
                                        rest = rest.replacing(with: zero, where: ec)
                                        let gd = zero.replacing(with: rest, where: ed)
                                        UnsafeMutableRawPointer(dst + r0 + 2 * j).storeBytes(
                                            of: SIMD8(ga[0], gb[0], ga[1], gb[1], ga[2], gb[2], ga[3], gb[3]), as: SIMD8<Float>.self)
                                        UnsafeMutableRawPointer(dst + r1 + 2 * j).storeBytes(
                                            of: SIMD8(gc[0], gd[0], gc[1], gd[1], gc[2], gd[2], gc[3], gd[3]), as: SIMD8<Float>.self)
                                        j += 4
                                    }
                                    while j < ow {
                                        let m = out[i * ow + j], gv = g[i * ow + j]
                                        let a = r0 + 2 * j, b = a + 1, c = r1 + 2 * j, d = c + 1
                                        var rest = gv
                                        let ea = src[a] == m; dst[a] = ea ? rest : 0; rest = ea ? 0 : rest
                                        let eb = src[b] == m; dst[b] = eb ? rest : 0; rest = eb ? 0 : rest
                                        let ec = src[c] == m; dst[c] = ec ? rest : 0; rest = ec ? 0 : rest
                                        dst[d] = src[d] == m ? rest : 0
                                        j += 1
                                    }
                                }
                                continue
                            }
                            for i in 0..<oh {
                                for j in 0..<ow {
                                    let m = out[i * ow + j]
                                    var found = false
                                    for a in 0..<k where !found {
                                        let row = (i * s + a) * w + j * s
                                        for b in 0..<k where src[row + b] == m {
                                            dst[row + b] += g[i * ow + j]
                                            found = true
                                            break
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// dx = x > 0 ? dx : 0, the ReLU backward (`Kernels.maskPositive`) on the pooled gradient.
    private func applyReLUMask(input x: Tensor, to dx: inout Tensor) {
        x.data.withUnsafeBufferPointer { xb in
            dx.data.withUnsafeMutableBufferPointer { gb in
                let g = UnsafePointer(gb.baseAddress!)
                Kernels.maskPositive(xb.baseAddress!, g, gb.baseAddress!, count: xb.count)
            }
        }
    }
}
