import Foundation

/// Two aligned text histograms of a layer's weights, before and after quantization,
/// over the same bins, with counts and bars on one scale.
///
///     conv1.weight: 864 weights, w2 (3 levels used)
///     bin  from       to            before                      after
///       1  -0.5402    -0.4727            2 #                        301 ##############…
///
/// Bins split [min, max] of both tensors into `bins` equal intervals, closed on the
/// left, the last one closed on both sides.
public struct WeightHistogram: Equatable, Sendable, CustomStringConvertible {
    public var title: String
    /// bins + 1 edges, ascending.
    public var edges: [Double]
    public var before: [Int]
    public var after: [Int]
    public var barWidth: Int

    public init(title: String, before: [Float], after: [Float], bins: Int = 16, barWidth: Int = 24) {
        precondition(bins >= 1 && barWidth >= 1, "WeightHistogram: bins and barWidth must be ≥ 1")
        self.title = title
        self.barWidth = barWidth
        let all = before + after
        let lo = Double(all.min() ?? 0), hi = Double(all.max() ?? 0)
        let width = hi > lo ? (hi - lo) / Double(bins) : 1
        edges = (0...bins).map { lo + width * Double($0) }
        if hi > lo { edges[bins] = hi }
        func count(_ v: [Float]) -> [Int] {
            var c = [Int](repeating: 0, count: bins)
            for x in v {
                let b = Int((Double(x) - lo) / width)
                c[min(max(b, 0), bins - 1)] += 1
            }
            return c
        }
        self.before = count(before)
        self.after = count(after)
    }

    public var description: String {
        let peak = max(before.max() ?? 0, after.max() ?? 0, 1)
        let bar = { (n: Int) -> String in
            let len = n == 0 ? 0 : max(1, Int((Double(n) / Double(peak) * Double(barWidth)).rounded()))
            return String(repeating: "#", count: len).padding(toLength: barWidth, withPad: " ", startingAt: 0)
        }
        let num = { (x: Double) in String(format: "%-10.4g", x) }
        let countWidth = max(6, String(peak).count)
        let column = countWidth + 1 + barWidth
        var lines = [title]
        lines.append("bin  " + "from".padding(toLength: 11, withPad: " ", startingAt: 0)
                     + "to".padding(toLength: 11, withPad: " ", startingAt: 0)
                     + pad("before", column) + "  " + "after")
        for b in before.indices {
            let row = String(format: "%3d  ", b + 1) + num(edges[b]) + " " + num(edges[b + 1]) + " "
                + leftPad(before[b], countWidth) + " " + bar(before[b]) + "  "
                + leftPad(after[b], countWidth) + " " + bar(after[b])
            lines.append(row.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
    private func leftPad(_ n: Int, _ w: Int) -> String { let s = String(n); return String(repeating: " ", count: max(0, w - s.count)) + s }
}

/// The histogram of a layer's weights before and after `quantizer` (evaluation-mode rounding).
public func weightHistogram(name: String, weights: [Float], channels: Int, quantizer: WeightQuantizer,
                            bins: Int = 16, barWidth: Int = 24) -> WeightHistogram {
    let q = quantizer.quantized(weights, channels: channels)
    let used = Set(q.map { $0 == 0 ? 0 : $0 }).count
    let title = "\(name): \(weights.count) weights, w\(quantizer.precision.token) (\(used) distinct values after)"
    return WeightHistogram(title: title, before: weights, after: q, bins: bins, barWidth: barWidth)
}
