import Tensors

/// Quantizes a layer's latent (float) weights in the forward pass and passes the
/// gradient straight through in the backward pass.
///
/// Weights are laid out output-channel first: `channels` rows of `count / channels`
/// values (Dense: out × in; Conv2D: K × C·KH·KW), so per-channel scales index rows.
public protocol WeightQuantizer: AnyObject {
    var precision: Precision { get }
    /// q = Q(w), elementwise into `q` (same layout). Remembers what backward and
    /// export need (scales). `training` only matters for stochastic rounding, which
    /// rounds to nearest when false.
    func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int, training: Bool)
    /// Straight-through estimator: dw += mask(w) · dq.
    func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int)
    /// Scales of the last `quantize` call: one per tensor, or one per output channel.
    /// Empty for float.
    var scales: [Float] { get }
    /// The integer codes and scales of Q(w), for export: Q(w)[i] = scales[group(i)] · codes[i].
    /// Always rounds to nearest (stochastic rounding is a training device). Nil for float.
    func codes(_ w: UnsafePointer<Float>, count: Int, channels: Int) -> WeightCodes?
    /// What the optimizer should run on the latent weights after each update
    /// (BinaryConnect clips them to [−1, 1]); nil when nothing.
    var latentWeightUpdate: ((inout Tensor) -> Void)? { get }
    /// Learned parameters of the quantizer itself (a pruning mask's scores, a depth
    /// parameter); the layer's optimizer moves them and checkpoints keep them. Empty by default.
    var parameters: [Parameter] { get }
    /// Whether the layer must call `quantize` (false only for float weights used as they are).
    var transformsWeights: Bool { get }
}

extension WeightQuantizer {
    /// Training-mode quantization (the signature layers used before `training:` existed).
    public func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        quantize(w, into: q, count: count, channels: channels, training: true)
    }
    public var scales: [Float] { [] }
    public func codes(_ w: UnsafePointer<Float>, count: Int, channels: Int) -> WeightCodes? { nil }
    public var latentWeightUpdate: ((inout Tensor) -> Void)? { nil }
    public var parameters: [Parameter] { [] }
    public var transformsWeights: Bool { precision != .float }

    /// Convenience over arrays (tests, export, teaching views; allocates).
    public func quantized(_ w: [Float], channels: Int = 1, training: Bool = false) -> [Float] {
        var q = [Float](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { wp in
            q.withUnsafeMutableBufferPointer { qp in
                quantize(wp.baseAddress!, into: qp.baseAddress!, count: w.count, channels: channels, training: training)
            }
        }
        return q
    }

    /// Codes −1, 0, +1 of Q(w) at evaluation (one scale per entry of `scales`): the export of
    /// quantizers whose levels are ±α and 0 (ternary, smart ternary).
    public func signCodes(_ w: UnsafePointer<Float>, count: Int, channels: Int, scheme: WeightCodes.Scheme) -> WeightCodes {
        var q = [Float](repeating: 0, count: count)
        q.withUnsafeMutableBufferPointer { quantize(w, into: $0.baseAddress!, count: count, channels: channels, training: false) }
        let codes = q.map { $0 > 0 ? Int32(1) : ($0 < 0 ? Int32(-1) : 0) }
        return WeightCodes(scheme: scheme, codes: codes, scales: scales)
    }

    /// Codes over an array.
    public func codes(_ w: [Float], channels: Int = 1) -> WeightCodes? {
        w.withUnsafeBufferPointer { codes($0.baseAddress!, count: w.count, channels: channels) }
    }
}

/// Sets (or clears) `parameter.afterUpdate` to what `quantizer` needs on its latent
/// weights: the model builder calls this whenever it gives a layer a weight quantizer.
public func installLatentWeightUpdate(of quantizer: WeightQuantizer, on parameter: Parameter) {
    parameter.afterUpdate = quantizer.latentWeightUpdate
}

/// Quantizes the activation that follows a layer (after its nonlinearity).
public protocol ActivationQuantizer: AnyObject {
    var precision: Precision { get }
    /// y = Q(x). In training, updates running statistics (the clip). `y` may be `x`.
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, training: Bool)
    /// dx = STE mask(x) · dy (overwrites dx; `dx` may be `dy`). Adds into the
    /// gradients of learned parameters.
    func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int)
    /// Learned parameters (a PACT clip), empty otherwise.
    var parameters: [Parameter] { get }
    /// The clip c of the range [0, c], once known (after the first training batch or a
    /// restore); nil for quantizers without one. Setting it freezes that value in.
    var clip: Float? { get set }
}

extension ActivationQuantizer {
    public var clip: Float? {
        get { nil }
        set {}
    }

    /// Convenience over arrays (tests, teaching views; allocates).
    public func forward(_ x: [Float], training: Bool) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                forward(xp.baseAddress!, into: yp.baseAddress!, count: x.count, training: training)
            }
        }
        return y
    }

    /// Backward over arrays.
    public func backward(_ x: [Float], gradient dy: [Float]) -> [Float] {
        precondition(x.count == dy.count, "ActivationQuantizer.backward: x has \(x.count) values, dy \(dy.count)")
        var dx = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            dy.withUnsafeBufferPointer { dp in
                dx.withUnsafeMutableBufferPointer { gp in
                    backward(xp.baseAddress!, gradient: dp.baseAddress!, into: gp.baseAddress!, count: x.count)
                }
            }
        }
        return dx
    }
}
