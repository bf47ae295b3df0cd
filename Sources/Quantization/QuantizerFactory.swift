/// Options that choose among quantizer variants.
public struct QuantizerOptions: Hashable, Sendable {
    /// Weight scales per output channel instead of per tensor (k-bit weights).
    public var perChannel = false
    /// Binary weights: XNOR-Net (α = mean|w| per channel) or BinaryConnect (α = 1, clipped latent weights).
    public var binaryConnect = false
    /// Stochastic rounding for k-bit weights, seeded.
    public var stochastic = false
    /// Learned PACT clip for k-bit activations instead of the moving-average clip.
    public var pact = false
    /// Moving-average momentum of the activation clip.
    public var clipMomentum: Float = 0.9
    /// Seed for stochastic rounding.
    public var seed: UInt64 = 0
    public init() {}
}

/// The weight quantizer for a precision. (Placeholder: float until the quantizers land.)
public func makeWeightQuantizer(_ p: Precision, options: QuantizerOptions = QuantizerOptions()) -> WeightQuantizer {
    FloatWeights()
}

/// The activation quantizer for a precision. (Placeholder: float until the quantizers land.)
public func makeActivationQuantizer(_ p: Precision, options: QuantizerOptions = QuantizerOptions()) -> ActivationQuantizer {
    FloatActivations()
}
