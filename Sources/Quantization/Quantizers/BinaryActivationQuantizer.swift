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
        QuantKernels.sign(x, into: y, count: count)
    }

    /// |x| ≤ 1 is −1 ≤ x ≤ 1 (NaN fails both): the AVX-512 range mask.
    public func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        Tensors.Kernels.maskInRange(x, dy, dx, count: count, lo: -1, hi: 1)
    }
}
