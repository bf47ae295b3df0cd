import Foundation
import Tensors

/// Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient, as PyTorch's
/// `torch.optim.Adam` (not AdamW).
///
/// Per parameter w with gradient g at its step t = 1, 2, …:
///   g ← g + λ·w                         (only when `w.decays`)
///   m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
///   w ← w − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// The bias corrections are computed once per parameter per step, in Double.
public final class Adam: Optimizer {
    public let beta1: Float, beta2: Float, eps: Float
    public let weightDecay: Float
    var m: [[Float]] = []           // internal: OptimizerState saves and restores the moments
    var v: [[Float]] = []
    /// Steps taken (t of the last update).
    public internal(set) var steps = 0

    public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas must be in [0, 1)")
        precondition(eps > 0 && weightDecay >= 0, "Adam: eps must be > 0 and weight decay ≥ 0")
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay
    }

    public func step(_ params: [Parameter], learningRate lr: Float) {
        if m.isEmpty {
            m = params.map { [Float](repeating: 0, count: $0.value.count) }
            v = m
        }
        checkState(count: m.count, for: params, "Adam")
        steps += 1
        let t = Double(steps)
        let stepSize = Float(Double(lr) / (1 - pow(Double(beta1), t)))
        let invSqrtBC2 = Float(1 / (1 - pow(Double(beta2), t)).squareRoot())
        let b1 = beta1, b2 = beta2, eps = eps
        for (index, p) in params.enumerated() {
            let lambda = p.decays ? weightDecay : 0
            p.grad.data.withUnsafeBufferPointer { g in
                p.value.data.withUnsafeMutableBufferPointer { w in
                    m[index].withUnsafeMutableBufferPointer { mb in
                        v[index].withUnsafeMutableBufferPointer { vb in
                            precondition(g.count == w.count && mb.count == w.count,
                                         "Adam: \(p.name) changed size since the first step")
                            for i in 0..<w.count {
                                let gi = g[i] + lambda * w[i]
                                let mi = b1 * mb[i] + (1 - b1) * gi
                                let vi = b2 * vb[i] + (1 - b2) * gi * gi
                                mb[i] = mi; vb[i] = vi
                                w[i] -= stepSize * mi / (vi.squareRoot() * invSqrtBC2 + eps)
                            }
                        }
                    }
                }
            }
            p.afterUpdate?(&p.value)
        }
    }
}
