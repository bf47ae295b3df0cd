import Networks
import Quantization
import Tensors

extension Configuration {
    /// The cost report of this configuration per inference, from a model built for
    /// the purpose (`config list`, `cost`). A run takes it from its trainer's model
    /// instead (``Trainer/cost``), so nothing is built twice.
    public func costReport() throws -> CostReport {
        var rng = SplitMix64(seed: 0)
        return costReport(of: try Sequential(spec: spec, inputShape: inputShape, rng: &rng))
    }

    /// Parameters, packed weight memory, MACs, bit operations and estimated energy per
    /// weighted layer of `model`, which must be built from this configuration's spec.
    /// Costs depend on shapes and precisions only, never on the weights' values — except
    /// what training methods decide: a smart-ternary layer is priced at the depth it has now
    /// (binary or ternary), and with `prune=` only the weights the masks keep count (the
    /// planned count, `kept(of:)`, when `model` has no masks).
    public func costReport(of model: Sequential) -> CostReport {
        precondition(model.spec == spec && model.inputShape == inputShape,
                     "costReport(of:): the model is not built from configuration \(name)")
        var rows: [LayerCostInput] = []
        for (i, layer) in model.weightedLayers.enumerated() {
            let p = precisions[i]
            // The activation this layer reads (the previous layer's in a chain); the
            // network input is 8-bit data.
            let inputBits = model.weightedInputSources[i].map { precisions[$0].activation.storageBits } ?? 8
            let shape = model.inputShape(of: layer)
            let weights = layer.weight.value.count
            let masked = layer.weightQuantizer as? MaskedWeightQuantizer
            let live = masked?.inner ?? layer.weightQuantizer
            let weightPrecision = live is SmartTernaryQuantizer ? live.precision : p.weight
            var kept: Int?, maskBits = 0
            if let prune = options.prune {
                let filters = prune.granularity == .filter
                kept = masked?.keptWeights
                    ?? (filters ? prune.kept(of: layer.outputChannels) * (weights / layer.outputChannels) : prune.kept(of: weights))
                maskBits = filters ? 0 : weights
            }
            rows.append(LayerCostInput(
                name: layer.name, kind: layer is Conv2D ? "conv" : "dense", weights: weights,
                biases: layer.bias?.value.count ?? 0,
                scales: LayerCostInput.scaleCount(for: weightPrecision, options: options, outputChannels: layer.outputChannels),
                macs: layer.macs(inputShape: shape), fanIn: weights / layer.outputChannels,
                weightPrecision: weightPrecision, inputBits: inputBits, inputElements: shape.reduce(1, *),
                outputElements: layer.macs(inputShape: shape) / max(1, weights / layer.outputChannels),
                outputBits: p.activation.storageBits, kept: kept, maskBits: maskBits))
        }
        return CostReport(rows)
    }
}
