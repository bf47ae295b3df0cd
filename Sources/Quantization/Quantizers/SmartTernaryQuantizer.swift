import Foundation
import Tensors

/// Smart ternary quantization (after Morin, Razani, Partovi Nia & Sari, "Smart Ternary
/// Quantization", 2019, and their "Adaptive Binary-Ternary Quantization"): each layer carries
/// a learned depth parameter β ∈ [0, 1] and is binary while β < ½, ternary from β ≥ ½, so a
/// layer can move between the two during one run. With α = mean|w| (per tensor) and
/// x_i = |w_i| / α, the layer's regularizer is
///
///     R(w, β) = (1 − β) · mean_i |x_i − 1|  +  β · mean_i |x_i − 1| · x_i  +  μ · β
///
/// the first term zero when every weight sits at ±α (binary levels), the second when every
/// weight sits at 0 or ±α (ternary levels), μ the price of ternary's extra bit. The trainer
/// adds λ · ∂R/∂w to the weight gradients and λ · ∂R/∂β to β's after each backward pass
/// (exact gradients, α's dependence on w included; checked against finite differences), and
/// the optimizer moves β with the other parameters; β is clipped to [0, 1]. ∂R/∂β = mean
/// (ternary term) − mean (binary term) + μ: a layer turns ternary when its weights sit closer
/// to {0, ±α} than to {±α} by more than μ.
///
/// Forward: binary q = α·sign(w) (sign(0) = +1); ternary q = α·sign(w)·1{|w| > α/2} — the
/// levels the regularizer pulls towards. Backward straight through (dw += dq).
public final class SmartTernaryQuantizer: WeightQuantizer {
    /// β: ternary from ½ on. Starts at 0.4 (binary) or 0.6 (ternary) per the layer's precision,
    /// near the boundary so the regularizer decides early.
    public let beta: Parameter
    public private(set) var scales: [Float] = [0]

    public init(startingAt p: Precision) {
        precondition(p == .binary || p == .ternary, "SmartTernaryQuantizer: binary or ternary, not \(p)")
        beta = Parameter(name: "stq_beta", value: Tensor(shape: [1], data: [p == .ternary ? 0.6 : 0.4]), decays: false)
        beta.afterUpdate = { t in t.data[0] = min(max(t.data[0], 0), 1) }
    }

    public var isTernary: Bool { beta.value.data[0] >= 0.5 }
    /// The depth the layer has now: binary or ternary.
    public var precision: Precision { isTernary ? .ternary : .binary }
    public var parameters: [Parameter] { [beta] }

    public func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int, training: Bool) {
        let alpha = count == 0 ? 0 : Float(Kernels.absSum(w, count: count) / Double(count))
        scales[0] = alpha
        if isTernary {
            let half = alpha / 2
            for i in 0..<count { let v = w[i]; q[i] = v > half ? alpha : (v < -half ? -alpha : 0) }
        } else {
            for i in 0..<count { q[i] = w[i] >= 0 ? alpha : -alpha }
        }
    }

    public func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        Kernels.addInto(dw, dq, count: count)
    }

    public func codes(_ w: UnsafePointer<Float>, count: Int, channels: Int) -> WeightCodes? {
        signCodes(w, count: count, channels: channels, scheme: isTernary ? .ternary : .binary)
    }

    /// R(w, β) (without λ), and when `weightGradient` is given, adds scale · ∂R/∂w into it;
    /// returns (R, ∂R/∂β). In Double; α = mean|w| is differentiated through
    /// (∂α/∂w_j = sign(w_j)/n, sign(0) taken as 0).
    public static func regularizer(_ w: UnsafePointer<Float>, count n: Int, beta: Double, mu: Double,
                                   weightGradient: UnsafeMutablePointer<Float>? = nil, scale: Double = 1) -> (value: Double, dBeta: Double) {
        guard n > 0 else { return (mu * beta, mu) }
        var absSum = 0.0
        for i in 0..<n { absSum += Double(abs(w[i])) }
        let alpha = absSum / Double(n)
        guard alpha > 0 else { return (beta * mu + (1 - beta), 0 - 1 + mu) }
        var binary = 0.0, ternary = 0.0, chain = 0.0
        // f(x) = (1−β)|x−1| + β|x−1|x;  f'(x) = s·((1−β) + β(2x − 1)), s = sign(x − 1).
        for i in 0..<n {
            let x = Double(abs(w[i])) / alpha
            let d = abs(x - 1)
            binary += d
            ternary += d * x
            let s: Double = x > 1 ? 1 : (x < 1 ? -1 : 0)
            chain += s * ((1 - beta) + beta * (2 * x - 1)) * x
        }
        let nd = Double(n)
        let value = (1 - beta) * binary / nd + beta * ternary / nd + mu * beta
        if let g = weightGradient {
            // ∂/∂w_j mean_i f(|w_i|/α) = f'(x_j)·sign(w_j)/(nα) − (Σ_i f'(x_i) x_i)/(nα) · sign(w_j)/n.
            let common = chain / (nd * alpha) / nd
            for j in 0..<n {
                let v = Double(w[j])
                let sg: Double = v > 0 ? 1 : (v < 0 ? -1 : 0)
                let x = abs(v) / alpha
                let s: Double = x > 1 ? 1 : (x < 1 ? -1 : 0)
                let fp = s * ((1 - beta) + beta * (2 * x - 1))
                g[j] += Float(scale * (fp * sg / (nd * alpha) - common * sg))
            }
        }
        return (value, (ternary - binary) / nd + mu)
    }
}
