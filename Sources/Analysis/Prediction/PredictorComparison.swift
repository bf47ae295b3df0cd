import Foundation
import Formatting

/// Several predictors of final accuracy (raw early validation accuracy, negated
/// loss, learning-curve extrapolations, …) compared at each early epoch: Spearman
/// ρ and Kendall τ-b against the final values, and the regret of picking by each.
///
/// Rows of one epoch are ranked best first: higher ρ, then higher τ, then lower
/// regret, then the caller's order; an undefined ρ ranks last.
public struct PredictorComparison: Equatable, Sendable {
    public struct Row: Equatable, Sendable {
        public var epoch: Int
        public var predictor: String
        public var rho: Double?
        public var tau: Double?
        /// final[best] − final[picked]; the pick is the predictor's argmax, ties to the lowest index.
        public var regret: Double
        public var picked: Int
        /// How many configurations tie for the predictor's top value (1 when none do).
        public var tiedAtTop: Int
        /// Whether the regret is below the noise floor given (a tie in selection).
        public var withinNoise: Bool
    }

    public var rows: [Row]

    /// - Parameters:
    ///   - predictors: name and values `[config][epoch]` (higher predicts better).
    ///   - final: final accuracy per configuration.
    ///   - noiseFloor: regrets strictly below it count as ties (`withinNoise`).
    public init(predictors: [(name: String, values: [[Double]])], final: [Double], epochs: [Int]? = nil,
                noiseFloor: Double = 0) {
        let count = predictors.flatMap { $0.values.map(\.count) }.min() ?? 0
        let all = Array(final.indices)
        let best = ranked(all, by: { final[$0] }).first
        var rows: [Row] = []
        for e in 0..<count {
            var epochRows: [(row: Row, order: Int)] = []
            for (order, p) in predictors.enumerated() {
                precondition(p.values.count == final.count, "PredictorComparison: \(p.name) has \(p.values.count) rows for \(final.count) configurations")
                let x = p.values.map { $0[e] }
                let rho = try? Statistics.spearman(x, final).get().r
                let tau = try? Statistics.kendallTauB(x, final).get().r
                let picked = ranked(all, by: { x[$0] }).first ?? 0
                let top = x[picked]
                let regret = best.map { final[$0] - final[picked] } ?? .nan
                epochRows.append((Row(epoch: epochs.map { $0[e] } ?? e + 1, predictor: p.name, rho: rho, tau: tau,
                                      regret: regret, picked: picked, tiedAtTop: x.filter { $0 == top }.count,
                                      withinNoise: regret < noiseFloor), order))
            }
            epochRows.sort { a, b in
                let ra = a.row.rho ?? -.infinity, rb = b.row.rho ?? -.infinity
                if ra != rb { return ra > rb }
                let ta = a.row.tau ?? -.infinity, tb = b.row.tau ?? -.infinity
                if ta != tb { return ta > tb }
                if a.row.regret != b.row.regret { return a.row.regret < b.row.regret }
                return a.order < b.order
            }
            rows += epochRows.map(\.row)
        }
        self.rows = rows
    }

    /// epoch · rank · predictor · ρ · τ · picked · regret (with `=` when within the noise floor).
    public func table(names: [String]? = nil) -> TextTable {
        var t = TextTable(header: ["epoch", "rank", "predictor", "spearman ρ", "kendall τ", "picked", "regret (points)"],
                          alignments: [.right, .right, .left, .right, .right, .left, .right])
        var rank = 0, last = -1
        for r in rows {
            rank = r.epoch == last ? rank + 1 : 1
            last = r.epoch
            let name = names.map { r.picked < $0.count ? $0[r.picked] : "#\(r.picked)" } ?? "#\(r.picked)"
            t.add(["\(r.epoch)", "\(rank)", r.predictor, r.rho.map(Quantity.coefficient.format) ?? "undefined",
                   r.tau.map(Quantity.coefficient.format) ?? "undefined",
                   name + (r.tiedAtTop > 1 ? " (tie of \(r.tiedAtTop))" : ""),
                   Quantity.points.format(r.regret) + (r.withinNoise && r.regret > 0 ? " (within noise)" : "")])
        }
        return t
    }
}
