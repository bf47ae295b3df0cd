import Foundation
import Analysis
import Formatting
import Trials

/// `compare`: one table of configurations × accuracy × cost, for a slide or a paper.
enum CompareCommand {
    static let formats = ["text", "markdown", "latex", "csv"]

    static var specs: [CommandSpec] {
        [
            CommandSpec(
                verb: "compare", synopsis: "compare [CONFIG… | all] [format=text|markdown|latex|csv] [file=FILE]",
                abstract: "Configurations × accuracy (trial, final, mean ± sd) × cost (memory, BOPs, energy, trained BOPs, measured speed).",
                discussion: """
                trial val acc: validation accuracy at the last trial epoch; final test acc: test accuracy of the final
                run; both mean ± sd over seeds when run with seeds=K. Cost per inference (weights KiB, BOPs, energy µJ,
                an estimate) and the measured training throughput of the final run (else the trial). Units and number
                formats are those of every table (docs/design.md). trained BOPs: the bit operations per training image of
                the forward passes at the precision actually trained, averaged over the final run's iterations (else the
                trial's): the inference BOPs at fixed precision, less under a schedule (schedule=cpt:3-8), both modes'
                in a dual network's joint phase. train ms/img: measured CPU milliseconds per training image (every
                stored epoch of the definition). A dual network's low mode is a row of its own (NAME@wWaA).
                format=markdown, latex (booktabs) or csv prints that text; file= writes it instead. The CSV is for
                programs: one header line, then one line per configuration, columns config, precision, trial_val_acc,
                trial_val_acc_sd, final_test_acc, final_test_acc_sd, weights_kib, bops, trained_bops, energy_uj,
                img_per_s, train_ms_per_img; numbers in full precision without grouping or units (a mean over seeds
                with its sd in the _sd column), an empty field where the text table has none, nan where a value is not
                a number.
                """,
                options: ["format", "file"], completes: [.configs],
                optionValues: ["format": .choice(formats), "file": .path]
            ) { inv, ws in
                let format = try inv.choice("format", formats, default: "text")
                let configs = inv.words.isEmpty ? ws.state.analysisConfigs : try ws.state.configs(inv.words)
                guard !configs.isEmpty else { throw QuantlabError.runtime("no configurations yet; try: config add or config grid") }
                let (rows, results) = try rows(configs, ws)
                let text: String
                switch format {
                case "markdown": text = table(rows).markdown()
                case "latex": text = table(rows).latex()
                case "csv": text = csv(rows).csv()
                default: text = table(rows).render() + "\n" + ConfigCommands.footer
                }
                if let file = inv.string("file") { return CommandOutput(text: try ws.writeFile(text, to: file), results: results) }
                return CommandOutput(text: text, results: results)
            },
        ]
    }

    /// One configuration's figures, before they become table or CSV text.
    struct Row {
        var name: String, precision: String
        /// Validation accuracy at the last trial epoch and test accuracy of the final run: one
        /// per seed when run with seeds=K (two or more), else the one run's, else none.
        var trial: [Double], final: [Double]
        var weightBits: Int, bops: Int, trainedBOPs: Double?, energyPJ: Double
        var imagesPerSecond: Double?, trainingMilliseconds: Double?
    }

    /// The accuracies of a row: the seeds' when there are two or more, else the one run's.
    static func accuracies(_ one: Double?, seeds: [Double]) -> [Double] {
        seeds.count >= 2 ? seeds : one.map { [$0] } ?? []
    }

    /// The rows and their recorded results: per configuration `compare row NAME trial T final F bops B trained_bops TB`
    /// and the measured `~ compare row NAME train_ms_per_image X` (not compared on replay).
    static func rows(_ configs: [Configuration], _ ws: Workspace) throws -> ([Row], [String]) {
        let r = ws.state.results
        try ws.state.requireOneData("compare", trials: configs.map(\.name), finals: configs.map(\.name))
        var rows: [Row] = [], results: [String] = []
        for c in configs {
            try ws.checkInterrupted()
            let cost = try ws.state.cost(c)
            let run = r.finals[c.name] ?? r.trials[c.name]
            let row = Row(name: c.name, precision: c.precisionSummary,
                          trial: accuracies(r.trials[c.name]?.epochs.last?.validationAccuracy,
                                            seeds: (r.seedTrials[c.name] ?? []).compactMap { $0.epochs.last?.validationAccuracy }),
                          final: accuracies(r.finals[c.name]?.testAccuracy, seeds: (r.seedFinals[c.name] ?? []).compactMap(\.testAccuracy)),
                          weightBits: cost.weightBits, bops: cost.bops, trainedBOPs: run?.trainedCost?.bopsPerImage, energyPJ: cost.energyPJ,
                          imagesPerSecond: run.map { o in o.epochs.map(\.imagesPerSecond).reduce(0, +) / Double(max(1, o.epochs.count)) },
                          trainingMilliseconds: try ws.state.trainingMilliseconds(c, ws))
            rows.append(row)
            let trial = Quantity.accuracy.meanSD(row.trial), final = Quantity.accuracy.meanSD(row.final)
            results.append("compare row \(c.name) trial \(trial.isEmpty ? "-" : trial) final \(final.isEmpty ? "-" : final) bops \(cost.bops)"
                           + " trained_bops \(row.trainedBOPs.map { String(format: "%.0f", $0) } ?? "-")")
            if let ms = row.trainingMilliseconds { results.append("~ compare row \(c.name) train_ms_per_image \(String(format: "%.3f", ms))") }
        }
        return (rows, results)
    }

    /// The table of text, markdown and LaTeX: numbers as every table shows them, `mean ± sd` over seeds.
    static func table(_ rows: [Row]) -> TextTable {
        var t = TextTable(header: ["config", "precision", "trial val acc", "final test acc", Quantity.memory.header,
                                   Quantity.bops.header, "trained BOPs", Quantity.energy.header, Quantity.throughput.header,
                                   Quantity.trainingTime.header],
                          alignments: [.left, .left, .right, .right, .right, .right, .right, .right, .right, .right])
        for row in rows {
            t.add([row.name, row.precision, Quantity.accuracy.meanSD(row.trial), Quantity.accuracy.meanSD(row.final),
                   Quantity.memory.format(row.weightBits), Quantity.bops.format(row.bops), row.trainedBOPs.map(Quantity.bops.format) ?? "",
                   Quantity.energy.format(row.energyPJ), row.imagesPerSecond.map(Quantity.throughput.format) ?? "",
                   row.trainingMilliseconds.map(Quantity.trainingTime.format) ?? ""])
        }
        return t
    }

    /// The CSV's table: the same columns for a program, a mean and its sd in two
    /// (see the command's help); numbers by `Quantity.plain`, "" for none.
    static func csv(_ rows: [Row]) -> TextTable {
        var t = TextTable(header: ["config", "precision", "trial_val_acc", "trial_val_acc_sd", "final_test_acc", "final_test_acc_sd",
                                   "weights_kib", "bops", "trained_bops", "energy_uj", "img_per_s", "train_ms_per_img"])
        func meanAndSD(_ values: [Double]) -> [String] {
            guard let (mean, sd) = Quantity.meanAndSD(values) else { return ["", ""] }
            return [Quantity.accuracy.plain(mean), sd.map(Quantity.accuracy.plain) ?? ""]
        }
        for row in rows {
            t.add([row.name, row.precision] + meanAndSD(row.trial) + meanAndSD(row.final)
                  + [Quantity.memory.plain(Double(row.weightBits)), Quantity.bops.plain(Double(row.bops)),
                     row.trainedBOPs.map(Quantity.bops.plain) ?? "", Quantity.energy.plain(row.energyPJ),
                     row.imagesPerSecond.map(Quantity.throughput.plain) ?? "", row.trainingMilliseconds.map(Quantity.trainingTime.plain) ?? ""])
        }
        return t
    }
}
