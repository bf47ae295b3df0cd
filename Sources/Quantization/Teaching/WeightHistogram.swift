import Foundation
import Formatting

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
        let all = before + after
        let lo = Double(all.min() ?? 0), hi = Double(all.max() ?? 0)
        let width = hi > lo ? (hi - lo) / Double(bins) : 1
        var edges = (0...bins).map { lo + width * Double($0) }
        if hi > lo { edges[bins] = hi }
        self.init(title: title, before: before, after: after, edges: edges, barWidth: barWidth)
    }

    /// Counts over the given ascending `edges` (bins closed on the left, the last on both
    /// sides); values outside go to the first or last bin.
    public init(title: String, before: [Float], after: [Float], edges: [Double], barWidth: Int = 24) {
        precondition(edges.count >= 2 && barWidth >= 1, "WeightHistogram: needs 2 edges and barWidth ≥ 1")
        self.title = title
        self.barWidth = barWidth
        self.edges = edges
        func count(_ v: [Float]) -> [Int] {
            var c = [Int](repeating: 0, count: edges.count - 1)
            for x in v {
                // The last edge ≤ x (binary search), clamped to the bins.
                var lo = 0, hi = edges.count - 1
                while hi - lo > 1 { let mid = (lo + hi) / 2; if edges[mid] <= Double(x) { lo = mid } else { hi = mid } }
                c[min(max(lo, 0), c.count - 1)] += 1
            }
            return c
        }
        self.before = count(before)
        self.after = count(after)
    }

    /// Bin edges aligned to evenly spaced `levels`: every level is the centre of a bin,
    /// so Q(w) shows as one spike per level and never straddles two bins. The bin width
    /// is the level step divided by m (m bins per step, when few levels span the data)
    /// or multiplied by r (r levels per bin, when many do), whichever brings the bin
    /// count nearest `target` without exceeding it; the bins cover `data`. Nil when the
    /// levels are not evenly spaced (or fewer than 2).
    public static func alignedEdges(levels: [Float], data: [Float], target: Int = 32) -> [Double]? {
        guard levels.count >= 2, let dlo = data.min(), let dhi = data.max() else { return nil }
        let v = levels.map(Double.init)
        let step = v[1] - v[0]
        guard step > 0, zip(v, v.dropFirst()).allSatisfy({ abs(($1 - $0) - step) <= 1e-4 * step }) else { return nil }
        let lo = min(Double(dlo), v.first!), hi = max(Double(dhi), v.last!)
        let steps = max(1, (hi - lo) / step)
        let width = steps + 1 <= Double(target)
            ? step / Double(max(1, min(8, Int(Double(target) / (steps + 1)))))
            : step * (steps / Double(target)).rounded(.up)
        // Edges at v0 ± width/2 + i·width, from below lo to above hi.
        let first = v[0] - width / 2 - ((v[0] - width / 2 - lo) / width).rounded(.up) * width
        var edges: [Double] = []
        var e = first
        while e < hi + width * 1e-9 || edges.count < 2 { edges.append(e); e = first + width * Double(edges.count) }
        if edges.last! <= hi { edges.append(e) }
        return edges
    }

    public var description: String {
        let peak = max(before.max() ?? 0, after.max() ?? 0, 1)
        let bar = { (n: Int) -> String in
            let len = n == 0 ? 0 : max(1, Int((Double(n) / Double(peak) * Double(barWidth)).rounded()))
            return String(repeating: "#", count: len).padding(toLength: barWidth, withPad: " ", startingAt: 0)
        }
        // Edge columns 10 wide, wider when tiny weights need more digits (-0.00003125).
        let edgeText = edges.map { Quantity.value.format($0) }
        let edgeWidth = max(10, edgeText.map(\.count).max() ?? 0)
        let num = { (b: Int) in self.pad(edgeText[b], edgeWidth) }
        let countWidth = max(6, String(peak).count)
        let column = countWidth + 1 + barWidth
        var lines = [title]
        lines.append("bin  " + pad("from", edgeWidth + 1) + pad("to", edgeWidth + 1)
                     + pad("before", column) + "  " + "after")
        for b in before.indices {
            let row = String(format: "%3d  ", b + 1) + num(b) + " " + num(b + 1) + " "
                + leftPad(before[b], countWidth) + " " + bar(before[b]) + "  "
                + leftPad(after[b], countWidth) + " " + bar(after[b])
            lines.append(row.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
    private func leftPad(_ n: Int, _ w: Int) -> String { let s = String(n); return String(repeating: " ", count: max(0, w - s.count)) + s }
}

/// The histogram of a layer's weights before and after `quantizer` (evaluation-mode
/// rounding): `bins` equal bins when given, else bins aligned to the quantizer's levels
/// (`alignedEdges`; per channel: those of the first channel, the only one shown when
/// `channels` > 1 and the scales differ), else 16 equal bins (float).
public func weightHistogram(name: String, weights: [Float], channels: Int, quantizer: WeightQuantizer,
                            bins: Int? = nil, barWidth: Int = 24) -> WeightHistogram {
    let q = quantizer.quantized(weights, channels: channels)
    let used = Set(q.map { $0 == 0 ? 0 : $0 }).count
    let title = "\(name): \(Quantity.grouped(weights.count)) weights, w\(quantizer.precision.token) (\(used) distinct values after)"
    if bins == nil, let l = Optional(levels(quantizer, weights: weights, channels: channels)), l.groups.count == 1,
       let edges = WeightHistogram.alignedEdges(levels: l.values, data: weights) {
        return WeightHistogram(title: title + ", bins centred on the levels", before: weights, after: q, edges: edges, barWidth: barWidth)
    }
    return WeightHistogram(title: title, before: weights, after: q, bins: bins ?? 16, barWidth: barWidth)
}
