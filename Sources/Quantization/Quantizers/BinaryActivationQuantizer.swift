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

    /// `forward` and the 2×2 stride-2 max pooling after it in one pass (Sequential fuses
    /// quantize → maxpool 2; issue 11): from x [planes, h, w] (h, w even, AVX-512),
    /// pooled [planes, h/2, w/2] bit for bit the two forwards, and per pooled value the
    /// corner that takes its gradient backward (MaxPool's route where that corner passes
    /// |x| ≤ 1, else 4). `codes`: the next integer layer's sign codes too
    /// (`QuantKernels.quantizePool2`, planes = images · `channels`).
    public func forwardPool2(_ x: UnsafePointer<Float>, planes: Int, height h: Int, width w: Int,
                             into pooled: UnsafeMutablePointer<Float>, routes: UnsafeMutablePointer<UInt8>,
                             channels: Int = 1, codes: UnsafeMutablePointer<UInt8>? = nil) -> Pool2Outcome {
        let coded = QuantKernels.quantizePool2(x, planes: planes, height: h, width: w, .sign, into: pooled, routes: routes,
                                               channels: channels, codes: codes)
        return coded ? .pooledWithCodes : .pooled
    }

    /// |x| ≤ 1 is −1 ≤ x ≤ 1 (NaN fails both): the AVX-512 range mask.
    public func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        Tensors.Kernels.maskInRange(x, dy, dx, count: count, lo: -1, hi: 1)
    }
}
