import Tensors
import Networks
import Quantization

/// The training methods of a configuration (issue 16: ProxConnect, STQ, DMP, CoNNTrA) as
/// three hooks the trainer calls around each batch:
///
///     beforeBatch(step:)   ρ of ProxConnect, τ of the pruning masks, from the optimizer step t
///     afterBackward()      STQ: λ·∂R/∂w into the weight gradients, λ·∂R/∂β into β's
///     replacesStep(…)      CoNNTrA: coordinate descent instead of the optimizer's step
///
/// Everything that changes is either a model parameter (DMP scores, STQ β: the optimizer and
/// checkpoints handle them) or a function of the step count, which the trainer derives from
/// its epoch count, so a resumed trial continues bit for bit without new checkpoint entries.
final class MethodHooks {
    let prox: [ProxWeightQuantizer]
    let masks: [MaskedWeightQuantizer]
    let stq: [(layer: WeightedLayer, quantizer: SmartTernaryQuantizer)]
    let stqSettings: STQSettings?
    let conntra: ConnTraStep?

    init(model: Sequential, configuration: Configuration) throws {
        try configuration.checkTrainingMethods(model: model)
        let quantizers = model.weightedLayers.map(\.weightQuantizer)
        let unwrapped = quantizers.map { ($0 as? MaskedWeightQuantizer)?.inner ?? $0 }
        prox = unwrapped.compactMap { $0 as? ProxWeightQuantizer }
        masks = quantizers.compactMap { $0 as? MaskedWeightQuantizer }
        stq = zip(model.weightedLayers, unwrapped).compactMap { l, q in (q as? SmartTernaryQuantizer).map { (l, $0) } }
        stqSettings = configuration.options.stq
        conntra = configuration.options.method == .conntra ? try ConnTraStep(model: model, configurationName: configuration.name) : nil
    }

    var isEmpty: Bool { prox.isEmpty && masks.isEmpty && stq.isEmpty && conntra == nil }

    func beforeBatch(step: Int) {
        for q in prox { q.rho = q.schedule.rho(step: step) }
        for m in masks { m.setStep(step) }
    }

    /// Adds λ·∇R of smart ternary quantization; returns λ·ΣR (0 without STQ).
    @discardableResult
    func afterBackward() -> Double {
        guard let s = stqSettings else { return 0 }
        var total = 0.0
        for (layer, q) in stq {
            let w = layer.weight
            let (value, dBeta) = w.value.data.withUnsafeBufferPointer { wp in
                w.grad.data.withUnsafeMutableBufferPointer { gp in
                    SmartTernaryQuantizer.regularizer(wp.baseAddress!, count: wp.count, beta: Double(q.beta.value.data[0]), mu: Double(s.mu),
                                                      weightGradient: gp.baseAddress!, scale: Double(s.lambda))
                }
            }
            q.beta.grad.data[0] += Float(Double(s.lambda) * dBeta)
            total += Double(s.lambda) * value
        }
        return total
    }

    /// CoNNTrA's step in place of the optimizer's; false when the configuration trains by backprop.
    func replacesStep(_ model: Sequential, labels: [Int32]) -> Bool {
        guard let conntra else { return false }
        conntra.step(model, labels: labels)
        return true
    }
}
