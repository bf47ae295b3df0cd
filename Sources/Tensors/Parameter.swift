/// A trainable tensor and its gradient, owned by a layer (or a quantizer, for a
/// learned clip). Optimizers keep their state keyed by position in the model's
/// parameter list.
public final class Parameter {
    public let name: String
    public var value: Tensor
    public var grad: Tensor
    /// Weight decay applies to this parameter (weights yes; biases, BN, clips no).
    public var decays: Bool
    /// Called by the optimizer after each update (e.g. BinaryConnect clips latent
    /// weights to [-1, 1]).
    public var afterUpdate: ((inout Tensor) -> Void)?

    public init(name: String, value: Tensor, decays: Bool = true) {
        self.name = name
        self.value = value
        self.grad = Tensor(zeros: value.shape)
        self.decays = decays
    }

    public func zeroGrad() { grad.fill(0) }
}
