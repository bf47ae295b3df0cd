import Foundation
import Formatting

/// One plain line under each teaching view: what the levels are, the step, the clip.
public enum QuantizerExplanation {
    /// "4-bit uniform (symmetric)", "ternary (TWN)", "binary (XNOR-Net)", "float32".
    public static func name(_ p: Precision, weights: Bool, binaryConnect: Bool = false) -> String {
        switch p {
        case .float: return "float32"
        case .bits(let k): return weights ? "\(k)-bit uniform (symmetric)" : "\(k)-bit unsigned"
        case .ternary: return "ternary (TWN)"
        case .binary: return weights ? (binaryConnect ? "binary (BinaryConnect)" : "binary (XNOR-Net)") : "binary (sign)"
        }
    }

    /// How weight levels arise, with this tensor's numbers (the first channel's when per channel).
    public static func weights(_ l: QuantizationLevels, binaryConnect: Bool = false) -> String {
        let per = l.groups.count > 1 ? " (channel 1; every output channel has its own)" : " (one for the tensor)"
        let g = l.values
        let f = { (x: Float) in Quantity.value.format(Double(x)) }
        switch l.precision {
        case .float:
            return "No quantization: the layer computes with its float32 weights."
        case .bits(let k):
            let n = (1 << (k - 1)) - 1
            let s = g.count > 1 ? g[1] - g[0] : 0
            return "q(w) = s·clamp(round(w/s), −\(n), \(n)) with s = max|w|/\(n) = \(f(s))\(per): 2^\(k) − 1 = \(2 * n + 1) levels, "
                + "step \(f(s)), clip ±\(f(Float(n) * s)); round half to even."
        case .ternary:
            let a = g.last ?? 0
            return "q(w) = α·sign(w) where |w| > Δ = 0.7·mean|w|, else 0; α = mean of |w| above Δ = \(f(a))\(per): 3 levels −α, 0, α."
        case .binary:
            let a = g.last ?? 0
            return binaryConnect
                ? "q(w) = sign(w) (α = 1, latent weights clipped to [−1, 1]): 2 levels −1, +1."
                : "q(w) = α·sign(w), sign(0) = +1, α = mean|w| = \(f(a))\(per): 2 levels −α, +α."
        }
    }

    /// The levels of an activation quantizer and how they arise, with its clip when known.
    public static func activations(_ q: ActivationQuantizer, learnedClip: Bool = false) -> String {
        switch q.precision {
        case .float, .ternary:
            return "activations float32: every Float32 value is representable (no quantization)."
        case .binary:
            return "activations binary: 2 levels −1, +1: q(x) = sign(x), which replaces the ReLU; gradient passes where |x| ≤ 1."
        case .bits(let k):
            let top = (1 << k) - 1
            let how = learnedClip ? "a learned PACT clip" : "a moving average of the batch maximum in training, frozen in evaluation"
            guard let c = q.clip, let l = levels(q) else {
                return "activations \(k)-bit: \(top + 1) levels j·c/\(top), j = 0…\(top), on [0, c]; c is \(how), "
                    + "not known before the first training batch (train the configuration to see it)."
            }
            let step = c / Float(top)
            return "activations \(k)-bit: \(top + 1) levels: " + QuantizationLevels.abbreviated(l.values) + "\n"
                + "q(x) = (c/\(top))·round(clamp(x, 0, c)·\(top)/c) with clip c = \(Quantity.value.format(Double(c))) (\(how)): "
                + "step \(Quantity.value.format(Double(step))), values below 0 become 0 and above c become c."
        }
    }
}
