import Networks
import Quantization
import Tensors

extension Configuration {
    /// The cost report of this configuration per inference: parameters, packed weight
    /// memory, MACs, bit operations and estimated energy, per weighted layer.
    public func costReport() throws -> CostReport {
        var rng = SplitMix64(seed: 0)
        let model = try Sequential(spec: spec, inputShape: inputShape, rng: &rng)
        var inputBits = 8          // the network input is 8-bit data
        var rows: [LayerCostInput] = []
        for (i, layer) in model.weightedLayers.enumerated() {
            let p = precisions[i]
            let shape = model.inputShape(of: layer)
            let weights = layer.weight.value.count
            rows.append(LayerCostInput(
                name: layer.name, kind: layer is Conv2D ? "conv" : "dense", weights: weights,
                biases: layer.bias?.value.count ?? 0,
                scales: LayerCostInput.scaleCount(for: p.weight, options: options, outputChannels: layer.outputChannels),
                macs: layer.macs(inputShape: shape), fanIn: weights / layer.outputChannels,
                weightPrecision: p.weight, inputBits: inputBits))
            inputBits = p.activation.storageBits
        }
        return CostReport(rows)
    }
}
