import Tensors

/// Hard tanh: clips to [−1, 1], elementwise on any shape. The activation of
/// binary networks (BinaryNet), where it bounds what the sign quantizer sees.
///
///   y = min(max(x, −1), 1)          dx = dy · 1{−1 < x < 1}
/// The gradient is 0 at exactly ±1, as in PyTorch's `hardtanh_backward`.
public final class HardTanh: Layer {
    public var name: String

    public init(name: String = "htanh") { self.name = name }

    public var spec: String { "htanh" }

    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        y.reshapeForOverwrite(x.shape)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                for i in 0..<xp.count { yp[i] = Swift.min(Swift.max(xp[i], -1), 1) }
            }
        }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        guard needsInputGradient else { return }
        dx.reshapeForOverwrite(x.shape)
        // Strict bounds through the inclusive kernel: −1 < x ⇔ x ≥ (−1).nextUp.
        // A select per element, not a branch: the branchy loop ran 20× slower.
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { gp in
                dx.data.withUnsafeMutableBufferPointer { dp in
                    Kernels.maskInRange(xp.baseAddress!, gp.baseAddress!, dp.baseAddress!, count: xp.count,
                                        lo: Float(-1).nextUp, hi: Float(1).nextDown)
                }
            }
        }
    }
}
