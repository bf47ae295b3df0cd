import Foundation
import Formatting

/// The values a quantizer can produce on a given tensor, for teaching: the
/// representable levels (per scale group) and which of them Q(w) actually uses.
///
/// k-bit weights: s · j, j = −n…n (2n + 1 = 2^k − 1 levels per scale); ternary
/// {−α, 0, α}; binary {−α, α}; k-bit activations (c/L) · j, j = 0…L (2^k levels);
/// binary activations {−1, 1}; float: every Float32, so no list.
public struct QuantizationLevels: Equatable, Sendable, CustomStringConvertible {
    public var precision: Precision
    /// Representable values, ascending, one list per scale group (one group per
    /// tensor, or per output channel). Empty for float.
    public var groups: [[Float]]
    /// Distinct values occurring in Q(w), ascending (empty for activations).
    public var used: [Float]

    /// Distinct values of Q(w) in each group's rows (one count per group; empty for float).
    public var usedPerGroup: [Int] = []

    /// Representable values per group (2^k − 1, 3, 2, 2^k…); nil for float.
    public var count: Int? { groups.first?.count }
    /// The levels of the first (or only) group.
    public var values: [Float] { groups.first ?? [] }
    /// Rows per group printed before "… N more channels".
    public static let channelsShown = 8

    public var description: String {
        guard let count else {
            return "float32: every Float32 value is representable (no quantization)" +
                (used.isEmpty ? "" : "; \(Quantity.grouped(used.count)) distinct values in this tensor")
        }
        if groups.count == 1 {
            var s = "\(count) levels: " + Self.abbreviated(values)
            if !used.isEmpty { s += "\n\(used.count) of \(count) used in this tensor" }
            return s
        }
        // One scale per output channel: each channel has its own levels.
        var lines = ["\(count) levels per channel, \(groups.count) channels, each with its own scale:"]
        for (g, v) in groups.enumerated().prefix(Self.channelsShown) {
            let used = g < usedPerGroup.count ? ", \(usedPerGroup[g]) used" : ""
            lines.append("  channel \(g + 1): " + Self.abbreviated(v, ends: 2) + used)
        }
        if groups.count > Self.channelsShown { lines.append("  … \(groups.count - Self.channelsShown) more channels") }
        if !usedPerGroup.isEmpty {
            let total = usedPerGroup.reduce(0, +)
            lines.append("\(total) of \(count * groups.count) channel levels used (\(usedPerGroup.min()!)–\(usedPerGroup.max()!) of \(count) per channel)")
        }
        return lines.joined(separator: "\n")
    }

    /// "−0.3 −0.2 … 0.2 0.3": at most `ends` values at each end.
    static func abbreviated(_ v: [Float], ends: Int = 4) -> String {
        let text = { (x: Float) in Quantity.value.format(Double(x)) }
        if v.count <= 2 * ends + 1 { return v.map(text).joined(separator: " ") }
        return (v.prefix(ends).map(text) + ["…"] + v.suffix(ends).map(text)).joined(separator: " ")
    }
}

/// The levels of a weight quantizer on `weights` (`channels` rows).
public func levels(_ quantizer: WeightQuantizer, weights: [Float], channels: Int = 1) -> QuantizationLevels {
    let q = quantizer.quantized(weights, channels: channels)
    let used = Set(q.map { $0 == 0 ? 0 : $0 }).sorted()        // −0 and +0 count once
    guard let codes = quantizer.codes(weights, channels: channels) else {
        return QuantizationLevels(precision: quantizer.precision, groups: [], used: used)
    }
    let representable = codes.representableCodes
    let groups = codes.scales.map { s in
        Array(Set(representable.map { s * Float($0) }).map { $0 == 0 ? 0 : $0 }).sorted()
    }
    let rows = codes.codes.count / codes.scales.count
    let usedPerGroup = codes.scales.indices.map { g in Set(codes.codes[g * rows..<(g + 1) * rows]).count }
    return QuantizationLevels(precision: quantizer.precision, groups: groups, used: used, usedPerGroup: usedPerGroup)
}

/// The levels of an activation quantizer with its current clip; nil for a k-bit
/// quantizer whose clip is not known yet (no training batch seen).
public func levels(_ quantizer: ActivationQuantizer) -> QuantizationLevels? {
    switch quantizer.precision {
    case .float:
        return QuantizationLevels(precision: .float, groups: [], used: [])
    case .binary:
        return QuantizationLevels(precision: .binary, groups: [[-1, 1]], used: [])
    case .bits(let k):
        guard let c = quantizer.clip else { return nil }
        let top = (1 << k) - 1
        let step = c / Float(top)
        let values = c > 0 ? (0...top).map { step * Float($0) } : [0]
        return QuantizationLevels(precision: .bits(k), groups: [values], used: [])
    case .ternary:
        return nil
    }
}
