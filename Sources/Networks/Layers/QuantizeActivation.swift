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
