import Foundation
import Formatting

/// How well picking by the early metric at one epoch does against the true best.
public struct SelectionRow: Equatable, Sendable {
    /// Epoch label (1-based by default).
    public var epoch: Int
    /// The configuration the early metric picks: argmax at this epoch, ties to the
    /// lowest index. Indices refer to the caller's configuration order.
    public var pickedIndex: Int
    /// Final accuracy of the picked configuration.
    public var pickedFinal: Double
    /// The configuration with the best final accuracy (ties to the lowest index).
    public var bestIndex: Int
    /// The best final accuracy.
    public var bestFinal: Double
    /// regret = bestFinal − pickedFinal ≥ 0.
    public var regret: Double
    /// |topₖ(early) ∩ topₖ(final)| / k, with k clamped to the number of configurations.
    public var topKOverlap: Double

    public init(epoch: Int, pickedIndex: Int, pickedFinal: Double, bestIndex: Int,
                bestFinal: Double, regret: Double, topKOverlap: Double) {
        self.epoch = epoch
        self.pickedIndex = pickedIndex
        self.pickedFinal = pickedFinal
        self.bestIndex = bestIndex
        self.bestFinal = bestFinal
        self.regret = regret
        self.topKOverlap = topKOverlap
    }

    /// A table of rows; `names[i]` labels configuration i when given.
    /// Accuracies as `Quantity.accuracy`, the regret in percentage points (`Quantity.points`),
    /// as every table that shows a regret; the top-k overlap as a share in percent.
    public static func table(_ rows: [SelectionRow], names: [String]? = nil) -> TextTable {
        var table = TextTable(header: ["epoch", "picked", "picked final", "best", "best final", "regret (points)", "top-k overlap (%)"])
        func name(_ i: Int) -> String { names.map { i < $0.count ? $0[i] : "#\(i)" } ?? "#\(i)" }
        for r in rows {
            table.add(["\(r.epoch)", name(r.pickedIndex), Quantity.accuracy.format(r.pickedFinal), name(r.bestIndex),
                       Quantity.accuracy.format(r.bestFinal), Quantity.points.format(r.regret), Quantity.share.format(r.topKOverlap)])
        }
        return table
    }
}

/// Selection quality per early epoch.
///
/// - Parameters:
///   - early: the early metric, `early[config][epoch]`; higher is better. NaN counts
///     as worse than any number. Epochs run to the shortest row.
///   - final: final accuracy per configuration. Configurations whose final value is
///     NaN or infinite are left out (as if never trained to the end).
///   - k: size of the top sets compared; clamped to 1…(number of configurations).
///   - epochs: labels for the epoch columns; default 1, 2, 3, ….
/// - Returns: one row per epoch; empty when no configuration has a final value.
public func selectionQuality(early: [[Double]], final: [Double], k: Int, epochs: [Int]? = nil) -> [SelectionRow] {
    precondition(early.count == final.count, "selectionQuality: \(early.count) early rows but \(final.count) final values")
    return selectionRows(early: early, final: final, k: k, members: Array(final.indices), epochs: epochs)
}

/// Selection among `members` only (a group); indices stay global.
func selectionRows(early: [[Double]], final: [Double], k: Int, members: [Int], epochs: [Int]?) -> [SelectionRow] {
    let candidates = members.filter { final[$0].isFinite }
    guard let best = ranked(candidates, by: { final[$0] }).first else { return [] }
    let count = candidates.map { early[$0].count }.min() ?? 0
    let kk = min(max(k, 1), candidates.count)
    let topFinal = Set(ranked(candidates, by: { final[$0] }).prefix(kk))
    return (0..<count).map { e in
        let order = ranked(candidates, by: { early[$0][e] })
        let picked = order[0]
        let overlap = Set(order.prefix(kk)).intersection(topFinal).count
        return SelectionRow(
            epoch: epochs.map { $0[e] } ?? e + 1,
            pickedIndex: picked, pickedFinal: final[picked],
            bestIndex: best, bestFinal: final[best],
            regret: final[best] - final[picked],
            topKOverlap: Double(overlap) / Double(kk))
    }
}

/// Indices ordered by value, highest first, NaN last, ties by lowest index.
func ranked(_ indices: [Int], by value: (Int) -> Double) -> [Int] {
    indices.sorted { a, b in
        let va = value(a), vb = value(b)
        let ka = va.isNaN ? -Double.infinity : va, kb = vb.isNaN ? -Double.infinity : vb
        if ka != kb { return ka > kb }
        if va.isNaN != vb.isNaN { return vb.isNaN }
        return a < b
    }
}
