import Foundation
import Networks
import Quantization

extension Trainer {
    /// What the configuration's training methods left, as one line (nil without methods):
    /// the depth each smart-ternary layer ends with, the weights pruning keeps, ProxConnect's
    /// last ρ, CoNNTrA's training state beside backprop's, and the trained cost.
    ///
    ///     depth conv1=1 conv2=t dense1=1; kept 50.0% (conv1 50.0% …); params 1,234 bits 5,678 bops 9,012
    public var trainedSummary: String? {
        if methods.isEmpty { return nil }
        var parts: [String] = []
        let names = configuration.layerNames
        let layers = model.weightedLayers
        if !methods.stq.isEmpty {
            parts.append("depth " + zip(names, layers).compactMap { n, l in
                methods.stq.first { $0.layer === l }.map { "\(n)=\($0.quantizer.precision.token)" }
            }.joined(separator: " "))
        }
        if !methods.masks.isEmpty {
            var kept = 0, total = 0, each: [String] = []
            for (n, l) in zip(names, layers) {
                guard let m = l.weightQuantizer as? MaskedWeightQuantizer else { continue }
                let k = m.keptWeights, w = l.weight.value.count
                kept += k; total += w
                each.append("\(n) " + String(format: "%.1f%%", 100 * Double(k) / Double(max(w, 1))))
            }
            parts.append(String(format: "kept %.1f%%", 100 * Double(kept) / Double(max(total, 1))) + " (" + each.joined(separator: ", ") + ")")
        }
        if let p = methods.prox.first { parts.append(String(format: "rho %.4g", p.rho)) }
        if let c = methods.conntra {
            parts.append("training state \(ConnTraStep.trainingStateBytes(weights: c.weightCount, conntra: true, optimizer: settings.optimizer)) B"
                + " (backprop with \(settings.optimizer): \(ConnTraStep.trainingStateBytes(weights: c.weightCount, conntra: false, optimizer: settings.optimizer)) B)")
        }
        let r = configuration.costReport(of: model)
        parts.append("params \(r.parameters) bits \(r.weightBits) bops \(r.bops)")
        return parts.joined(separator: "; ")
    }
}
