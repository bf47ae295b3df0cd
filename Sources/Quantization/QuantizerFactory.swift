/// Options that choose among quantizer variants.
public struct QuantizerOptions: Hashable, Sendable, Codable {
    /// Weight scales per output channel instead of per tensor (k-bit and ternary weights).
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
    /// ProxConnect for binary and ternary weights (`weights=prox…`); nil: the plain quantizers.
    public var prox: ProxSchedule?
    /// Smart ternary quantization (`stq=…`): binary and ternary layers choose their depth.
    public var stq: STQSettings?
    /// Differentiable mask pruning (`prune=dmp:…`).
    public var prune: PruneSettings?
    /// A training method that replaces backpropagation's update (`method=conntra`); nil: backprop.
    public var method: TrainingMethod?
    /// A precision that changes during training (`schedule=cpt:3-8`, `schedule=w8a8@1,w4a4@3`); nil: fixed.
    public var precisionSchedule: PrecisionSchedule?
    /// The low mode of a dual-precision network (`dual=w2a2`); nil: one mode.
    public var dual: DualPrecision?
    public init() {}
}

/// The weight quantizer for a precision:
/// `32` → `FloatWeights`; `k` → `UniformWeightQuantizer` (per channel, stochastic as
/// the options say); `t` → `TernaryWeightQuantizer`; `1` → `BinaryWeightQuantizer`
/// (XNOR-Net, or BinaryConnect with `options.binaryConnect`).
public func makeWeightQuantizer(_ p: Precision, options: QuantizerOptions = QuantizerOptions()) -> WeightQuantizer {
    switch p {
    case .float:
        return FloatWeights()
    case .bits(let k):
        return UniformWeightQuantizer(bits: k, perChannel: options.perChannel, stochastic: options.stochastic, seed: options.seed)
    case .ternary where options.stq != nil, .binary where options.stq != nil:
        return SmartTernaryQuantizer(startingAt: p)
    case .ternary where options.method == .conntra:
        return ConnTraWeights()
    case .ternary where options.prox != nil, .binary where options.prox != nil:
        return ProxWeightQuantizer(levels: p == .binary ? .binary : .ternary, schedule: options.prox!)
    case .ternary:
        return TernaryWeightQuantizer(perChannel: options.perChannel)
    case .binary:
        return BinaryWeightQuantizer(variant: options.binaryConnect ? .binaryConnect : .xnor)
    }
}

/// The activation quantizer for a precision:
/// `32` → `FloatActivations`; `k` → `UniformActivationQuantizer` (moving-average clip
/// with `options.clipMomentum`, or a learned PACT clip with `options.pact`);
/// `1` → `BinaryActivationQuantizer`. Ternary activations are not defined.
public func makeActivationQuantizer(_ p: Precision, options: QuantizerOptions = QuantizerOptions()) -> ActivationQuantizer {
    switch p {
    case .float:
        return FloatActivations()
    case .bits(let k):
        return UniformActivationQuantizer(bits: k, momentum: options.clipMomentum, learnedClip: options.pact)
    case .binary:
        return BinaryActivationQuantizer()
    case .ternary:
        preconditionFailure("makeActivationQuantizer: ternary activations are not defined (Precision(token:weights: false) rejects `t`)")
    }
}
