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
///     multiply    = 3.7 pJ if w or a is float, else 0.0029948·b² + 0.0010417·b, b = max(w, a)
///                   (binary × binary is an XNOR, counted as b = 1)
///     add         = 0.9 pJ if float, else 0.003125·acc, acc = min(32, w + a + ⌈log₂ fan-in⌉)
///     energy      = MACs·(multiply + add) + memory bits · 20.3125 pJ (DRAM read)
///
/// Not counted: bias adds, BatchNorm, pooling, activation traffic (assumed on chip).
/// An estimate, from `EnergyModel.source`.
public struct CostReport: Equatable, Sendable {
    public var layers: [LayerCost]

    public init(_ inputs: [LayerCostInput]) { layers = inputs.map(LayerCost.init) }

    public var parameters: Int { layers.reduce(0) { $0 + $1.parameters } }
    /// Total memory bits (weights packed, biases and scales at 32 bits).
    public var weightBits: Int { layers.reduce(0) { $0 + $1.memoryBits } }
    public var weightBytes: Int { layers.reduce(0) { $0 + $1.memoryBytes } }
    public var compression: Double { weightBits == 0 ? 1 : Double(parameters * 32) / Double(weightBits) }
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }
    public var bops: Int { layers.reduce(0) { $0 + $1.bops } }
    public var energyPJ: Double { layers.reduce(0) { $0 + $1.energyPJ } }

    /// The footer line every rendering ends with.
    public static let footer = "Energy is an estimate per inference (compute + one DRAM read of every stored bit): "
        + EnergyModel.source + ".\n" + parametersNote

    /// Why these parameter counts are smaller than `model show`'s.
    public static let parametersNote = "params: weights and biases of conv and dense layers, the ones quantized; "
        + "batch-norm scales, shifts and running statistics are not counted (model show counts them, and float)."

    /// An aligned text table, one row per layer and a total row, then the footer.
    public func render() -> String {
        let header = ["layer", "kind", "W", "A in", Quantity.parameters.header, "weight bits", "bytes", Quantity.compression.header,
                      Quantity.macs.header, Quantity.bops.header, Quantity.energy.header]
        func cells(_ params: Int, _ bits: Int, _ bytes: Int, _ compression: Double, _ macs: Int, _ bops: Int, _ pj: Double) -> [String] {
            [Quantity.parameters.format(params), Quantity.grouped(bits), Quantity.grouped(bytes), Quantity.compression.format(compression),
             Quantity.macs.format(macs), Quantity.bops.format(bops), Quantity.energy.format(pj)]
        }
        var rows = layers.map { l -> [String] in
            [l.name, l.input.kind, l.input.weightPrecision.token, String(l.input.inputBits)]
                + cells(l.parameters, l.memoryBits, l.memoryBytes, l.compression, l.macs, l.bops, l.energyPJ)
        }
        rows.append(["total", "", "", ""] + cells(parameters, weightBits, weightBytes, compression, macs, bops, energyPJ))
        let table = [header] + rows
        let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
        let leftAligned: Set<Int> = [0, 1]
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
