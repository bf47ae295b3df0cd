/// Ternary weights (TWN, Li & Liu 2016):
///
///     Δ = 0.7 · mean|w|,   α = mean{ |w| : |w| > Δ },   q(w) = α · sign(w) · 1{|w| > Δ}
///
/// over the whole tensor (or each output channel when `perChannel`, an extension of
/// the paper). No weight above Δ (an all-zero tensor) gives α = 0 and q = 0.
/// Backward straight through: dw += dq. Means accumulate in Double, so quantizing
/// q again finds the same α (idempotence): mean|q| ≤ α makes every nonzero exceed Δ.
public final class TernaryWeightQuantizer: WeightQuantizer {
    /// The factor of mean|w| that gives the threshold Δ (0.7 in the paper).
    public static let thresholdFactor = 0.7
    public let perChannel: Bool
    public private(set) var scales: [Float] = []
    /// Δ of the last quantization, per group.
    public private(set) var thresholds: [Float] = []

    public init(perChannel: Bool = false) {
        self.perChannel = perChannel
    }

    public var precision: Precision { .ternary }

    public func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int, training: Bool) {
        let groups = perChannel ? channels : 1
        precondition(groups > 0 && count % groups == 0, "TernaryWeightQuantizer: \(count) weights do not split into \(groups) channels")
        if scales.count != groups {
            scales = [Float](repeating: 0, count: groups)
            thresholds = [Float](repeating: 0, count: groups)
        }
        let rowLength = count / groups
        for g in 0..<groups {
            let src = w + g * rowLength, dst = q + g * rowLength
            let delta = rowLength == 0 ? 0 : Float(Self.thresholdFactor * Kernels.absSum(src, count: rowLength) / Double(rowLength))
            let (sum, above) = Self.sumAbove(src, count: rowLength, threshold: delta)
            let alpha = above == 0 ? 0 : Float(sum / Double(above))
            scales[g] = alpha
            thresholds[g] = delta
            let negative = -alpha
            for i in 0..<rowLength {
                let v = src[i]
                dst[i] = v > delta ? alpha : (v < -delta ? negative : 0)
            }
        }
    }

    /// (Σ |w| over |w| > Δ, how many), in Double with four accumulators and selects.
    private static func sumAbove(_ p: UnsafePointer<Float>, count: Int, threshold delta: Float) -> (Double, Int) {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var n0 = 0, n1 = 0, n2 = 0, n3 = 0
        var i = 0
        @inline(__always) func take(_ k: Int, _ s: inout Double, _ n: inout Int) {
            let a = abs(p[k])
            s += a > delta ? Double(a) : 0
            n += a > delta ? 1 : 0
        }
        while i + 4 <= count {
            take(i, &s0, &n0); take(i + 1, &s1, &n1); take(i + 2, &s2, &n2); take(i + 3, &s3, &n3)
            i += 4
        }
        while i < count { take(i, &s0, &n0); i += 1 }
        return ((s0 + s1) + (s2 + s3), n0 + n1 + n2 + n3)
    }

    public func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        Kernels.addInto(dw, dq, count: count)
    }

    public func codes(_ w: UnsafePointer<Float>, count: Int, channels: Int) -> WeightCodes? {
        signCodes(w, count: count, channels: channels, scheme: .ternary)
    }
}
