import Tensors

/// Binary weights: q(w) = α · sign(w), sign(0) = +1.
///
/// - XNOR-Net (Rastegari et al. 2016): α = mean|w| over each output channel (row).
///   Backward straight through: dw += dq.
/// - BinaryConnect (Courbariaux et al. 2015): α = 1. Backward dw += dq · 1{|w| ≤ 1};
///   the latent weights are clipped to [−1, 1] after each optimizer step
///   (`latentWeightUpdate`, installed with `installLatentWeightUpdate(of:on:)`).
///
/// Means accumulate in Double, so α of already-binarised weights is α again
/// (idempotence).
public final class BinaryWeightQuantizer: WeightQuantizer {
    public enum Variant: String, Sendable {
        case xnor, binaryConnect
    }

    public let variant: Variant
    public private(set) var scales: [Float] = []

    public init(variant: Variant = .xnor) {
        self.variant = variant
    }

    public var precision: Precision { .binary }

    public func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int, training: Bool) {
        let groups = variant == .xnor ? channels : 1
        precondition(groups > 0 && count % groups == 0, "BinaryWeightQuantizer: \(count) weights do not split into \(groups) channels")
        if scales.count != groups { scales = [Float](repeating: 0, count: groups) }
        let rowLength = count / groups
        scales.withUnsafeMutableBufferPointer { sp in
            for g in 0..<groups {
                let src = w + g * rowLength, dst = q + g * rowLength
                let alpha: Float = variant == .xnor && rowLength > 0
                    ? Float(Kernels.absSum(src, count: rowLength) / Double(rowLength)) : 1
                sp[g] = alpha
                let negative = -alpha
                for i in 0..<rowLength { dst[i] = src[i] >= 0 ? alpha : negative }
            }
        }
    }

    public func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        switch variant {
        case .xnor:
            Kernels.addInto(dw, dq, count: count)
        case .binaryConnect:
            for i in 0..<count {
                let v = w[i], g = dq[i]
                dw[i] += abs(v) <= 1 ? g : 0
            }
        }
    }

    public func codes(_ w: UnsafePointer<Float>, count: Int, channels: Int) -> WeightCodes? {
        var q = [Float](repeating: 0, count: count)
        q.withUnsafeMutableBufferPointer { quantize(w, into: $0.baseAddress!, count: count, channels: channels, training: false) }
        let codes = (0..<count).map { w[$0] >= 0 ? Int32(1) : Int32(-1) }
        return WeightCodes(scheme: .binary, codes: codes, scales: scales)
    }

    public var latentWeightUpdate: ((inout Tensor) -> Void)? {
        variant == .binaryConnect ? { Self.clipLatent(&$0) } : nil
    }

    /// Clips latent weights to [−1, 1] (BinaryConnect), in place.
    public static func clipLatent(_ t: inout Tensor) {
        t.data.withUnsafeMutableBufferPointer { p in
            for i in p.indices {
                let v = p[i]
                p[i] = v > 1 ? 1 : (v < -1 ? -1 : v)
            }
        }
    }
}
