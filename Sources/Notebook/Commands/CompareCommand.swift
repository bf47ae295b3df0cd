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
                format=markdown, latex (booktabs) or csv prints that text; file= writes it instead.
                """,
                options: ["format", "file"], completes: [.configs],
                optionValues: ["format": .choice(formats), "file": .path]
            ) { inv, ws in
                let format = try inv.choice("format", formats, default: "text")
                let configs = inv.words.isEmpty ? ws.state.analysisConfigs : try ws.state.configs(inv.words)
                guard !configs.isEmpty else { throw QuantlabError.runtime("no configurations yet; try: config add or config grid") }
                let (table, results) = try table(configs, ws)
                let text: String
                switch format {
                case "markdown": text = table.markdown()
                case "latex": text = table.latex()
                case "csv": text = table.csv(lineEnding: "\n")
                default: text = table.render() + "\n" + ConfigCommands.footer
                }
                if let file = inv.string("file") { return CommandOutput(text: try ws.writeFile(text, to: file), results: results) }
                return CommandOutput(text: text, results: results)
            },
        ]
    }

    /// "0.8952" for one run, "0.8952 ± 0.0031" over seeds, "" without.
    static func accuracy(_ one: Double?, seeds: [Double]) -> String {
        if seeds.count >= 2 { return Quantity.accuracy.meanSD(seeds) }
        return one.map(Quantity.accuracy.format) ?? ""
    }

    /// The table and its recorded results: per configuration `compare row NAME trial T final F bops B trained_bops TB`
    /// and the measured `~ compare row NAME train_ms_per_image X` (not compared on replay).
    static func table(_ configs: [Configuration], _ ws: Workspace) throws -> (TextTable, [String]) {
        let r = ws.state.results
        try ws.state.requireOneData("compare", trials: configs.map(\.name), finals: configs.map(\.name))
        var t = TextTable(header: ["config", "precision", "trial val acc", "final test acc", Quantity.memory.header,
                                   Quantity.bops.header, "trained BOPs", Quantity.energy.header, Quantity.throughput.header,
                                   Quantity.trainingTime.header],
                          alignments: [.left, .left, .right, .right, .right, .right, .right, .right, .right, .right])
        var results: [String] = []
        for c in configs {
            try ws.checkInterrupted()
            let cost = try ws.state.cost(c)
            let trial = accuracy(r.trials[c.name]?.epochs.last?.validationAccuracy,
                                 seeds: (r.seedTrials[c.name] ?? []).compactMap { $0.epochs.last?.validationAccuracy })
            let final = accuracy(r.finals[c.name]?.testAccuracy, seeds: (r.seedFinals[c.name] ?? []).compactMap(\.testAccuracy))
            let run = r.finals[c.name] ?? r.trials[c.name]
            let speed = run.map { o in o.epochs.map(\.imagesPerSecond).reduce(0, +) / Double(max(1, o.epochs.count)) }
            let trained = run?.trainedCost?.bopsPerImage
            let ms = try ws.state.trainingMilliseconds(c, ws)
            t.add([c.name, c.precisionSummary, trial, final, Quantity.memory.format(cost.weightBits), Quantity.bops.format(cost.bops),
                   trained.map(Quantity.bops.format) ?? "", Quantity.energy.format(cost.energyPJ), speed.map(Quantity.throughput.format) ?? "",
                   ms.map(Quantity.trainingTime.format) ?? ""])
            results.append("compare row \(c.name) trial \(trial.isEmpty ? "-" : trial) final \(final.isEmpty ? "-" : final) bops \(cost.bops)"
                           + " trained_bops \(trained.map { String(format: "%.0f", $0) } ?? "-")")
            if let ms { results.append("~ compare row \(c.name) train_ms_per_image \(String(format: "%.3f", ms))") }
        }
        return (t, results)
    }
}
