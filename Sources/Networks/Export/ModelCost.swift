import Quantization

extension CostReport {
    /// The cost of `model` as built (its layers' quantizers say the precisions):
    /// the first weighted layer reads `networkInputBits`-bit data, each later one
    /// the activation precision of the weighted layer whose activation it reads
    /// (`Sequential.weightedInputSources`: the previous one in a chain).
    public init(model: Sequential, networkInputBits: Int = 8) {
        var inputs: [LayerCostInput] = []
        for (i, w) in model.weightedLayers.enumerated() {
            let bits = model.weightedInputSources[i].map { model.weightedLayers[$0].activationQuantizer.precision.storageBits }
                ?? networkInputBits
            let k = w.outputChannels
            let shape = model.inputShape(of: w)
            let fanIn = w.weight.value.count / max(k, 1)
            inputs.append(LayerCostInput(
                name: w.name, kind: w is Conv2D ? "conv" : (w is Dense ? "dense" : "layer"),
                weights: w.weight.value.count, biases: w.bias?.value.count ?? 0,
                scales: Self.storedScales(w.weightQuantizer, outputChannels: k),
                macs: w.macs(inputShape: shape), fanIn: fanIn,
                weightPrecision: w.weightQuantizer.precision, inputBits: bits, inputElements: shape.reduce(1, *),
                outputElements: w.macs(inputShape: shape) / max(1, fanIn),
                outputBits: w.activationQuantizer.precision.storageBits))
        }
        self.init(inputs)
    }

    /// Float scales a weight quantizer stores (see `LayerCostInput.scaleCount`).
    static func storedScales(_ q: WeightQuantizer, outputChannels k: Int) -> Int {
        switch q {
        case let u as UniformWeightQuantizer: return u.perChannel ? k : 1
        case let t as TernaryWeightQuantizer: return t.perChannel ? k : 1
        case let b as BinaryWeightQuantizer: return b.variant == .xnor ? k : 0
        default: return 0
        }
    }
}
