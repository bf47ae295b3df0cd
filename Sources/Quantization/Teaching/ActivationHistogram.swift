import Foundation
import Formatting

/// What a layer's activation quantizer does to real data: the values entering it
/// (`inputs`, after the layer's BatchNorm and nonlinearity) and what it made of them
/// (`outputs`), histogrammed over bins centred on its levels, with how much was clipped.
///
/// k-bit (clip c): levels j·c/(2^k − 1); clipped = inputs above c (set to c) and below 0
/// (set to 0). Binary: levels −1, +1; "clipped" = |x| > 1, where the straight-through
/// gradient is zero. Float: 16 equal bins and nothing clipped.
public struct ActivationHistogram: Sendable {
    public var histogram: WeightHistogram
    public var precision: Precision
    /// The clip c the quantizer used (k-bit), nil otherwise.
    public var clip: Float?
    /// Fractions of the inputs above the top level and below the bottom one.
    public var clippedAbove: Double
    public var clippedBelow: Double
    public var count: Int

    /// `name` heads the title; `clip` is the c the quantizer applied (k-bit only).
    public init(name: String, inputs: [Float], outputs: [Float], precision: Precision, clip: Float?, bins: Int? = nil, barWidth: Int = 24) {
        precondition(inputs.count == outputs.count, "ActivationHistogram: \(inputs.count) inputs but \(outputs.count) outputs")
        self.precision = precision
        self.count = inputs.count
        var levels: [Float] = []
        var lo = -Float.infinity, hi = Float.infinity
        switch precision {
        case .bits(let k):
            let c = max(clip ?? 0, 0), top = (1 << k) - 1
            self.clip = c
            levels = c > 0 ? (0...top).map { c / Float(top) * Float($0) } : []
            (lo, hi) = (0, c)
        case .binary:
            self.clip = nil
            levels = [-1, 1]
            (lo, hi) = (-1, 1)
        case .float, .ternary:
            self.clip = nil
        }
        let n = Double(max(inputs.count, 1))
        clippedAbove = Double(inputs.reduce(0) { $0 + ($1 > hi ? 1 : 0) }) / n
        clippedBelow = Double(inputs.reduce(0) { $0 + ($1 < lo ? 1 : 0) }) / n
        let used = Set(outputs.map { $0 == 0 ? 0 : $0 }).count
        var title = "\(name): \(Quantity.grouped(inputs.count)) activation values, a\(precision.token) (\(used) distinct values after)"
        if bins == nil, let edges = WeightHistogram.alignedEdges(levels: levels, data: inputs) {
            title += ", bins centred on the levels"
            histogram = WeightHistogram(title: title, before: inputs, after: outputs, edges: edges, barWidth: barWidth)
        } else {
            histogram = WeightHistogram(title: title, before: inputs, after: outputs, bins: bins ?? 16, barWidth: barWidth)
        }
    }

    /// How much the quantizer clipped, in one line.
    public var clippingLine: String {
        let pct = { (f: Double) in String(format: "%.2f%%", 100 * f) }
        switch precision {
        case .bits:
            let c = Quantity.value.format(Double(clip ?? 0))
            return "clipped: \(pct(clippedAbove)) of the values above c = \(c) (set to c, no gradient), "
                + "\(pct(clippedBelow)) below 0 (set to 0)."
        case .binary:
            return "sign: \(pct(clippedAbove + clippedBelow)) of the values outside [−1, 1], where the gradient is zero."
        case .float, .ternary:
            return "float32 activations: nothing is rounded or clipped."
        }
    }

    public var description: String { histogram.description + "\n" + clippingLine }
}
