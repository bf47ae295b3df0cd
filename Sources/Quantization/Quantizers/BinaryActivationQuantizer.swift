import Tensors

/// Binary activations (BinaryNet, Courbariaux et al. 2016):
///
///     y = sign(x) ∈ {−1, +1}, sign(0) = +1;   backward dx = dy · 1{|x| ≤ 1}
///
/// The mask is the hard-tanh straight-through estimator.
public final class BinaryActivationQuantizer: ActivationQuantizer {
    public init() {}
    public var precision: Precision { .binary }
    public var parameters: [Parameter] { [] }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, training: Bool) {
        for i in 0..<count { y[i] = x[i] >= 0 ? 1 : -1 }
    }

    public func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = x[i], g = dy[i]               // both loaded: a select, so it vectorises
            dx[i] = abs(v) <= 1 ? g : 0
        }
    }
}
