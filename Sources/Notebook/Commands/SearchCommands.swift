import Foundation
import Formatting
import Search
import Trials
import Store
import Analysis

/// `search halving | hyperband`: the seed paper's adaptive search.
enum SearchCommands {
    static let options = ["eta", "min", "max", "budget", "objective", "cost", "limit", "lambda", "final"] + TrainingSettings.keys + SlurmRequest.keys
        + TunedSetting.optionKeys

    static var specs: [CommandSpec] {
        [
            CommandSpec(
                group: "search", verb: "halving", synopsis: "search halving CONFIG… | all [eta=3] [min=1] [max=9] [budget=EPOCHS|SECONDSs] [objective=accuracy|limit|weighted] [cost=memory|bops|energy] [limit=X] [lambda=X] [on=sample|train][,slurm] [final=yes] [tune-lr=LIST] [tune-batch=LIST] [tune-optimizer=LIST] [tune-augment=LIST]",
                abstract: "Successive halving: train all briefly, keep the best 1/eta by validation accuracy, train those longer, repeat.",
                discussion: """
                Rungs train on the trial sample (on=sample, default) or the full training split, continuing
                where the previous rung stopped. objective=limit keeps only configurations with cost ≤ limit=
                (cost= memory in KiB, bops, or energy in µJ); objective=weighted ranks by accuracy − lambda ×
                cost/max cost. final=yes then trains the chosen configuration as a final run (epochs=).
                Compute is reported in epochs and as a share of training every configuration to the end
                (final runs of epochs= on the full training split), counted in images.
                A learning-rate schedule (schedule=cosine|step) spans max= epochs, so rungs continue one schedule.
                budget= must pay for the first rung (configurations × min epochs); limit= must admit the cheapest.
                budget=300s is a budget in measured CPU seconds of training: a rung starts only while the seconds spent
                plus its estimate (its epochs at the CPU seconds per image measured so far) fit. The session records how
                many rungs ran (# time budget: ran N rungs), and replay runs that many, so it replays bit-identically.
                on=slurm (or on=train,slurm) trains each rung as one Slurm array job: only survivors get the next rung.
                tune-lr=0.001,0.005 (and tune-batch=, tune-optimizer=, tune-augment=) search training hyper-parameters
                too: every configuration with every combination of the values, as its training overrides, named
                NAME_lr0.005_b32…; the chosen one joins the session's configurations.
                """,
                options: options, completes: [.configs]
            ) { inv, ws in try search(inv, ws, hyperband: false) },
            CommandSpec(
                group: "search", verb: "hyperband", synopsis: "search hyperband CONFIG… | all [eta=3] [min=1] [max=9] [sample=random|listed] [SAME OPTIONS AS search halving] | MODEL layers=LIST choices=LIST [fraction=F] [iterations=N] [SAME OPTIONS AS search greedy]",
                abstract: "Hyperband: several successive-halving brackets trading breadth for depth (Li et al. 2018).",
                discussion: """
                Bracket s starts n = ⌈(s_max+1)·eta^s/(s+1)⌉ configurations at max/eta^s epochs and halves them to max=.
                Each bracket samples its own n configurations, as in the paper: uniformly from those no earlier bracket
                took (sample=random, default; drawn from the session's seed), or the next n in the listed order
                (sample=listed). A configuration joins one bracket only (training continues, it cannot restart); the
                brackets repeat while configurations are left and the budget= (epochs) allows.
                search hyperband MODEL layers=… choices=… [base=] [cost=bops|memory|energy] [limit=X | fraction=F]
                [iterations=N] [images=N] [name=NAME] searches the per-layer space of search greedy | evolve | tpe
                instead: each bracket draws its assignments uniformly from the product of the per-layer choices
                (within the cost limit; fraction= defaults to 0.5 of the most precise), never enumerated; the brackets
                repeat iterations= times (default 1, or while budget= allows when it is given).
                """,
                options: options + ["sample"] + PerLayerSearchCommands.hyperbandKeys, completes: [.configs]
            ) { inv, ws in
                if PerLayerSearchCommands.isPerLayer(inv) {
                    let configOnly = ["objective", "lambda", "final", "on", "sample"] + SlurmRequest.keys
                    if let k = configOnly.first(where: { inv.string($0) != nil }) {
                        throw inv.usageError("\(k)= applies to configurations; over a per-layer space (layers=, choices=, base=) use cost=, limit= or fraction=")
                    }
                    return try PerLayerSearchCommands.search(inv, ws, kind: .hyperband)
                }
                if let k = ["fraction", "iterations", "images", "name"].first(where: { inv.string($0) != nil }) {
                    throw inv.usageError("\(k)= applies to a per-layer space: search hyperband MODEL layers=… choices=…")
                }
                return try search(inv, ws, hyperband: true)
            },
        ]
    }

    /// Trains configurations for the search through the run driver (side by side,
    /// stored, interruptible).
    final class Evaluator: SearchEvaluator {
        let configs: [Configuration]
        let settings: TrainingSettings
        let driver: RunDriver
        let seed: UInt64
        let line: Int?
        /// The schedule of every trainer spans the most epochs a configuration can reach.
        let scheduleEpochs: Int
        var trainers: [Int: Trainer] = [:]
        var images = 0
        var cpuSeconds = 0.0
        var lastMetric: [Int: Double?] = [:]
        /// budget=SECONDSs: rungs start while the measured CPU seconds allow.
        var timeBudget: TimeBudget?

        init(configs: [Configuration], settings: TrainingSettings, driver: RunDriver, seed: UInt64, line: Int?, scheduleEpochs: Int) {
            self.configs = configs; self.settings = settings; self.driver = driver; self.seed = seed; self.line = line
            self.scheduleEpochs = scheduleEpochs
        }

        func advance(config: Int, toEpochs epochs: Int) throws -> Double? {
            try advance(configs: [config], toEpochs: epochs)[0]
        }

        func advance(configs ids: [Int], toEpochs epochs: Int) throws -> [Double?] {
            let jobs = try ids.map { i -> TrialJob in
                if trainers[i] == nil { trainers[i] = try Trainer(configuration: configs[i], settings: settings, seed: seed, scheduleEpochs: scheduleEpochs) }
                images += (epochs - trainers[i]!.epochsDone) * driver.data.train.count
                return TrialJob(trainer: trainers[i]!, epochs: epochs, evaluateTest: false)
            }
            let outcomes = try driver.run(jobs, line: line)
            cpuSeconds += outcomes.reduce(0) { $0 + $1.epochs.reduce(0) { $0 + $1.cpuSeconds } }
            if outcomes.contains(where: { $0.status == .interrupted }) { throw QuantlabError.interrupted }
            return outcomes.map { o in o.status == .diverged ? nil : o.last?.validationAccuracy }
        }

        func admitsRung(epochs: Int) -> Bool {
            timeBudget?.admits(epochs: epochs, imagesPerEpoch: driver.data.train.count, spentSeconds: cpuSeconds, spentImages: images) ?? true
        }
    }

    static func search(_ inv: Invocation, _ ws: Workspace, hyperband: Bool) throws -> CommandOutput {
        let started = Timestamp.now()
        var settings = ws.state.settings
        try settings.apply(try TrialCommands.settingsOptions(inv))
        // Every option is checked before anything trains (and before the data is needed).
        let eta = try inv.int("eta", default: 3, in: 2...10)
        let minE = try inv.int("min", default: 1, in: 1...1000)
        let maxE = try inv.int("max", default: 9, in: minE...1000)
        let onValues = try SlurmRequest.onValues(inv, dataChoices: ["sample", "train"])   // on=train,slurm: data and where
        let on = onValues.contains("train") ? "train" : "sample"
        let slurm = try SlurmRequest.parse(inv, ws, dataChoices: ["sample", "train"])
        if slurm?.dryRun == true { throw inv.usageError("dry-run=yes shows trial run and trial final plans; a search plans each rung from the last one's results") }
        let costKind = try CostKind.parse(inv, default: .memory)
        let objectiveKind = try inv.choice("objective", ["accuracy", "limit", "weighted"], default: "accuracy")
        let final = try inv.bool("final", default: false)
        let sampled = hyperband ? try inv.choice("sample", ["random", "listed"], default: "random") == "random" : false
        let data = try ws.state.requireData()
        if final { _ = try data.requireTest(for: "search … final=yes") }
        let tuned = try TunedSetting.parse(inv)
        let configs = TunedSetting.expand(try ws.state.configs(inv.words), tuned)
        for c in configs where !tuned.isEmpty {
            if let old = ws.state.configs.first(where: { $0.name == c.name }), old.definition != c.definition {
                throw inv.usageError("the tuned configuration \(c.name) would change the existing configuration of that name; rename it first (config rename)")
            }
        }
        let unit = costKind == .memory ? "KiB of weights" : costKind.unit
        // cost=time: each configuration's measured training time (it must have trained).
        let costs = try configs.map { try ws.state.cost($0, costKind, ws) }
        let objective: Objective
        switch objectiveKind {
        case "limit":
            let cheapest = costs.min() ?? 0
            let floor = Invocation.number(cheapest)
            guard let limit = try inv.double("limit") else {
                throw inv.usageError("objective=limit needs limit=X (in \(unit), cost=\(costKind.rawValue)); the cheapest configuration costs \(floor)")
            }
            // A limit below the cheapest excludes everything and would end "chosen: none".
            guard limit >= cheapest else {
                throw inv.usageError("option 'limit' expects a number ≥ \(floor) (\(unit), cost=\(costKind.rawValue)): limit=\(inv.string("limit")!) excludes every configuration, the cheapest costs \(floor)")
            }
            objective = .costLimit(limit)
        case "weighted": objective = .weighted(lambda: try inv.double("lambda", default: 0.05, in: 0...100))
        default: objective = .accuracy
        }
        // The first rung must fit the budget, or the search trains nothing and ends
        // "chosen: none": halving trains every eligible configuration for min epochs,
        // Hyperband's first bracket its first rung.
        let eligible = objectiveKind == "limit" ? costs.filter { $0 <= (try? inv.double("limit")) ?? 0 }.count : configs.count
        let firstRung: Int
        if hyperband, let rung = Hyperband(eta: eta, minEpochs: minE, maxEpochs: maxE).brackets().first?.rungs.first {
            firstRung = min(rung.configs, eligible) * rung.epochs
        } else {
            firstRung = eligible * minE
        }
        let budget = try SearchBudget.parse(inv, ws, minimumEpochs: max(1, firstRung))
        let trainData = on == "sample" ? data.trialData : TrialData(train: data.train, validation: data.trialData.validation, test: nil, normalization: data.normalization)
        var driver = RunDriver(ws: ws, kind: .search, data: trainData, datasetName: data.dataset.name, fingerprint: data.dataset.fingerprint,
                               classes: data.classes)
        driver.slurm = slurm     // each rung is one array job
        let evaluator = Evaluator(configs: configs, settings: settings, driver: driver, seed: ws.seed, line: inv.lineNumber,
                                  scheduleEpochs: maxE)
        evaluator.timeBudget = budget.time
        let ids = Array(configs.indices)
        let report: SearchReport
        do {
            report = hyperband
                ? try Hyperband(eta: eta, minEpochs: minE, maxEpochs: maxE, objective: objective, budget: budget.epochs,
                                  seed: sampled ? ws.seed : nil).run(configs: ids, costs: costs, evaluator: evaluator)
                : try SuccessiveHalving(eta: eta, minEpochs: minE, maxEpochs: maxE, objective: objective, budget: budget.epochs).run(configs: ids, costs: costs, evaluator: evaluator)
        } catch let e as SearchError { throw QuantlabError.runtime(e.message) }
        var out = "\(hyperband ? "hyperband" : "successive halving") over \(configs.count) configurations on the \(on == "sample" ? "trial sample (\(data.sample.count))" : "training split (\(data.train.count))"), eta \(eta), epochs \(minE)…\(maxE)\n"
        var results: [String] = []
        for (i, r) in report.rungs.enumerated() {
            let evaluated = r.evaluated.map { e in "\(configs[e.config].name) \(e.metric.map(f4) ?? "diverged")" }.joined(separator: ", ")
            out += "rung \(i + 1)\(r.bracket.map { " (bracket \($0 + 1))" } ?? ""): \(r.epochs) epochs: \(evaluated)\n  kept: \(r.kept.map { configs[$0].name }.joined(separator: ", "))\n"
            results.append("rung \(i + 1) epochs \(r.epochs) kept " + r.kept.map { configs[$0].name }.joined(separator: ","))
        }
        if !report.excluded.isEmpty { out += "excluded by the cost limit: \(report.excluded.map { configs[$0].name }.joined(separator: ", "))\n" }
        out += "ranking: \(report.ranking.map { configs[$0].name }.joined(separator: " > "))\n"
        var chosenName = "none"
        if let c = report.chosen {
            chosenName = configs[c].name
            if !ws.state.configs.contains(where: { $0.name == chosenName }) { ws.state.configs.append(configs[c]) }
        }
        out += "chosen: \(chosenName)\n"
        results.append("search chosen \(chosenName) epochs \(report.epochsSpent) of \(report.epochsFullTraining)")
        if let time = budget.time {
            out += time.summary(spent: evaluator.cpuSeconds) + "\n"
            ws.notes.append(time.note)
        }
        try SearchComparison.record(SearchSummary(
            name: report.chosen.map { configs[$0].name } ?? "\(hyperband ? "hyperband" : "halving") (none)",
            kind: hyperband ? "hyperband" : "halving", command: inv.line, chosen: report.chosen.map { configs[$0] },
            costKind: objectiveKind == "limit" ? costKind : nil, cost: report.chosen.map { costs[$0] }.flatMap { objectiveKind == "limit" ? $0 : nil },
            epochs: report.epochsSpent, images: evaluator.images, cpuSeconds: evaluator.cpuSeconds, started: started), inv, ws)
        var images = evaluator.images
        if let c = report.chosen, final {
            var fd = RunDriver(ws: ws, kind: .final, data: data.finalData, datasetName: data.dataset.name, fingerprint: data.dataset.fingerprint,
                               classes: data.classes)
            fd.slurm = slurm
            let trainer = try Trainer(configuration: configs[c], settings: settings, seed: ws.seed)
            let o = try fd.run([TrialJob(trainer: trainer, epochs: settings.epochs, evaluateTest: true)], line: inv.lineNumber)[0]
            images += settings.epochs * data.train.count
            ws.state.results.setFinal(configs[c].name, o)
            ws.state.results.trainers[configs[c].name] = trainer
            ws.state.results.trainedWith[configs[c].name] = data.normalization
            out += "final run of \(chosenName): \(settings.epochs) epochs on \(Quantity.grouped(data.train.count)), test accuracy \(o.testAccuracy.map(Quantity.accuracy.format) ?? "—")\n"
            results.append("search final \(chosenName) test_acc \(o.testAccuracy.map(f6) ?? "none")")
        }
        let full = configs.count * settings.epochs * data.train.count
        out += "compute: \(report.epochsSpent) epochs of \(report.epochsFullTraining) on the search data; \(Quantity.grouped(images)) images trained vs "
            + "\(Quantity.grouped(full)) to train every configuration for \(settings.epochs) epochs on the full training split (\(Quantity.share.withUnit(Double(images) / Double(full))))\n"
        results.append(String(format: "search images %d of %d (%.4f)", images, full, Double(images) / Double(full)))
        // With final runs of every configuration in the session, how good was the pick?
        let finals = configs.compactMap { c in ws.state.results.finals[c.name]?.testAccuracy.map { (c.name, $0) } }
        if finals.count == configs.count, let best = finals.max(by: { $0.1 < $1.1 }),
           let picked = finals.first(where: { $0.0 == chosenName }) {
            out += "against the final runs: chosen \(picked.0) \(Quantity.accuracy.format(picked.1)), best \(best.0) \(Quantity.accuracy.format(best.1)), regret \(Quantity.points.withUnit(best.1 - picked.1))\n"
            results.append("search regret \(f6(best.1 - picked.1))")
        }
        return CommandOutput(text: out, results: results)
    }
}
