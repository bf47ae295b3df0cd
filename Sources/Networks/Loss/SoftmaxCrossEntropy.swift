import Tensors

// Dimension legend: N batch, K classes. Logits z [N, K], labels t [N] in 0..<K.

/// Softmax cross-entropy over class logits, the classification loss.
///
/// Per sample, with the log-sum-exp taken about the row maximum so no exp overflows:
///   lse = max z + log Σ_k exp(z_k − max z),   ℓ = lse − z_t
///   L = (1/N) Σ ℓ                                 (the mean loss)
///   ∂L/∂z_k = (softmax(z)_k − 1{k = t}) / N,   softmax(z)_k = exp(z_k − lse)
/// A prediction is correct when argmax z = t, ties going to the lowest index (as
/// `torch.argmax` on CPU). Exponentials and the log run in Float, per-sample losses
/// are summed in Double.
public enum SoftmaxCrossEntropy {
    /// Mean loss and number correct; writes ∂L/∂logits into `gradient` (resized to [N, K]).
    public static func lossAndGradient(logits: Tensor, labels: [Int32], gradient: inout Tensor) -> (loss: Double, correct: Int) {
        gradient.reshapeForOverwrite(logits.shape)
        return gradient.data.withUnsafeMutableBufferPointer { g in
            run(logits, labels, gradient: g.baseAddress!)
        }
    }

    /// Mean loss and number correct, without a gradient (evaluation).
    public static func loss(logits: Tensor, labels: [Int32]) -> (loss: Double, correct: Int) {
        run(logits, labels, gradient: nil)
    }

    private static func run(_ z: Tensor, _ labels: [Int32], gradient: UnsafeMutablePointer<Float>?) -> (loss: Double, correct: Int) {
        precondition(z.rank == 2, "SoftmaxCrossEntropy: logits must be [N, classes], got \(z.shape)")
        let n = z.shape[0], k = z.shape[1]
        precondition(labels.count == n, "SoftmaxCrossEntropy: \(labels.count) labels for \(n) samples")
        guard n > 0 else { return (0, 0) }
        let invN = 1 / Float(n)
        var total = 0.0, correct = 0
        z.data.withUnsafeBufferPointer { zb in
            for i in 0..<n {
                let row = zb.baseAddress! + i * k
                let t = Int(labels[i])
                precondition(t >= 0 && t < k, "SoftmaxCrossEntropy: label \(t) outside 0..<\(k) at sample \(i)")
                var best = 0, m = row[0]
                for j in 1..<max(k, 1) where row[j] > m { m = row[j]; best = j }
                if best == t { correct += 1 }
                var s: Float = 0
                for j in 0..<k { s += expf(row[j] - m) }
                let lse = m + logf(s)
                total += Double(lse - row[t])
                if let gradient {
                    let g = gradient + i * k
                    for j in 0..<k { g[j] = expf(row[j] - lse) * invN }
                    g[t] -= invN
                }
            }
        }
        return (total / Double(n), correct)
    }
}

import Foundation
