import Foundation
import Analysis
import Trials
import Formatting

/// `correlate`, `pareto`, `plot curves | scatter | pareto`.
enum AnalysisCommands {
    static let metrics = ["val_acc", "val_loss", "train_acc", "train_loss"]

    static var specs: [CommandSpec] {
        [
            CommandSpec(
                verb: "correlate", synopsis: "correlate [metric=val_acc|val_loss|train_acc|train_loss] [threshold=R] [k=N] [bootstrap=N] [predictors=yes] [noise=POINTS] [csv=FILE]",
                abstract: "How well the early trial metric at each epoch predicts final test accuracy.",
                discussion: """
                Across the configurations that have both a trial and a final run: Pearson r, Spearman ρ and
                Kendall τ-b with p-values and seeded bootstrap 95% intervals, n; the earliest epoch at which
                ρ reaches threshold= (default 0.8); and selection quality: the final accuracy of the configuration
                the early metric picks versus the true best (regret) and top-k overlap (k=3), overall and by
                quantizer family. Loss metrics are negated so that higher always predicts better.
                Kendall's p is exact (permutation distribution) without ties for n ≤ 33, else the normal
                approximation (scipy's default); intervals are BCa and not computed below n = 6. A warning is
                printed when n < 8 or k ≥ n; a tie for the top early value goes to the first configuration listed
                and is shown. predictors=yes adds one table per epoch ranking the predictors of final accuracy
                (raw val_acc, −val_loss, learning-curve extrapolation of val_acc to the final run's training in sample epochs:
                power law, exponential, and the better-fitting of the two) by spearman ρ, kendall τ and regret;
                regrets below the noise floor (noise=POINTS, or the seed-to-seed spread of trial run seeds=K) are
                marked as ties. csv=FILE writes the correlation table for programs: columns epoch, n, pearson_r,
                pearson_p, spearman_rho, spearman_p, spearman_ci_low, spearman_ci_high, kendall_tau, kendall_p, in full
                precision, empty where a figure is undefined.
                """,
                options: ["metric", "threshold", "k", "bootstrap", "predictors", "noise", "csv"],
                optionValues: ["metric": .choice(metrics), "predictors": .choice(["yes", "no"]), "csv": .path]
            ) { inv, ws in
                try inv.expectWords(0...0)
                let metric = try inv.choice("metric", metrics, default: "val_acc")
                let threshold = try inv.double("threshold", default: 0.8, in: -1...1)
                let k = try inv.int("k", default: 3, in: 1...100)
                let resamples = try inv.int("bootstrap", default: 1000, in: 0...100_000)
                let predictors = try inv.bool("predictors", default: false)
                let noisePoints = try inv.double("noise", in: 0...100)
                let pairs = try paired(ws, metric: metric)
                let early = pairs.map(\.early), final = pairs.map(\.final)
                var out = "early \(metric) (trial epochs) vs final test accuracy, n = \(pairs.count) configurations\n"
                out += correlateWarnings(n: pairs.count, k: k)
                var results: [String] = []
                var table = TextTable(header: ["epoch", "n", "pearson r", "p", "spearman ρ", "p", "95% CI (ρ)", "kendall τ", "p"],
                                      alignments: Array(repeating: .right, count: 9))
                // csv=: the same figures for programs, one column per number, full precision, empty where undefined.
                var plain = TextTable(header: ["epoch", "n", "pearson_r", "pearson_p", "spearman_rho", "spearman_p", "spearman_ci_low",
                                               "spearman_ci_high", "kendall_tau", "kendall_p"])
                let methods: [CorrelationMethod] = [.pearson, .spearman, .kendall]
                let per = try epochCorrelations(early: early, final: final, methods: methods, resamples: resamples,
                                                seed: resamples > 0 ? ws.seed : nil, ws)
                for e in per[0].rows.indices {
                    var row = [String(per[0].rows[e].epoch), String(pairs.count)]
                    var plainRow = row
                    var rtext = "correlate \(metric) epoch \(per[0].rows[e].epoch)"
                    for (mi, m) in methods.enumerated() {
                        switch per[mi].rows[e].result {
                        case .success(let c):
                            row.append(Quantity.coefficient.format(c.r)); row.append(c.pValue.map(Quantity.pValue.format) ?? "—")
                            if m == .spearman { row.append(c.ci.map(Quantity.coefficient.interval) ?? "—") }
                            rtext += " \(m.rawValue) \(f6(c.r))"
                            plainRow += [Quantity.coefficient.plain(c.r), c.pValue.map(Quantity.pValue.plain) ?? ""]
                            if m == .spearman { plainRow += [c.ci.map { Quantity.coefficient.plain($0.lowerBound) } ?? "",
                                                             c.ci.map { Quantity.coefficient.plain($0.upperBound) } ?? ""] }
                        case .failure(let why):
                            row.append("undefined"); row.append("—")
                            if m == .spearman { row.append("—") }
                            rtext += " \(m.rawValue) undefined"
                            plainRow += Array(repeating: "", count: m == .spearman ? 4 : 2)
                            if mi == 0 { out += "epoch \(per[0].rows[e].epoch): \(why)\n" }
                        }
                    }
                    table.add(row)
                    plain.add(plainRow)
                    results.append(rtext)
                }
                out += table.render() + "\n"
                out += testNote(per, n: pairs.count, resamples: resamples)
                if let first = per[1].earliestEpoch(threshold: threshold) {
                    out += "earliest epoch with spearman ρ ≥ \(threshold): \(first)\n"
                    results.append("earliest spearman>=\(threshold) epoch \(first)")
                } else {
                    out += "spearman ρ never reaches \(threshold) in the recorded epochs\n"
                    results.append("earliest spearman>=\(threshold) none")
                }
                let names = pairs.map(\.name)
                let rows = selectionQuality(early: early, final: final, k: k)
                out += "\nselection by early \(metric): the configuration it picks vs the true best (final test accuracy)\n"
                out += SelectionRow.table(rows, names: names).render() + "\n"
                for r in rows { results.append("select epoch \(r.epoch) picked \(names[r.pickedIndex]) regret \(f6(r.regret)) top\(k) \(f4(r.topKOverlap))") }
                let families = pairs.map(\.family)
                if Set(families).count > 1 {
                    out += "\nby quantizer family (pick and best within each family):\n"
                    for g in selectionQuality(early: early, final: final, k: k, groups: families) where g.members.count > 1 {
                        out += "[\(g.group), \(g.members.count) configurations]\n" + SelectionRow.table(g.rows, names: names).render() + "\n"
                    }
                }
                for r in rows {
                    let x = early.map { $0[r.epoch - 1] }
                    let tied = x.indices.filter { x[$0] == x[r.pickedIndex] }
                    if tied.count > 1 {
                        out += "epoch \(r.epoch): \(tied.map { names[$0] }.joined(separator: ", ")) tie at \(metric) \(f4(x[r.pickedIndex])); the tie goes to the first listed, \(names[r.pickedIndex])\n"
                    }
                }
                if predictors {
                    let floor = noisePoints.map { $0 / 100 } ?? ws.state.results.noiseFloor ?? 0
                    let (text, lines) = predictorTable(ws, pairs: pairs, metric: metric, noiseFloor: floor)
                    out += text
                    results += lines
                }
                if let path = inv.string("csv") { out += try ws.writeFile(plain.csv(), to: path) + "\n" }
                return CommandOutput(text: out, results: results)
            },
            CommandSpec(
                verb: "pareto", synopsis: "pareto [cost=memory|bops|energy|time] [accuracy=final|trial] " + PlotOutput.synopsis,
                abstract: "The Pareto front of accuracy against weight memory, bit operations or estimated energy or measured training time.",
                discussion: """
                accuracy=final (default) uses each configuration's final test accuracy; accuracy=trial its
                validation accuracy at the last trial epoch. The table lists every configuration by cost with
                the exact values; the plot labels every point. cost=time is the training CPU time per image measured
                on this machine in the runs themselves; the front is then a measurement, recorded as a `~` result
                that replay --verify does not compare.
                """,
                options: ["cost", "accuracy"] + PlotOutput.options,
                optionValues: ["cost": .choice(CostKind.allCases.map(\.rawValue)), "accuracy": .choice(["final", "trial"])].merging(PlotOutput.optionValues) { a, _ in a }
            ) { inv, ws in
                try inv.expectWords(0...0)
                let p = try paretoPlot(inv, ws)
                let front = paretoFront(accuracy: p.accuracy, cost: p.cost)
                var t = TextTable(header: ["config", p.quantity.header, p.accuracyName, "on front"], alignments: [.left, .right, .right, .left])
                for i in p.cost.indices.sorted(by: { p.cost[$0] < p.cost[$1] }) {
                    t.add([p.names[i], p.quantity.format(p.raw[i]), Quantity.accuracy.format(p.accuracy[i]), front.contains(i) ? "*" : ""])
                }
                var text = p.text + "\n" + t.render()
                let wrote = try PlotOutput.write(p.svg, inv, ws)
                if !wrote.isEmpty { text += "\n" + wrote }
                var output = CommandOutput(text: text, results: [(p.measured ? "~ " : "") + "pareto \(p.legacyLabel) front " + front.map { p.names[$0] }.joined(separator: ",")])
                output.displays = [["image/svg+xml": p.svg]]
                return output
            },
            CommandSpec(
                group: "plot", verb: "curves", synopsis: "plot curves [metric=val_acc|val_loss|train_acc|train_loss] [run=trial|final] " + PlotOutput.synopsis,
                abstract: "Line chart of a metric per epoch, one series per configuration (the seed paper's figure).",
                options: ["metric", "run"] + PlotOutput.options,
                optionValues: ["metric": .choice(metrics), "run": .choice(["trial", "final"])].merging(PlotOutput.optionValues) { a, _ in a }
            ) { inv, ws in
                try inv.expectWords(0...0)
                return try plotOutput(curvesPlot(inv, ws), inv, ws)
            },
            CommandSpec(
                group: "plot", verb: "scatter", synopsis: "plot scatter [epoch=K] [metric=val_acc] " + PlotOutput.synopsis,
                abstract: "Scatter of the early metric at epoch K against final test accuracy, one point per configuration.",
                options: ["epoch", "metric"] + PlotOutput.options,
                optionValues: ["metric": .choice(metrics)].merging(PlotOutput.optionValues) { a, _ in a }
            ) { inv, ws in
                try inv.expectWords(0...0)
                return try plotOutput(scatterPlot(inv, ws), inv, ws)
            },
            CommandSpec(
                group: "plot", verb: "pareto", synopsis: "plot pareto [cost=memory|bops|energy|time] [accuracy=final|trial] " + PlotOutput.synopsis,
                abstract: "The Pareto front as a picture (same as pareto, without the table).",
                options: ["cost", "accuracy"] + PlotOutput.options,
                optionValues: ["cost": .choice(CostKind.allCases.map(\.rawValue)), "accuracy": .choice(["final", "trial"])].merging(PlotOutput.optionValues) { a, _ in a }
            ) { inv, ws in
                try inv.expectWords(0...0)
                let p = try paretoPlot(inv, ws)
                return try plotOutput((p.text, p.svg), inv, ws)
            },
            CommandSpec(
                group: "plot", verb: "panels", synopsis: "plot panels [curves,scatter,pareto] [columns=N] [OPTION=VALUE …] " + PlotOutput.synopsis,
                abstract: "Several plots side by side in one figure (default: curves, scatter and Pareto), for a slide or a paper.",
                discussion: """
                The word lists the panels in order (curves, scatter, pareto; comma-separated). Options of the
                single plots apply (metric=, run=, epoch=, cost=, accuracy=); size= is the size of each panel.
                Panels that have no data yet (scatter and pareto need final runs) are an error.
                """,
                options: ["columns", "metric", "run", "epoch", "cost", "accuracy"] + PlotOutput.options,
                completes: [.choice(["curves,scatter,pareto", "curves,pareto", "curves,scatter"])],
                optionValues: ["metric": .choice(metrics), "run": .choice(["trial", "final"]), "cost": .choice(["memory", "bops", "energy"]),
                               "accuracy": .choice(["final", "trial"])].merging(PlotOutput.optionValues) { a, _ in a }
            ) { inv, ws in
                try inv.expectWords(0...1)
                let kinds = inv.words.first.map { $0.split(separator: ",").map(String.init) } ?? ["curves", "scatter", "pareto"]
                var texts: [String] = [], svgs: [String] = []
                for k in kinds {
                    let made: (String, String)
                    switch k {
                    case "curves": made = try curvesPlot(inv, ws)
                    case "scatter": made = try scatterPlot(inv, ws)
                    case "pareto": let p = try paretoPlot(inv, ws); made = (p.text, p.svg)
                    default: throw inv.usageError("panels are curves, scatter and pareto, comma-separated; found '\(k)'")
                    }
                    texts.append(made.0); svgs.append(made.1)
                }
                let columns = try inv.int("columns", default: svgs.count, in: 1...12)
                return try plotOutput((texts.joined(separator: "\n\n"), SVGPlot.panels(svgs, columns: columns)), inv, ws)
            },
        ]
    }

    /// A plot's terminal text with the files written, and its SVG as display data.
    static func plotOutput(_ plot: (text: String, svg: String), _ inv: Invocation, _ ws: Workspace) throws -> CommandOutput {
        var text = plot.text
        let wrote = try PlotOutput.write(plot.svg, inv, ws)
        if !wrote.isEmpty { text += "\n" + wrote }
        var output = CommandOutput(text)
        output.displays = [["image/svg+xml": plot.svg]]
        return output
    }

    static func curvesPlot(_ inv: Invocation, _ ws: Workspace) throws -> (String, String) {
        let metric = try inv.choice("metric", metrics, default: "val_acc")
        let kind = try inv.choice("run", ["trial", "final"], default: "trial")
        let size = try PlotOutput.size(inv)
        let runs = kind == "final" ? ws.state.results.finals : ws.state.results.trials
        let series = ws.state.analysisConfigs.compactMap { c -> Series? in
            guard let o = runs[c.name], !o.epochs.isEmpty else { return nil }
            return Series(name: c.name, x: o.epochs.map { Double($0.epoch) }, y: o.epochs.map { value($0, metric) })
        }
        guard !series.isEmpty else { throw QuantlabError.runtime("no \(kind) results to plot; try: trial \(kind == "final" ? "final" : "run") all") }
        try ws.state.requireOneData(inv.command, trials: kind == "trial" ? series.map(\.name) : [], finals: kind == "final" ? series.map(\.name) : [])
        let split = metric.hasPrefix("val") ? "validation" : "training"
        let title = "\(metricName(metric)) per epoch (\(kind) runs, \(split) split)"
        return (TextPlot.lines(series, title: title, xLabel: "epoch", yLabel: metric),
                SVGPlot.lines(series, title: title, xLabel: "epoch", yLabel: metricName(metric), width: size.width, height: size.height))
    }

    static func scatterPlot(_ inv: Invocation, _ ws: Workspace) throws -> (String, String) {
        let metric = try inv.choice("metric", metrics, default: "val_acc")
        let size = try PlotOutput.size(inv)
        let pairs = try paired(ws, metric: metric, command: "plot scatter")
        let maxEpoch = pairs.map(\.early.count).min() ?? 1
        let k = try inv.int("epoch", default: maxEpoch, in: 1...maxEpoch)
        let sign = metric.hasSuffix("loss") ? -1.0 : 1.0
        let series = pairs.map { Series(name: $0.name, x: [sign * $0.early[k - 1]], y: [$0.final]) }
        let title = "trial \(metricName(metric)) at epoch \(k) vs final test accuracy"
        return (TextPlot.scatter(series, title: title, xLabel: "trial \(metric) at epoch \(k)", yLabel: "final test acc"),
                SVGPlot.scatter(series, title: title, xLabel: "trial \(metricName(metric)) at epoch \(k)", yLabel: "final test accuracy",
                                width: size.width, height: size.height))
    }

    /// "val_acc" → "validation accuracy".
    static func metricName(_ m: String) -> String {
        ["val_acc": "validation accuracy", "val_loss": "validation loss", "train_acc": "training accuracy", "train_loss": "training loss"][m] ?? m
    }

    struct ParetoPlot {
        var names: [String], accuracy: [Double], raw: [Double], cost: [Double]
        var quantity: Quantity, accuracyName: String, legacyLabel: String, measured: Bool
        var text: String, svg: String
    }

    static func paretoPlot(_ inv: Invocation, _ ws: Workspace) throws -> ParetoPlot {
        // Options first: a misspelt option is the error even before any accuracy exists.
        let costKind = try CostKind.parse(inv, default: .memory)
        let accKind = try inv.choice("accuracy", ["final", "trial"], default: "final")
        let size = try PlotOutput.size(inv)
        let quantity: Quantity = [.memory: .memory, .bops: .bops, .energy: .energy, .time: .trainingTime][costKind]!
        var names: [String] = [], acc: [Double] = [], raw: [Double] = []
        var epochs = Set<Int>()
        for c in ws.state.analysisConfigs {
            let a: Double?
            if accKind == "final" { a = ws.state.results.finals[c.name]?.testAccuracy }
            else {
                let last = ws.state.results.trials[c.name]?.epochs.last
                a = last?.validationAccuracy
                if a != nil, let e = last?.epoch { epochs.insert(e) }
            }
            guard let a else { continue }
            switch costKind {
            case .time: raw.append(try ws.state.cost(c, .time, ws))
            default:
                let r = try ws.state.cost(c)
                raw.append(costKind == .memory ? Double(r.weightBits) : costKind == .bops ? Double(r.bops) : r.energyPJ)
            }
            names.append(c.name); acc.append(a)
        }
        guard !names.isEmpty else { throw QuantlabError.runtime("no \(accKind) accuracies yet; try: trial \(accKind == "final" ? "final" : "run") all") }
        try ws.state.requireOneData(inv.command, trials: accKind == "trial" ? names : [], finals: accKind == "final" ? names : [])
        let cost = raw.map(quantity.scaled)
        let accuracyName = accKind == "final" ? "final test accuracy"
            : "trial validation accuracy" + (epochs.count == 1 ? " (epoch \(epochs.first!))" : " (last epoch)")
        let xLabel = quantity.axisLabel
        let title = "Pareto front: \(accuracyName) vs \(xLabel)"
        let text = TextPlot.pareto(accuracy: acc, cost: cost, labels: names, title: title, xLabel: xLabel, logCost: true)
        let svg = SVGPlot.pareto(accuracy: acc, cost: cost, labels: names, title: title, xLabel: xLabel, yLabel: accuracyName,
                                 logCost: true, width: size.width, height: size.height)
        return ParetoPlot(names: names, accuracy: acc, raw: raw, cost: cost, quantity: quantity, accuracyName: accuracyName,
                          legacyLabel: costKind.label, measured: costKind.isMeasured, text: text, svg: svg)
    }

    static func value(_ m: EpochMetrics, _ metric: String) -> Double {
        switch metric {
        case "val_loss": return m.validationLoss ?? .nan
        case "train_acc": return m.trainAccuracy
        case "train_loss": return m.trainLoss
        default: return m.validationAccuracy ?? .nan
        }
    }

    /// ``EpochCorrelations`` of each method, one epoch at a time with a Ctrl-C check between:
    /// `correlate bootstrap=100000` on 65 configurations took 11 s and did not stop (BCa
    /// intervals grow with n). The same numbers: every epoch uses the same seed either way.
    static func epochCorrelations(early: [[Double]], final: [Double], methods: [CorrelationMethod], resamples: Int,
                                  seed: UInt64?, _ ws: Workspace) throws -> [EpochCorrelations] {
        let count = early.map(\.count).min() ?? 0
        return try methods.map { method in
            EpochCorrelations(method: method, rows: try (0..<count).flatMap { e in
                try ws.checkInterrupted()
                return EpochCorrelations(early: early.map { [$0[e]] }, final: final, method: method, epochs: [e + 1],
                                         resamples: resamples, seed: seed).rows
            })
        }
    }

    struct Pair { var name: String; var family: String; var early: [Double]; var final: Double }

    /// Configurations with a trial and a final test accuracy, the early metric per epoch
    /// (losses negated so that higher predicts better).
    static func paired(_ ws: Workspace, metric: String, command: String = "correlate") throws -> [Pair] {
        let sign = metric.hasSuffix("loss") ? -1.0 : 1.0
        let pairs = ws.state.analysisConfigs.compactMap { c -> Pair? in
            guard let t = ws.state.results.trials[c.name], t.status == .done,
                  let f = ws.state.results.finals[c.name], let acc = f.testAccuracy else { return nil }
            return Pair(name: c.name, family: c.family, early: t.epochs.map { sign * value($0, metric) }, final: acc)
        }
        guard pairs.count >= 2 else {
            throw QuantlabError.runtime("\(command) needs at least 2 configurations with both a trial run and a final run; found \(pairs.count) (try: trial run all, then trial final all)")
        }
        try ws.state.requireOneData(command, trials: pairs.map(\.name), finals: pairs.map(\.name))
        return pairs
    }
}
