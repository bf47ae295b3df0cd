import Foundation

/// What the cost model needs to know about one weighted layer.
public struct LayerCostInput: Equatable, Sendable {
    public var name: String
    /// "conv", "dense", …
    public var kind: String
    public var weights: Int
    public var biases: Int
    /// Float scales stored with the weights: 1 per tensor, 1 per output channel, 0 for float.
    public var scales: Int
    /// Multiply–accumulates per inference.
    public var macs: Int
    /// Products summed into one output (conv C·KH·KW, dense in): sets the accumulator width.
    public var fanIn: Int
    public var weightPrecision: Precision
    /// Bits of the activation entering the layer: 8 for the network input, then the
    /// previous weighted layer's activation precision (32 for float, 1 for binary).
    public var inputBits: Int

    public init(name: String, kind: String, weights: Int, biases: Int, scales: Int, macs: Int, fanIn: Int,
                weightPrecision: Precision, inputBits: Int) {
        self.name = name; self.kind = kind
        self.weights = weights; self.biases = biases; self.scales = scales
        self.macs = macs; self.fanIn = fanIn
        self.weightPrecision = weightPrecision; self.inputBits = inputBits
    }

    /// Scales a weight quantizer stores: k-bit and ternary 1 per tensor (per output
    /// channel with `perChannel`), XNOR binary 1 per output channel, BinaryConnect
    /// none (α = 1), float none.
    public static func scaleCount(for p: Precision, options: QuantizerOptions, outputChannels: Int) -> Int {
        switch p {
        case .float: return 0
        case .bits, .ternary: return options.perChannel ? outputChannels : 1
        case .binary: return options.binaryConnect ? 0 : outputChannels
        }
    }

    /// Input bits of each weighted layer in order: `networkInputBits` for the first,
    /// then the previous layer's activation precision (`storageBits`: 32, k, 1).
    public static func inputBits(_ precisions: [LayerPrecision], networkInputBits: Int = 8) -> [Int] {
        precisions.indices.map { $0 == 0 ? networkInputBits : precisions[$0 - 1].activation.storageBits }
    }
}

/// One layer's costs per inference. See `CostReport` for the formulas.
public struct LayerCost: Equatable, Sendable {
    public var input: LayerCostInput
    public var name: String { input.name }
    public var weightBits: Int { input.weightPrecision.storageBits }
    public var isFloat: Bool { input.weightPrecision == .float || input.inputBits >= 32 }
    /// weights + biases (scales are not parameters).
    public var parameters: Int { input.weights + input.biases }
    /// weights · w_bits + (biases + scales) · 32.
    public var memoryBits: Int { input.weights * weightBits + (input.biases + input.scales) * 32 }
    public var memoryBytes: Int { (memoryBits + 7) / 8 }
    /// (weights + biases) · 32 / memoryBits.
    public var compression: Double { memoryBits == 0 ? 1 : Double(parameters * 32) / Double(memoryBits) }
    public var macs: Int { input.macs }
    /// MACs · w_bits · a_bits_in.
    public var bops: Int { input.macs * weightBits * input.inputBits }
    /// Accumulator width: w_bits + a_bits + ⌈log₂ fan-in⌉, at most 32 (nil when float).
    public var accumulatorBits: Int? {
        guard !isFloat else { return nil }
        let growth = input.fanIn > 1 ? Int((log2(Double(input.fanIn))).rounded(.up)) : 0
        return min(32, weightBits + input.inputBits + growth)
    }
    /// pJ per multiply: fp32 3.7 if either operand is float, else integer at max(w_bits, a_bits).
    public var multiplyPJ: Double {
        isFloat ? EnergyModel.floatMultiply : EnergyModel.integerMultiply(bits: max(weightBits, input.inputBits))
    }
    /// pJ per accumulate: fp32 0.9 if float, else integer add at `accumulatorBits`.
    public var addPJ: Double { accumulatorBits.map(EnergyModel.integerAdd(bits:)) ?? EnergyModel.floatAdd }
    /// MACs · (multiply + add).
    public var computePJ: Double { Double(input.macs) * (multiplyPJ + addPJ) }
    /// memoryBits · 20.3125: every stored bit read once from DRAM.
    public var memoryPJ: Double { Double(memoryBits) * EnergyModel.dramPerBit }
    public var energyPJ: Double { computePJ + memoryPJ }

    public init(_ input: LayerCostInput) { self.input = input }
}
