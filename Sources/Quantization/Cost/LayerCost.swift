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
    /// Values of the input tensor the layer reads per inference (C·H·W, or features).
    public var inputElements: Int
    /// Values the layer writes per inference (its outputs: MACs / fan-in).
    public var outputElements: Int
    /// Bits of each written value: the layer's activation precision (32 float, k, 1).
    public var outputBits: Int
    /// Weights a pruning mask keeps (nil: all): parameters, memory, MACs and BOPs count only
    /// these (MACs scale by kept/weights: every weight of a layer takes part in as many).
    public var kept: Int?
    /// Bits of the mask stored beside sparse weights (1 per weight for weight-level pruning,
    /// 0 for removed filters).
    public var maskBits: Int

    public init(name: String, kind: String, weights: Int, biases: Int, scales: Int, macs: Int, fanIn: Int,
                weightPrecision: Precision, inputBits: Int, inputElements: Int = 0, outputElements: Int = 0,
                outputBits: Int = 32, kept: Int? = nil, maskBits: Int = 0) {
        self.kept = kept; self.maskBits = maskBits
        self.name = name; self.kind = kind
        self.weights = weights; self.biases = biases; self.scales = scales
        self.macs = macs; self.fanIn = fanIn
        self.weightPrecision = weightPrecision; self.inputBits = inputBits
        self.inputElements = inputElements; self.outputElements = outputElements; self.outputBits = outputBits
    }

    /// Scales a weight quantizer stores: k-bit and ternary 1 per tensor (per output
    /// channel with `perChannel`), XNOR binary 1 per output channel, BinaryConnect and
    /// ProxConnect none (α = 1), smart ternary 1 per tensor, float none.
    public static func scaleCount(for p: Precision, options: QuantizerOptions, outputChannels: Int) -> Int {
        switch p {
        case .float: return 0
        case .ternary where options.prox != nil: return 0                      // ProxConnect: levels ±1, 0
        case .binary where options.stq != nil: return 1                        // STQ: α per tensor
        case .bits, .ternary: return options.perChannel ? outputChannels : 1
        case .binary: return options.binaryConnect || options.prox != nil ? 0 : outputChannels
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
    /// Weights kept by pruning (all without).
    public var keptWeights: Int { input.kept ?? input.weights }
    /// kept weights + biases (scales are not parameters).
    public var parameters: Int { keptWeights + input.biases }
    /// kept weights · w_bits + (biases + scales) · 32 + mask bits.
    public var memoryBits: Int { keptWeights * weightBits + (input.biases + input.scales) * 32 + input.maskBits }
    public var memoryBytes: Int { (memoryBits + 7) / 8 }
    /// (weights + biases) · 32 / memoryBits: against the unpruned float layer.
    public var compression: Double { memoryBits == 0 ? 1 : Double((input.weights + input.biases) * 32) / Double(memoryBits) }
    /// MACs of the kept weights: MACs · kept / weights.
    public var macs: Int { input.kept.map { input.weights == 0 ? 0 : input.macs / input.weights * $0 } ?? input.macs }
    /// MACs · w_bits · a_bits_in (kept weights' MACs).
    public var bops: Int { macs * weightBits * input.inputBits }
    /// Accumulator width: w_bits + a_bits + ⌈log₂ fan-in⌉, at most 32 (nil when float).
    public var accumulatorBits: Int? {
        guard !isFloat else { return nil }
        let growth = input.fanIn > 1 ? Int((log2(Double(input.fanIn))).rounded(.up)) : 0
        return min(32, weightBits + input.inputBits + growth)
    }
    /// How one product is computed in hardware, as QKeras qtools decides it
    /// (`multiplier_factory.py`): float if either operand is float; an XOR for
    /// binary × binary; a multiplexer when one operand is binary or ternary (its
    /// width the other operand's bits); otherwise a b-bit integer multiplier with
    /// b = max(w_bits, a_bits).
    public enum Multiplier: Equatable, Sendable {
        case float
        case integer(bits: Int)
        case mux(factor: Double, bits: Int)
        case xor

        public var name: String {
            switch self {
            case .float: return "fp32"
            case .integer(let b): return "mul\(b)"
            case .mux(let f, let b): return f == EnergyModel.ternaryMuxFactor ? "tmux\(b)" : "mux\(b)"
            case .xor: return "xor"
            }
        }
    }

    public var multiplier: Multiplier {
        if isFloat { return .float }
        let a = input.inputBits
        switch input.weightPrecision {
        case .binary: return a == 1 ? .xor : .mux(factor: EnergyModel.binaryMuxFactor, bits: a)
        case .ternary: return .mux(factor: EnergyModel.ternaryMuxFactor, bits: a)
        default: return a == 1 ? .mux(factor: EnergyModel.binaryMuxFactor, bits: weightBits) : .integer(bits: max(weightBits, a))
        }
    }
    /// pJ per product (see ``Multiplier``): fp32 3.7; integer 0.0029948·b² + 0.0010417·b;
    /// multiplexer factor · 0.003125 · bits; XOR 0.3 · 0.003125.
    public var multiplyPJ: Double {
        switch multiplier {
        case .float: return EnergyModel.floatMultiply
        case .integer(let b): return EnergyModel.integerMultiply(bits: b)
        case .mux(let f, let b): return EnergyModel.gate(factor: f, bits: b)
        case .xor: return EnergyModel.gate(factor: EnergyModel.xorFactor, bits: 1)
        }
    }
    /// pJ per accumulate: fp32 0.9 if float, else integer add at `accumulatorBits`.
    public var addPJ: Double { accumulatorBits.map(EnergyModel.integerAdd(bits:)) ?? EnergyModel.floatAdd }
    /// MACs · (multiply + add).
    public var computePJ: Double { Double(macs) * (multiplyPJ + addPJ) }
    /// memoryBits · 20.3125: every stored weight, bias and scale bit read once from DRAM.
    public var weightMemoryPJ: Double { Double(memoryBits) * EnergyModel.dramPerBit }
    /// Bits of activations read (input elements · input bits) and written (outputs · activation bits).
    public var activationReadBits: Int { input.inputElements * input.inputBits }
    public var activationWriteBits: Int { input.outputElements * input.outputBits }
    /// The input read from and the output written to SRAM (``EnergyModel/sramAccess(bits:sramBits:)``).
    public var activationMemoryPJ: Double {
        EnergyModel.sramAccess(bits: activationReadBits) + EnergyModel.sramAccess(bits: activationWriteBits)
    }
    /// Weights from DRAM plus activations through SRAM.
    public var memoryPJ: Double { weightMemoryPJ + activationMemoryPJ }
    public var energyPJ: Double { computePJ + memoryPJ }

    public init(_ input: LayerCostInput) { self.input = input }
}
