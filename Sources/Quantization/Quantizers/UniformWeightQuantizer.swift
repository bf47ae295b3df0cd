import Tensors

/// k-bit uniform weights, symmetric and narrow range (k = 2…16).
///
///     n = 2^(k−1) − 1,   s = max|w| / n,   q(w) = s · clamp(round(w / s), −n, n)
///
/// `s` is taken over the whole tensor, or over each output channel (row) when
/// `perChannel`. Rounding is half to even; with `stochastic` (training only) it is
/// ⌊w/s + u⌋, u ~ U[0, 1) from a seeded SplitMix64, so E[q] = w. An all-zero tensor
/// (or row) has s = 0 and q = 0. Backward is straight through: dw += dq.
///
/// 2n + 1 = 2^k − 1 levels: the narrow range drops −2^(k−1) so that zero sits in the
/// middle and ±max are both representable.
public final class UniformWeightQuantizer: WeightQuantizer {
    /// The bit width; a precision schedule changes it between training steps (``setBits(_:)``).
    public private(set) var bits: Int
    public let perChannel: Bool
    public let stochastic: Bool
    public private(set) var scales: [Float] = []
    /// The stochastic-rounding stream (checkpoints save and restore it).
    public internal(set) var rng: SplitMix64
    /// Restores the stochastic-rounding stream saved by a checkpoint.
    public func restoreRandomState(_ state: UInt64) { rng = SplitMix64(seed: state) }

    public init(bits: Int, perChannel: Bool = false, stochastic: Bool = false, seed: UInt64 = 0) {
        precondition((2...16).contains(bits), "UniformWeightQuantizer: bits must be 2…16, got \(bits)")
        self.bits = bits
        self.perChannel = perChannel
        self.stochastic = stochastic
        self.rng = SplitMix64(seed: seed)
    }

    public var precision: Precision { .bits(bits) }

    /// Changes the bit width in place (precision schedules: no model rebuild). The next
    /// `quantize` uses it; scales are recomputed by every call anyway.
    public func setBits(_ k: Int) {
        precondition((2...16).contains(k), "UniformWeightQuantizer.setBits: bits must be 2…16, got \(k)")
        bits = k
    }
    /// n = 2^(k−1) − 1, the largest code.
    public var maxCode: Int { (1 << (bits - 1)) - 1 }

    public func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int, training: Bool) {
        let groups = perChannel ? channels : 1
        precondition(groups > 0 && count % groups == 0, "UniformWeightQuantizer: \(count) weights do not split into \(groups) channels")
        if scales.count != groups { scales = [Float](repeating: 0, count: groups) }
        let rowLength = count / groups
        let n = Float(maxCode)
        let random = stochastic && training
        scales.withUnsafeMutableBufferPointer { sp in
            for g in 0..<groups {
                let src = w + g * rowLength, dst = q + g * rowLength
                let s = Kernels.stableScale(maxAbs: Kernels.absMax(src, count: rowLength), levels: n)
                sp[g] = s
                if s == 0 {
                    dst.update(repeating: 0, count: rowLength)
                } else if random {
                    roundStochastic(src, into: dst, count: rowLength, scale: s, n: n)
                } else {
                    Self.roundNearest(src, into: dst, count: rowLength, scale: s, n: n)
                }
            }
        }
    }

    /// q = s · clamp(roundEven(w / s), −n, n). Vectorised. Divides rather than
    /// multiplying by 1/s, which would move near-ties by an ulp and break agreement
    /// with the definition; weights are few enough that the division is not felt.
    @inline(__always)
    static func roundNearest(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, scale s: Float, n: Float) {
        for i in 0..<count {
            var j = Kernels.roundEven(w[i] / s)
            j = j > n ? n : j
            j = j < -n ? -n : j
            q[i] = s * j
        }
    }

    /// q = s · clamp(⌊w/s + u⌋, −n, n), u ~ U[0, 1).
    private func roundStochastic(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, scale s: Float, n: Float) {
        var g = rng
        for i in 0..<count {
            var j = Kernels.floorSmall(w[i] / s + g.nextFloat())
            j = j > n ? n : j
            j = j < -n ? -n : j
            q[i] = s * j
        }
        rng = g
    }

    public func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        Kernels.addInto(dw, dq, count: count)
    }

    public func codes(_ w: UnsafePointer<Float>, count: Int, channels: Int) -> WeightCodes? {
        var q = [Float](repeating: 0, count: count)
        q.withUnsafeMutableBufferPointer { quantize(w, into: $0.baseAddress!, count: count, channels: channels, training: false) }
        let rowLength = count / scales.count
        var codes = [Int32](repeating: 0, count: count)
        for g in 0..<scales.count where scales[g] != 0 {
            let s = scales[g]
            for i in g * rowLength..<(g + 1) * rowLength { codes[i] = Int32((q[i] / s).rounded(.toNearestOrEven)) }
        }
        return WeightCodes(scheme: .uniform(bits: bits), codes: codes, scales: scales)
    }
}
