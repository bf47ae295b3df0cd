import Tensors

/// Rectified linear unit, elementwise on any shape.
///
///   y = max(x, 0)           dx = dy · 1{y > 0}
/// Backward reads the output, so the model need not keep anything else.
/// NaN inputs propagate (as in PyTorch); their gradient is 0.
public final class ReLU: Layer {
    public var name: String

    public init(name: String = "relu") { self.name = name }

    public var spec: String { "relu" }

    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        y.reshapeForOverwrite(x.shape)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                Kernels.relu(xp.baseAddress!, yp.baseAddress!, count: xp.count)
            }
        }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        guard needsInputGradient else { return }
        dx.reshapeForOverwrite(x.shape)
        y.data.withUnsafeBufferPointer { yp in
            dy.data.withUnsafeBufferPointer { gp in
                dx.data.withUnsafeMutableBufferPointer { dp in
                    Kernels.maskPositive(yp.baseAddress!, gp.baseAddress!, dp.baseAddress!, count: yp.count)
                }
            }
        }
    }
}
