import Tensors

/// ProxConnect weights (Dockhorn, Yu, Sari, Zolnouri & Partovi Nia, "Demystifying and
/// Generalizing BinaryConnect", NeurIPS 2021): the forward pass uses the proximal map P_ρ
/// of the latent weights θ over the levels Q (binary {−1, +1} or ternary {−1, 0, +1}, scale
/// 1 as in BinaryConnect); the gradient reaches θ straight through. P_ρ is piecewise linear:
/// between adjacent levels a < b with midpoint m = (a + b)/2,
///
///     P_ρ(θ) = clamp(m + (1 + ρ)(θ − m), a, b),        θ in [a, b]
///
/// and constant beyond the outer levels (−1 below −1, +1 above +1). It is the proximal map
/// argmin_w r_ρ(w) + ½(w − θ)² of r_ρ(w) = ι_[−1,1](w) + κ·½(w − a)(b − w) for w between
/// adjacent levels a ≤ w ≤ b, κ = ρ/(1 + ρ): zero on Q and positive between levels, so it
/// pulls weights onto Q (on each piece the objective is (1−κ)/2·w² − (θ − κm)w + const, whose
/// minimiser is m + (θ − m)/(1 − κ)). ρ = 0 is the identity on [−1, 1] (clipped float weights);
/// as ρ → ∞ (κ → 1) P_ρ becomes the projection onto Q: BinaryConnect's sign, or ternary rounding.
/// ρ follows the ``ProxSchedule`` ρ_t = ρ₀ + growth·t, set by the trainer before each batch
/// (`rho`). Evaluation (`training: false`), export and the integer path use the projection
/// itself, so a trained model is exactly binary or ternary.
///
/// As in BinaryConnect (the limit), latent weights are clipped to [−1, 1] after each update
/// and the backward pass is dw += dq · 1{|θ| ≤ 1}; with ρ = ∞ this quantizer is bit for bit
/// `binary=connect` (tested).
public final class ProxWeightQuantizer: WeightQuantizer {
    public enum Levels: String, Sendable { case binary, ternary }
    public let levels: Levels
    public let schedule: ProxSchedule
    /// The current ρ (the trainer sets it from the schedule before each training batch).
    public var rho: Float

    public init(levels: Levels, schedule: ProxSchedule) {
        self.levels = levels
        self.schedule = schedule
        self.rho = schedule.rho(step: 0)
    }

    public var precision: Precision { levels == .binary ? .binary : .ternary }
    public var scales: [Float] { [1] }

    /// P_ρ(θ) for one value; ρ = .infinity gives the projection onto the levels (sign with
    /// sign(0) = +1 for binary; for ternary 0 up to |θ| = ½ inclusive, as TWN's strict threshold).
    @inline(__always)
    public static func prox(_ theta: Float, rho: Float, levels: Levels) -> Float {
        let t = min(max(theta, -1), 1)
        switch levels {
        case .binary:
            if rho == .infinity { return theta >= 0 ? 1 : -1 }
            return min(max((1 + rho) * t, -1), 1)
        case .ternary:
            let a = abs(t)
            let mag: Float = rho == .infinity ? (a > 0.5 ? 1 : 0) : min(max(0.5 + (1 + rho) * (a - 0.5), 0), 1)
            return t < 0 ? -mag : mag
        }
    }

    public func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int, training: Bool) {
        let r = training ? rho : .infinity
        for i in 0..<count { q[i] = Self.prox(w[i], rho: r, levels: levels) }
    }

    public func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        for i in 0..<count { dw[i] += abs(w[i]) <= 1 ? dq[i] : 0 }
    }

    public func codes(_ w: UnsafePointer<Float>, count: Int, channels: Int) -> WeightCodes? {
        let codes = (0..<count).map { Int32(Self.prox(w[$0], rho: .infinity, levels: levels)) }
        return WeightCodes(scheme: levels == .binary ? .binary : .ternary, codes: codes, scales: [1])
    }

    public var latentWeightUpdate: ((inout Tensor) -> Void)? { { BinaryWeightQuantizer.clipLatent(&$0) } }
}
