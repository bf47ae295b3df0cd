import Tensors

/// The parameter-free shortcut of He et al. 2016 (option A), for a residual block
/// whose main path halves the plane and widens the channels: keep every S-th row and
/// column from the first and append zero channels, [N, C, H, W] → [N, F, ⌈H/S⌉, ⌈W/S⌉].
///
///   y[n, c, i, j] = x[n, c, i·S, j·S] for c < C, 0 for C ≤ c < F
///   dx[n, c, i·S, j·S] = dy[n, c, i, j] for c < C, 0 elsewhere
///
/// Zero channels go after the kept ones, as in fb.resnet.torch's shortcut type A.
public final class ChannelPad: Layer {
    public var name: String
    public let channels: Int, stride: Int

    public init(name: String = "pad", channels: Int, stride: Int = 1) {
        precondition(channels >= 1 && stride >= 1, "ChannelPad: channels ≥ 1 and stride ≥ 1")
        self.name = name; self.channels = channels; self.stride = stride
    }

    public var spec: String { "pad \(channels)" + (stride != 1 ? " s\(stride)" : "") }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3 else {
            throw ModelError("\(name) (\(spec)): expects an image input C×H×W, got \(shapeText(input))")
        }
        guard input[0] <= channels else {
            throw ModelError("\(name) (\(spec)): pads to \(channels) channels but its input \(shapeText(input)) has more")
        }
        return [channels, (input[1] + stride - 1) / stride, (input[2] + stride - 1) / stride]
    }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride
        y.reshapeForOverwrite([n, channels, oh, ow])
        y.fill(0)
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                for i in 0..<n {
                    for k in 0..<c {
                        let src = xb.baseAddress! + (i * c + k) * h * w
                        let dst = yb.baseAddress! + (i * channels + k) * oh * ow
                        for r in 0..<oh { for q in 0..<ow { dst[r * ow + q] = src[r * stride * w + q * stride] } }
                    }
                }
            }
        }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        guard needsInputGradient else { return }
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let oh = dy.shape[2], ow = dy.shape[3]
        dx.reshapeForOverwrite(x.shape)
        dx.fill(0)
        dy.data.withUnsafeBufferPointer { db in
            dx.data.withUnsafeMutableBufferPointer { xb in
                for i in 0..<n {
                    for k in 0..<c {
                        let src = db.baseAddress! + (i * channels + k) * oh * ow
                        let dst = xb.baseAddress! + (i * c + k) * h * w
                        for r in 0..<oh { for q in 0..<ow { dst[r * stride * w + q * stride] = src[r * ow + q] } }
                    }
                }
            }
        }
    }
}
