import Tensors

/// Max pooling over square windows of each channel plane.
///
/// Forward, for input x [N, C, H, W] and output y [N, C, OH, OW]:
///   y[n, c, i, j] = max_{a, b < window} x[n, c, i·S + a, j·S + b]
/// The position of each maximum (the first one in row-major window order on ties,
/// as PyTorch) is remembered, so backward routes each dy to that input only:
///   dx[n, c, argmax] += dy[n, c, i, j]   (other inputs get 0).
/// A NaN in a window wins, so NaNs propagate as in PyTorch.
public final class MaxPool: Layer {
    public var name: String
    public let window: PoolWindow
    /// Argmax per output, as an offset inside its input plane (H·W < 2³¹).
    private var argmax: [Int32] = []

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
        if argmax.count != y.count { argmax = [Int32](repeating: 0, count: y.count) }
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                argmax.withUnsafeMutableBufferPointer { ab in
                    let xp = xb.baseAddress!, yp = yb.baseAddress!, ap = ab.baseAddress!
                    for p in 0..<planes {
                        let src = xp + p * h * w
                        let dst = yp + p * oh * ow, idx = ap + p * oh * ow
                        for i in 0..<oh {
                            for j in 0..<ow {
                                var best = (i * s) * w + j * s
                                var m = src[best]
                                for a in 0..<k {
                                    let row = (i * s + a) * w + j * s
                                    for b in 0..<k {
                                        let v = src[row + b]
                                        if v > m || (v.isNaN && !m.isNaN) { m = v; best = row + b }
                                    }
                                }
                                dst[i * ow + j] = m
                                idx[i * ow + j] = Int32(truncatingIfNeeded: best)
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        guard needsInputGradient else { return }
        let plane = x.shape[2] * x.shape[3], outPlane = dy.shape[2] * dy.shape[3]
        let planes = x.shape[0] * x.shape[1]
        dx.reshapeForOverwrite(x.shape)
        dx.fill(0)
        dy.data.withUnsafeBufferPointer { db in
            dx.data.withUnsafeMutableBufferPointer { xb in
                argmax.withUnsafeBufferPointer { ab in
                    for p in 0..<planes {
                        let dst = xb.baseAddress! + p * plane
                        for q in (p * outPlane)..<((p + 1) * outPlane) {
                            dst[Int(ab[q])] += db[q]
                        }
                    }
                }
            }
        }
    }
}
