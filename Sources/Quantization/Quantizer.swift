import Tensors

/// Quantizes a layer's latent (float) weights in the forward pass and passes the
/// gradient straight through in the backward pass.
///
/// Weights are laid out output-channel first: `channels` rows of `count / channels`
/// values (Dense: out × in; Conv2D: K × C·KH·KW), so per-channel scales index rows.
public protocol WeightQuantizer: AnyObject {
    var precision: Precision { get }
    /// q = Q(w), elementwise into `q` (same layout). Remembers what backward and
    /// export need (scales).
    func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int)
    /// Straight-through estimator: dw += mask(w) · dq.
    func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int)
}

/// Quantizes the activation that follows a layer (after its nonlinearity).
public protocol ActivationQuantizer: AnyObject {
    var precision: Precision { get }
    /// y = Q(x). In training, updates running statistics (the clip).
    func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, training: Bool)
    /// dx = STE mask(x) · dy (overwrites dx).
    func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int)
    /// Learned parameters (a PACT clip), empty otherwise.
    var parameters: [Parameter] { get }
}

/// The identity weight quantizer (32-bit float).
public final class FloatWeights: WeightQuantizer {
    public init() {}
    public var precision: Precision { .float }
    public func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        q.update(from: w, count: count)
    }
    public func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        for i in 0..<count { dw[i] += dq[i] }
    }
}

/// The identity activation quantizer (32-bit float).
public final class FloatActivations: ActivationQuantizer {
    public init() {}
    public var precision: Precision { .float }
    public var parameters: [Parameter] { [] }
    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, training: Bool) {
        if UnsafePointer(y) != x { y.update(from: x, count: count) }
    }
    public func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        if UnsafePointer(dx) != dy { dx.update(from: dy, count: count) }
    }
}
