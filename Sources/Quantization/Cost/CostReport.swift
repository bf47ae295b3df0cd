import Foundation
import Formatting

/// The cost of one precision configuration per inference, per weighted layer and in
/// total: parameters, packed weight memory, MACs, BOPs and an energy estimate.
///
/// For a layer with w = weight bits (32 float, k, 2 ternary, 1 binary) and a = bits
/// of its input activation (8 for the network input, else the previous weighted
/// layer's activation bits, 32 float):
///
///     memory bits = weights·w + (biases + scales)·32          (bytes = ⌈bits/8⌉)
///     compression = (weights + biases)·32 / memory bits
///     BOPs        = MACs · w · a
///     multiply    = 3.7 pJ if w or a is float;
///                   binary w × binary a: one XOR, 0.3 · 0.003125 pJ;
///                   binary w (or binary a): multiplexer, 0.3 · 0.003125 · (other operand's bits);
///                   ternary w: multiplexer with zero, 0.6 · 0.003125 · a;
///                   else 0.0029948·b² + 0.0010417·b, b = max(w, a)     (QKeras qtools' gate counts)
///     add         = 0.9 pJ if float, else 0.003125·acc, acc = min(32, w + a + ⌈log₂ fan-in⌉)
///     compute     = MACs·(multiply + add)
///     memory      = memory bits · 20.3125 pJ (weights read once from DRAM)
///                   + SRAM traffic of the input read (elements · a) and the output written
///                   (elements · the layer's activation bits): ⌈bits/64⌉ · 11.592 pJ (16 MiB SRAM)
///     energy      = compute + memory
///
/// Not counted: bias adds, BatchNorm, pooling. An estimate, from `EnergyModel.source`.
public struct CostReport: Equatable, Sendable {
    public var layers: [LayerCost]

    public init(_ inputs: [LayerCostInput]) { layers = inputs.map(LayerCost.init) }

    public var parameters: Int { layers.reduce(0) { $0 + $1.parameters } }
    /// Total memory bits (weights packed, biases and scales at 32 bits).
    public var weightBits: Int { layers.reduce(0) { $0 + $1.memoryBits } }
    public var weightBytes: Int { layers.reduce(0) { $0 + $1.memoryBytes } }
    /// Every layer's weights and biases as float32 over the memory bits: against the unpruned
    /// float network, as each layer's is (dividing the kept parameters gave a pruned network
    /// 0.1× while its layers said 6–30×).
    public var compression: Double {
        weightBits == 0 ? 1 : Double(layers.reduce(0) { $0 + $1.input.weights + $1.input.biases } * 32) / Double(weightBits)
    }
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }
    public var bops: Int { layers.reduce(0) { $0 + $1.bops } }
    public var computePJ: Double { layers.reduce(0) { $0 + $1.computePJ } }
    public var memoryPJ: Double { layers.reduce(0) { $0 + $1.memoryPJ } }
    public var energyPJ: Double { layers.reduce(0) { $0 + $1.energyPJ } }

    /// The footer line every rendering ends with.
    public static let footer = "Energy is an estimate per inference: compute (multipliers, XOR/multiplexers for binary and ternary, adds) "
        + "and memory (one DRAM read of every stored weight bit, activations read and written in SRAM at their bit widths); "
        + EnergyModel.source + ".\n" + parametersNote

    /// Why these parameter counts are smaller than `model show`'s.
    public static let parametersNote = "params: weights and biases of conv and dense layers, the ones quantized; "
        + "batch-norm scales, shifts and running statistics are not counted (model show counts them, and float)."

    /// An aligned text table, one row per layer and a total row, then the footer.
    public func render() -> String {
        let header = ["layer", "kind", "W", "A in", "mult", Quantity.parameters.header, "weight bits", "bytes", Quantity.compression.header,
                      Quantity.macs.header, Quantity.bops.header, "compute µJ", "memory µJ", Quantity.energy.header]
        func cells(_ params: Int, _ bits: Int, _ bytes: Int, _ compression: Double, _ macs: Int, _ bops: Int,
                   _ computePJ: Double, _ memoryPJ: Double, _ pj: Double) -> [String] {
            [Quantity.parameters.format(params), Quantity.grouped(bits), Quantity.grouped(bytes), Quantity.compression.format(compression),
             Quantity.macs.format(macs), Quantity.bops.format(bops), Quantity.energy.format(computePJ), Quantity.energy.format(memoryPJ),
             Quantity.energy.format(pj)]
        }
        var rows = layers.map { l -> [String] in
            [l.name, l.input.kind, l.input.weightPrecision.token, String(l.input.inputBits), l.multiplier.name]
                + cells(l.parameters, l.memoryBits, l.memoryBytes, l.compression, l.macs, l.bops, l.computePJ, l.memoryPJ, l.energyPJ)
        }
        rows.append(["total", "", "", "", ""] + cells(parameters, weightBits, weightBytes, compression, macs, bops, computePJ, memoryPJ, energyPJ))
        let table = [header] + rows
        let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
        let leftAligned: Set<Int> = [0, 1, 4]
        func line(_ r: [String]) -> String {
            r.indices.map { c in
                let pad = String(repeating: " ", count: widths[c] - r[c].count)
                return leftAligned.contains(c) ? r[c] + pad : pad + r[c]
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = [line(header)]
        out.append(String(repeating: "-", count: line(header).count))
        out += rows.dropLast().map(line)
        out.append(String(repeating: "-", count: line(header).count))
        out.append(line(rows.last!))
        out.append(Self.footer)
        return out.joined(separator: "\n")
    }
}
