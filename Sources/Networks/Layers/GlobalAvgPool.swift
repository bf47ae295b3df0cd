import Tensors

/// Global average pooling: the mean of each channel plane, [N, C, H, W] → [N, C].
///
///   y[n, c] = (1/(H·W)) Σ_{i, j} x[n, c, i, j]        dx[n, c, i, j] = dy[n, c] / (H·W)
///
/// The output is flat, so a `dense` layer follows directly (ResNet's head: `gap | dense 10`).
public final class GlobalAvgPool: Layer {
    public var name: String

    public init(name: String = "gap") { self.name = name }

    public var spec: String { "gap" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3 else {
            throw ModelError("\(name) (\(spec)): expects an image input C×H×W, got \(shapeText(input))")
        }
        return [input[0]]
    }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        precondition(x.rank == 4, "\(name): expects a batch N×C×H×W, got \(x.shape)")
        let planes = x.shape[0] * x.shape[1], plane = x.shape[2] * x.shape[3]
        let scale = 1 / Float(plane)
        y.reshapeForOverwrite([x.shape[0], x.shape[1]])
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                for p in 0..<planes { yb[p] = LayerBuffers.sum(xb.baseAddress! + p * plane, count: plane) * scale }
            }
        }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        guard needsInputGradient else { return }
        let planes = x.shape[0] * x.shape[1], plane = x.shape[2] * x.shape[3]
        let scale = 1 / Float(plane)
        dx.reshapeForOverwrite(x.shape)
        dy.data.withUnsafeBufferPointer { db in
            dx.data.withUnsafeMutableBufferPointer { xb in
                for p in 0..<planes {
                    (xb.baseAddress! + p * plane).update(repeating: db[p] * scale, count: plane)
                }
            }
        }
    }
}
