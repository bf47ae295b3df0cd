import Tensors
import Quantization

/// Applies a weighted layer's activation quantizer at the point in the network
/// where that layer's activation is complete (after its BatchNorm and nonlinearity).
/// The quantizer stays owned by the weighted layer; this node only places it.
public final class QuantizeActivation: Layer {
    public var name: String
    public unowned let owner: WeightedLayer
    /// Called after each forward with the values that entered the quantizer and what it
    /// made of them (teaching views read real activations through it); nil in training.
    public var probe: ((_ input: UnsafeBufferPointer<Float>, _ output: UnsafeBufferPointer<Float>) -> Void)?

    public init(owner: WeightedLayer) {
        self.owner = owner
        self.name = owner.name + ".act"
    }

    public var spec: String { "quantize a\(owner.activationQuantizer.precision.token)" }

    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        y.reshapeForOverwrite(x.shape)
        let n = x.count
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                owner.activationQuantizer.forward(xp.baseAddress!, into: yp.baseAddress!, count: n, training: training)
                probe?(xp, UnsafeBufferPointer(yp))
            }
        }
    }

    /// Whether the last forward pass ran fused with the ReLU before this node.
    public private(set) var lastForwardAfterReLU = false

    /// y = Q(max(x, 0)) from the input x of the ReLU before this node, in place of the
    /// ReLU's forward and this node's (bit for bit the same y; one pass over the batch
    /// instead of three: ReLU, the clip's maximum, Q). False, with nothing done, unless
    /// the quantizer is a uniform one and no probe watches (the probe is shown the
    /// ReLU's output). `Sequential` fuses ReLU–quantizer pairs through it.
    public func forwardAfterReLU(_ x: Tensor, into y: inout Tensor, training: Bool) -> Bool {
        lastForwardAfterReLU = false
        guard probe == nil, let q = owner.activationQuantizer as? UniformActivationQuantizer else { return false }
        y.reshapeForOverwrite(x.shape)
        let n = x.count
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                q.forwardAfterReLU(xp.baseAddress!, into: yp.baseAddress!, count: n, training: training)
            }
        }
        lastForwardAfterReLU = true
        return true
    }

    /// The backward of `forwardAfterReLU` and of the ReLU in one pass: dx = dy · 1{0 < x ≤ c}
    /// from the ReLU's input x (see `UniformActivationQuantizer.backwardAfterReLU`).
    public func backwardAfterReLU(input x: Tensor, gradient dy: Tensor, into dx: inout Tensor) {
        guard let q = owner.activationQuantizer as? UniformActivationQuantizer else {
            preconditionFailure("\(name): backwardAfterReLU without a uniform activation quantizer")
        }
        dx.reshapeForOverwrite(x.shape)
        let n = x.count
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dp in
                dx.data.withUnsafeMutableBufferPointer { gp in
                    q.backwardAfterReLU(xp.baseAddress!, gradient: dp.baseAddress!, into: gp.baseAddress!, count: n)
                }
            }
        }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        dx.reshapeForOverwrite(x.shape)
        let n = x.count
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dp in
                dx.data.withUnsafeMutableBufferPointer { gp in
                    owner.activationQuantizer.backward(xp.baseAddress!, gradient: dp.baseAddress!, into: gp.baseAddress!, count: n)
                }
            }
        }
    }
}
