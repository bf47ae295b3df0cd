import Foundation
import Formatting
import Search
import Trials
import Analysis
import Store

/// `search greedy | evolve | tpe`: searches over per-layer precision assignments
/// (the product of per-layer choices, never enumerated), with successive halving on
/// the trials they propose.
enum PerLayerSearchCommands {
    enum Kind: String { case greedy, evolve, tpe, hyperband }

    /// Options only the per-layer form of `search hyperband` takes; one of the first
    /// three selects it (`search hyperband MODEL choices=…`).
    static let hyperbandKeys = PerLayerSpace.options + ["fraction", "iterations", "images", "name"]

    /// Whether `search hyperband` was given a per-layer space rather than configurations.
    static func isPerLayer(_ inv: Invocation) -> Bool { PerLayerSpace.options.contains { inv.string($0) != nil } }

    static let common = PerLayerSpace.options + ["cost", "limit", "fraction", "eta", "min", "max", "budget", "images", "name"]
        + TrainingSettings.keys
    static let commonText = """
        MODEL's layers matching layers= (names or patterns; default every weighted layer) each take one of
        choices= (default w8a8,w4a4,w2a2, ordered most precise first); the other layers keep base= (default the
        model's precision). The cost (cost=bops|memory|energy, default bops; greedy also cost=time, the training
        CPU ms per image measured on this machine) must end ≤ limit=X, or ≤ fraction=F
        (default 0.5) of the most precise assignment. Proposals train on the trial sample with successive halving:
        rungs at min= (1), ×eta (3), … max= (3) epochs, keeping ⌊n/eta⌋. budget=EPOCHS, images=N or budget=SECONDSs
        (measured CPU seconds of training; replay runs the recorded number of rungs) caps the compute. The chosen assignment becomes configuration name= (an unused name; default greedy, greedy2,
        …, evolved, … or tpe, …), ready for trial final; every trial is stored in the results database, and the
        search's compute (epochs, images, CPU seconds) in its table searches. search compare sets the searches
        against an exhaustive ground truth.
        """

    static var specs: [CommandSpec] {
        [
            CommandSpec(
                group: "search", verb: "greedy",
                synopsis: "search greedy MODEL [layers=LIST] [choices=LIST] [base=wWaA] [cost=bops|memory|energy|time] [limit=X | fraction=F] [order=layers|sensitivity] [width=N] [max=3] [budget=EPOCHS|SECONDSs | images=N] [name=NAME]",
                abstract: "Per-layer search: lower one layer's precision at a time, the least accuracy lost per cost saved by short trials, until the cost fits.",
                discussion: commonText + "\n" + """
                Greedy trains the most precise assignment to max= epochs; each step proposes lowering each lowerable
                layer one choice, trains every proposal to max= (no halving: a proposal is compared with the current
                assignment at the same epochs) and adopts the one losing the least validation accuracy per unit of
                cost saved (one that loses nothing first, the larger saving first), until the cost fits. The chosen
                assignment is the best by validation accuracy of all it trained within the limit. order=sensitivity
                proposes only the width= (default 2) least sensitive lowerable layers, from the model's last
                sensitivity run. With cost=time an assignment is priced by its measured training time, so the most
                precise and the cheapest assignment train 1 epoch first (counted as compute); the time is a
                measurement, so the step costs are recorded as ~X (not compared on replay) and the steps taken may
                differ between machines.
                """,
                options: common.filter { $0 != "eta" && $0 != "min" } + ["order", "width"], completes: [.model]
            ) { inv, ws in try search(inv, ws, kind: .greedy) },
            CommandSpec(
                group: "search", verb: "evolve",
                synopsis: "search evolve MODEL [layers=LIST] [choices=LIST] [SAME OPTIONS AS search greedy] [population=6] [sample=3] [children=3] [generations=4]",
                abstract: "Per-layer search by regularized evolution: mutate one layer of a tournament winner, oldest member retires.",
                discussion: commonText + "\n" + """
                population= assignments within the limit are drawn and trained to max=; each of generations=
                proposes children= mutants of the best of sample= random members; the halving's survivors join
                the population and as many of the oldest leave (Real et al. 2019). Deterministic from the seed.
                """,
                options: common + TunedSetting.optionKeys + ["population", "sample", "children", "generations"], completes: [.model]
            ) { inv, ws in try search(inv, ws, kind: .evolve) },
            CommandSpec(
                group: "search", verb: "tpe",
                synopsis: "search tpe MODEL [layers=LIST] [choices=LIST] [SAME OPTIONS AS search greedy] [initial=6] [rounds=4] [proposals=3] [candidates=24] [gamma=0.25]",
                abstract: "Per-layer search by a Tree-structured Parzen Estimator: propose where good assignments are dense and bad ones sparse.",
                discussion: commonText + "\n" + """
                initial= assignments drawn uniformly within the limit go through successive halving; then each of
                rounds= proposes proposals= assignments, each the best by l(x)/g(x) of candidates= draws from l, where l and
                g are per-layer categorical densities (one prior count per choice) of the best gamma= fraction of the
                scores so far and of the rest (scores from the largest rung with ≥ layers+2 of them, as BOHB). The
                proposals go through successive halving to max=. Deterministic from the seed.
                """,
                options: common + TunedSetting.optionKeys + ["initial", "rounds", "proposals", "candidates", "gamma"], completes: [.model]
            ) { inv, ws in try search(inv, ws, kind: .tpe) },
        ]
    }

    static func search(_ inv: Invocation, _ ws: Workspace, kind: Kind) throws -> CommandOutput {
        let started = Timestamp.now()
        let evolve = kind == .evolve
        var settings = ws.state.settings
        try settings.apply(try TrialCommands.settingsOptions(inv))
        let space = try PerLayerSpace(inv, ws, settings: settings)
        // Time is measured by training, so only greedy (which prices what it trains) takes it.
        let costKind = try CostKind.parse(inv, default: .bops, allowed: kind == .greedy ? [.bops, .memory, .energy, .time] : [.bops, .memory, .energy])
        let eta = try inv.int("eta", default: 3, in: 2...10)
        let minE = try inv.int("min", default: 1, in: 1...1000)
        let maxE = try inv.int("max", default: 3, in: minE...1000)
        let used = Set(ws.state.configs.map(\.name))
        let name: String
        if let n = inv.string("name") {
            guard ConfigCommands.isName(n) else { throw inv.usageError("name=: '\(n)' cannot name a configuration (letters, digits, '_', '-', '.')") }
            guard !used.contains(n) else { throw inv.usageError("name=: a configuration named '\(n)' exists already; choose an unused name") }
            name = n
        } else {
            let stem = ["greedy": "greedy", "evolve": "evolved", "tpe": "tpe", "hyperband": "hyperband"][kind.rawValue]!
            name = ([stem] + (2...1000).map { "\(stem)\($0)" }).first { !used.contains($0) } ?? stem
        }
        let unit = costKind.unit
        let data = try ws.state.requireData()
        let driver = RunDriver(ws: ws, kind: .search, data: data.trialData, datasetName: data.dataset.name,
                               fingerprint: data.dataset.fingerprint, classes: data.classes)
        let evaluator = PerLayerEvaluator(space: space, driver: driver, ws: ws, costKind: costKind, line: inv.lineNumber,
                                          scheduleEpochs: maxE, minEpochs: minE)
        let counts = evaluator.choiceCounts
        // Options are checked before anything trains: with cost=time, pricing trains.
        let limitOption = try inv.double("limit")
        let fractionOption = try inv.double("fraction", default: 0.5, in: 0...1)
        let budget = try SearchBudget.parse(inv, ws, imagesPerEpoch: data.sample.count)
        evaluator.timeBudget = budget.time
        let top = try evaluator.cost(of: counts.map { _ in 0 })
        let floor = try evaluator.cost(of: counts.map { $0 - 1 })
        let limit: Double
        if let l = limitOption {
            guard l >= floor else {
                throw inv.usageError("option 'limit' expects a number ≥ \(Invocation.number(floor)) (\(unit), cost=\(costKind.rawValue)): the cheapest assignment costs that")
            }
            limit = l
        } else {
            limit = fractionOption * top
            guard limit >= floor else {
                throw inv.usageError("option 'fraction' is too small: the cheapest assignment costs \(Invocation.number(floor / top)) of the most precise")
            }
        }
        let report: PerLayerReport
        var header: String
        do {
            if kind == .hyperband {
                let iterations = try inv.int("iterations", in: 1...1000)
                let sMax = Hyperband(eta: eta, minEpochs: minE, maxEpochs: maxE).sMax
                header = "hyperband: \(sMax + 1) brackets (each sampling its assignments uniformly from the space), "
                    + (iterations.map { "\($0) pass\($0 == 1 ? "" : "es")" } ?? (budget.epochs == nil ? "1 pass" : "passes while the budget allows"))
                report = try PerLayerHyperband(eta: eta, minEpochs: minE, maxEpochs: maxE, costLimit: limit, budget: budget.epochs,
                                               iterations: iterations, seed: ws.seed).run(evaluator: evaluator)
            } else if kind == .tpe {
                let initial = try inv.int("initial", default: 6, in: 2...1000)
                let rounds = try inv.int("rounds", default: 4, in: 0...1000)
                let batch = try inv.int("proposals", default: 3, in: 1...100)
                let candidates = try inv.int("candidates", default: 24, in: 1...10000)
                let gamma = try inv.double("gamma", default: 0.25, in: 0.01...0.99)
                header = "tree-structured Parzen estimator: \(initial) initial, \(rounds) rounds × \(batch) proposals (best of \(candidates) draws, gamma \(Invocation.number(gamma)))"
                report = try TreeParzen(initial: initial, rounds: rounds, batch: batch, candidates: candidates, gamma: gamma,
                                        eta: eta, minEpochs: minE, maxEpochs: maxE, costLimit: limit, budget: budget.epochs,
                                        seed: ws.seed).run(evaluator: evaluator)
            } else if evolve {
                let population = try inv.int("population", default: 6, in: 2...100)
                let sample = try inv.int("sample", default: 3, in: 1...population)
                let children = try inv.int("children", default: 3, in: 1...100)
                let generations = try inv.int("generations", default: 4, in: 0...1000)
                header = "regularized evolution: population \(population), sample \(sample), \(children) children × \(generations) generations"
                report = try RegularizedEvolution(population: population, sample: sample, children: children, generations: generations,
                                                  eta: eta, minEpochs: minE, maxEpochs: maxE, costLimit: limit, budget: budget.epochs,
                                                  seed: ws.seed).run(evaluator: evaluator)
            } else {
                let orderKind = try inv.choice("order", ["layers", "sensitivity"], default: "layers")
                var order: [Int]? = nil, width: Int? = nil
                if orderKind == "sensitivity" {
                    guard let ranked = ws.state.results.layerOrder[space.model.name] else {
                        throw QuantlabError.runtime("order=sensitivity needs a sensitivity run of \(space.model.name) first; try: sensitivity \(space.model.name)")
                    }
                    order = ranked.compactMap { n in space.layers.firstIndex { space.model.layerNames[$0] == n } }
                    width = try inv.int("width", default: 2, in: 1...space.layers.count)
                } else if let w = try inv.int("width", in: 1...max(1, space.layers.count)) { width = w }
                header = "greedy bit lowering" + (order != nil ? " guided by sensitivity (width \(width!))" : "")
                report = try GreedyLowering(maxEpochs: maxE, costLimit: limit, order: order, width: width,
                                            budget: budget.epochs).run(evaluator: evaluator)
            }
        } catch let e as SearchError { throw QuantlabError.runtime(e.message) }
        let layerNames = space.layers.map { space.model.layerNames[$0] }
        let spaceSize = space.size
        let tunedText = space.tuned.map { " × \($0.key) (\($0.values.joined(separator: ", ")))" }.joined()
        var out = "\(header) over \(space.layers.count) layers (\(layerNames.joined(separator: ", "))) × \(space.choices.count) choices (\(space.choices.map(\.description).joined(separator: ", ")))\(tunedText) = \(Invocation.number(spaceSize)) assignments\n"
        out += "cost \(costKind): most precise \(costKind.format(top)), limit \(costKind.format(limit)) \(unit); trials on the sample (\(data.sample.count)), " + (kind == .greedy ? "\(maxE) epochs each\n" : "epochs \(minE)…\(maxE), eta \(eta)\n")
        var results: [String] = []
        let stepWord = ["greedy": "step", "evolve": "generation", "tpe": "round", "hyperband": "bracket"][kind.rawValue]!
        var table = TextTable(header: [stepWord, "assignment", costKind.quantity.header, "val acc", "epochs"],
                              alignments: [.right, .left, .right, .right, .right])
        for (i, step) in report.steps.enumerated() {
            for r in step {
                let text = space.describe(r.assignment)
                // Evolution and TPE start with an initial population (0); greedy steps and brackets count from 1.
                let number = kind == .greedy || kind == .hyperband ? i + 1 : i
                table.add([number == 0 && kind != .greedy && kind != .hyperband ? "init" : "\(number)", text, costKind.format(r.cost), r.score.map(Quantity.accuracy.format) ?? "diverged", "\(r.epochs)"])
                results.append("\(stepWord) \(number) \(space.name(r.assignment)) cost \(costKind.result(r.cost)) val_acc \(r.score.map(f6) ?? "diverged")")
            }
        }
        out += table.render() + "\n"
        if let c = report.chosen {
            let config = space.configuration(c.assignment, name: name)
            ws.state.configs.append(config)
            let settingsText = config.overrides.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            out += "chosen: \(name) = \(config.precisionText)\(settingsText); cost \(costKind.format(c.cost)) \(unit) (\(Quantity.share.withUnit(c.cost / top)) of the most precise), val acc \(c.score.map(Quantity.accuracy.format) ?? "—") after \(c.epochs) epochs\n"
            results.append("search chosen \(space.name(c.assignment)) cost \(costKind.result(c.cost)) val_acc \(c.score.map(f6) ?? "none")")
        } else {
            out += "chosen: none (\(report.stoppedByBudget ? "the budget ran out before the cost fitted" : "no assignment trained to the end"))\n"
            results.append("search chosen none")
        }
        // The evaluator counts every epoch it trained, including those that priced an assignment (cost=time).
        out += "compute: \(evaluator.epochs) epochs, \(evaluator.images) images, "
            + String(format: "%.1f CPU s, ", evaluator.cpuSeconds)
            + "\(report.assignmentsTrained) assignments trained of \(Invocation.number(spaceSize))"
            + (report.stoppedByBudget ? "; stopped by the budget" : "")
            + String(format: "; training every assignment to %d epochs would take %@ epochs (%.1f%% spent)\n", maxE,
                     Invocation.number(spaceSize * Double(maxE)), 100 * Double(evaluator.epochs) / (spaceSize * Double(maxE)))
        results.append("search compute epochs \(evaluator.epochs) images \(evaluator.images) assignments \(report.assignmentsTrained)")
        if let time = budget.time {
            out += time.summary(spent: evaluator.cpuSeconds) + "\n"
            ws.notes.append(time.note)
        }
        let chosenConfig = report.chosen.map { space.configuration($0.assignment, name: name) }
        try SearchComparison.record(SearchSummary(
            name: chosenConfig == nil ? "\(kind.rawValue) (none)" : name, kind: kind.rawValue, command: inv.line,
            chosen: chosenConfig, costKind: costKind, cost: report.chosen?.cost, epochs: evaluator.epochs,
            images: evaluator.images, cpuSeconds: evaluator.cpuSeconds, started: started), inv, ws)
        return CommandOutput(text: out, results: results)
    }
}
