import Tensors

/// The weights of a CoNNTrA layer (Date, Carothers, Mitchell, Hendler & Magdon-Ismail,
/// "Training Deep Neural Networks with Constrained Learning Parameters", 2020): the layer's
/// parameter holds s·c with codes c ∈ {−1, 0, +1} and a scale s fixed when the model is built
/// (``ternarize(_:)``), so there are no latent float weights; training changes codes by
/// coordinate descent (Trials' `ConnTraStep`). Quantizing is the identity: Q(w) = w.
/// Backward passes the gradient through; CoNNTrA uses it only to choose coordinates.
public final class ConnTraWeights: WeightQuantizer {
    public private(set) var scales: [Float] = [0]

    public init() {}

    public var precision: Precision { .ternary }

    public func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int, training: Bool) {
        var s: Float = 0
        for i in 0..<count { s = max(s, abs(w[i])); q[i] = w[i] }
        scales[0] = s
    }

    public func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        Kernels.addInto(dw, dq, count: count)
    }

    public func codes(_ w: UnsafePointer<Float>, count: Int, channels: Int) -> WeightCodes? {
        var s: Float = 0
        for i in 0..<count { s = max(s, abs(w[i])) }
        let codes = (0..<count).map { w[$0] > 0 ? Int32(1) : (w[$0] < 0 ? Int32(-1) : 0) }
        return WeightCodes(scheme: .ternary, codes: codes, scales: [s == 0 ? 1 : s])
    }

    /// Initial weights → s·c in place: TWN's threshold and scale (Δ = 0.7·mean|w|, s = mean of
    /// |w| above Δ), the starting point of coordinate descent. Returns s.
    @discardableResult
    public static func ternarize(_ w: inout [Float]) -> Float {
        let q = TernaryWeightQuantizer().quantized(w)
        let s = q.reduce(Float(0)) { max($0, abs($1)) }
        w = q
        return s
    }
}
