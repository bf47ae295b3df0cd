import Foundation
import Formatting
import Analysis
import Trials

/// The parts of `correlate` that judge how far its numbers can be trusted, and the
/// predictors table.
extension AnalysisCommands {
    /// Warnings for small samples: with n < 8 configurations a rank correlation
    /// moves by ≥ 0.05 when one pair swaps, and with k ≥ n top-k overlap is always 1.
    static func correlateWarnings(n: Int, k: Int) -> String {
        var out = ""
        if n < 8 {
            out += "warning: only \(n) configurations; correlations from fewer than 8 are fragile (one swapped pair moves spearman ρ by \(Quantity.coefficient.format(6.0 / Double(n * n - 1))) or more)\n"
        }
        if k >= n { out += "warning: k = \(k) ≥ n = \(n): top-\(k) overlap is 1 by construction; use k < n\n" }
        return out
    }

    /// Which test each p-value comes from, and why an interval is missing.
    static func testNote(_ per: [EpochCorrelations], n: Int, resamples: Int) -> String {
        var tests = Set<String>()
        for row in per[2].rows { if case .success(let c) = row.result, !c.test.isEmpty { tests.insert(c.test) } }
        // No kendall test ran when every epoch's τ is undefined (a constant metric): "kendall τ-b by —" read as a typo.
        let kendall = tests.isEmpty ? "kendall τ-b: none (undefined at every epoch)"
            : "kendall τ-b by " + tests.sorted().joined(separator: " and ") + " (exact without ties when n ≤ 33)"
        var out = "p-values: pearson and spearman by Student's t (n − 2 df); " + kendall + "; two-sided\n"
        if resamples > 0 {
            out += n < Statistics.bootstrapMinimumN
                ? "no bootstrap interval: n = \(n) < \(Statistics.bootstrapMinimumN), too few distinct resamples for an interval that means anything\n"
                : "intervals: BCa bootstrap, \(resamples) resamples of configurations, seeded\n"
        }
        return out
    }

    /// One table per epoch ranking the predictors of final accuracy.
    static func predictorTable(_ ws: Workspace, pairs: [Pair], metric: String, noiseFloor: Double) -> (String, [String]) {
        let names = pairs.map(\.name)
        let trials = pairs.map { ws.state.results.trials[$0.name]!.epochs }
        // The horizon: the final runs' training in sample-epochs (final epochs × training split / sample),
        // so a curve fitted to trial epochs is read where the final run's training ends.
        let finalEpochCount = Double(pairs.compactMap { ws.state.results.finals[$0.name]?.epochs.count }.max() ?? 1)
        let data = ws.state.data
        let finalEpochs = max(1, (finalEpochCount * Double(data?.train.count ?? 1) / Double(max(1, data?.sample.count ?? 1))).rounded())
        let valAcc = trials.map { $0.map { $0.validationAccuracy ?? .nan } }
        let negLoss = trials.map { $0.map { -($0.validationLoss ?? .nan) } }
        func curve(_ families: [LearningCurve.Family]) -> [[Double]] {
            valAcc.map { v in v.indices.map { e in
                LearningCurve.predict(Array(v[0...e]), at: max(finalEpochs, Double(e + 1)), families: families, lower: 0, upper: 1)
            } }
        }
        let comparison = PredictorComparison(predictors: [
            ("val_acc", valAcc), ("-val_loss", negLoss),
            ("curve power", curve([.power])), ("curve exp", curve([.exponential])), ("curve best", curve(LearningCurve.Family.allCases)),
        ], final: pairs.map(\.final), noiseFloor: noiseFloor)
        var text = "\npredictors of final test accuracy, ranked per epoch (curves: fitted to val_acc epochs 1…e, read at epoch \(Int(finalEpochs)) = final epochs × training split / sample; need 3 epochs)\n"
        if noiseFloor > 0 { text += "noise floor \(Quantity.points.withUnit(noiseFloor)): regrets below it are ties\n" }
        text += comparison.table(names: names).render() + "\n"
        var lines = comparison.rows.map { r in
            "predictor epoch \(r.epoch) \(r.predictor) spearman \(r.rho.map(f6) ?? "undefined") kendall \(r.tau.map(f6) ?? "undefined") regret \(f6(r.regret))"
        }
        let (verdict, line) = epochOneVerdict(comparison.rows)
        text += verdict
        lines.append(line)
        return (text, lines)
    }

    /// The seed paper's question in one line: does any predictor beat raw validation
    /// accuracy in Spearman ρ at epoch 1? (Curves need 3 epochs: at epoch 1 they equal it.)
    static func epochOneVerdict(_ rows: [PredictorComparison.Row]) -> (String, String) {
        let first = rows.filter { $0.epoch == 1 }
        guard let raw = first.first(where: { $0.predictor == "val_acc" })?.rho else {
            return ("epoch 1: Spearman ρ of val_acc is undefined; no predictor can be compared with it\n", "predictor epoch 1 verdict undefined")
        }
        let beating = first.filter { $0.predictor != "val_acc" && ($0.rho ?? -2) > raw }.sorted { $0.rho! > $1.rho! }
        if let b = beating.first {
            return (String(format: "epoch 1: %@ beats raw val_acc in Spearman ρ (%.3f against %.3f)\n", b.predictor, b.rho!, raw),
                    "predictor epoch 1 verdict \(b.predictor) beats val_acc spearman \(f6(b.rho!)) vs \(f6(raw))")
        }
        return (String(format: "epoch 1: no predictor beats raw val_acc in Spearman ρ (%.3f)\n", raw),
                "predictor epoch 1 verdict none beats val_acc spearman \(f6(raw))")
    }
}
