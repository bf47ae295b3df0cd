import Foundation

/// Learning rate per epoch. Epochs count from 0: epoch 0 trains at the base rate.
///
///   constant:            η_e = η
///   step(every, γ):      η_e = η · γ^⌊e / every⌋
///   cosine(total, min):  η_e = min + (η − min) · (1 + cos(π · min(e, T) / T)) / 2,
///                        T = total (or the run's `totalEpochs` when total ≤ 0)
/// The cosine form is PyTorch's `CosineAnnealingLR` stepped once per epoch.
public enum LRSchedule: Equatable, Sendable {
    case constant
    case step(every: Int, gamma: Float)
    case cosine(total: Int, minLR: Float = 0)

    public func rate(base: Float, epoch: Int, totalEpochs: Int) -> Float {
        switch self {
        case .constant:
            return base
        case let .step(every, gamma):
            precondition(every >= 1, "LRSchedule.step: every must be ≥ 1, got \(every)")
            return base * Float(pow(Double(gamma), Double(max(epoch, 0) / every)))
        case let .cosine(total, minLR):
            let t = total > 0 ? total : totalEpochs
            guard t > 0 else { return base }
            let e = Double(min(max(epoch, 0), t))
            return minLR + (base - minLR) * Float((1 + cos(Double.pi * e / Double(t))) / 2)
        }
    }
}

extension LRSchedule: CustomStringConvertible {
    /// `constant`, `step 10 0.5`, `cosine 30 0.001`.
    public var description: String {
        switch self {
        case .constant: return "constant"
        case let .step(every, gamma): return "step \(every) \(gamma)"
        case let .cosine(total, minLR): return minLR == 0 ? "cosine \(total)" : "cosine \(total) \(minLR)"
        }
    }
}
