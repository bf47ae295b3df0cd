import Foundation
import Formatting
import Analysis
import Store
import Trials

/// What one search command spent and chose, kept for `search compare` and written
/// to the results store's `searches` table.
struct SearchSummary {
    /// The configuration name the search's choice got (or a label when it chose none).
    var name: String
    var kind: String
    var command: String
    /// The chosen configuration (its definition finds the ground-truth run).
    var chosen: Configuration?
    var costKind: CostKind?
    var cost: Double?
    var epochs: Int
    var images: Int
    var cpuSeconds: Double
    var started: String
    /// The dataset and hold-out it searched on (``DataProvenance/dataset``), set when recorded.
    var dataset: String? = nil
}

/// `search compare`: every search of the session against an exhaustive ground truth.
enum SearchComparison {
    /// Keeps the summary in the session and writes it to the store.
    static func record(_ s: SearchSummary, _ inv: Invocation, _ ws: Workspace) throws {
        var s = s
        s.dataset = ws.state.data?.heldOut
        ws.state.results.searches.append(s)
        try ws.state.store(ws).recordSearch(SearchRecord(
            kind: s.kind, command: s.command, chosen: s.chosen?.name, epochs: s.epochs, images: s.images,
            cpuSeconds: s.cpuSeconds, session: ws.sessionName ?? ws.state.sessionName, sessionLine: ws.sessionLine ?? inv.lineNumber,
            started: s.started))
    }

    static var spec: CommandSpec {
        CommandSpec(
            group: "search", verb: "compare",
            synopsis: "search compare [CONFIG… | all] [tolerance=0.5] [fraction=0.2]",
            abstract: "Each search of the session against an exhaustive ground truth: regret, compute spent, distance to the Pareto front.",
            discussion: """
            The ground truth is the listed configurations (default all) that have a trial run and a final run, e.g.
            every assignment of a per-layer space (config perlayer MODEL …; trial run all; trial final all). For each
            search of the session: the chosen assignment's final test accuracy (from the ground-truth configuration
            with the same definition), its regret against the best final accuracy (below the noise floor of the last
            seeds=K run: a tie), the compute it spent in training images as a fraction of the ground truth's trials
            (every configuration's trial epochs on the sample, one seed), its CPU seconds, and, for searches under a cost
            limit, how far below the ground truth's Pareto front of final accuracy against that cost it lands (the
            best final accuracy at no more cost, minus its own). The last lines say whether the best search came
            within tolerance= points using at most fraction= of the compute, and whether every greedy search (the
            one that lowers bits until a cost budget fits) is within tolerance= of the front.
            """,
            options: ["tolerance", "fraction"], completes: [.config]
        ) { inv, ws in try compare(inv, ws) }
    }

    static func compare(_ inv: Invocation, _ ws: Workspace) throws -> CommandOutput {
        let tolerance = try inv.double("tolerance", default: 0.5, in: 0...100) / 100
        let fractionLimit = try inv.double("fraction", default: 0.2, in: 0...1)
        let data = try ws.state.requireData()
        let ground = try ws.state.configs(inv.words).filter {
            ws.state.results.trials[$0.name] != nil && ws.state.results.finals[$0.name]?.testAccuracy != nil
        }
        guard ground.count >= 2 else {
            throw QuantlabError.runtime("search compare needs a ground truth: at least 2 configurations with a trial and a final run; found \(ground.count) (try: config perlayer MODEL …, trial run all, trial final all)")
        }
        let truth = try ws.state.requireOneData("search compare", trials: ground.map(\.name), finals: ground.map(\.name))
        let searches = ws.state.results.searches
        guard !searches.isEmpty else { throw QuantlabError.runtime("no search ran in this session yet; try: search greedy MODEL …") }
        if let truth, let other = searches.first(where: { $0.dataset != nil && $0.dataset != truth }) {
            throw QuantlabError.runtime("search compare would compare the search '\(other.command)' on \(other.dataset!) with a ground truth on \(truth); "
                + "compare on one dataset (search again after data load, or train the ground truth on the search's data)")
        }
        let finals = ground.map { ws.state.results.finals[$0.name]!.testAccuracy! }
        let best = finals.indices.max { finals[$0] < finals[$1] || (finals[$0] == finals[$1] && $0 > $1) }!
        // One seed's trials of every ground-truth configuration (seed repeats are for the noise floor), on the
        // images they trained on (the sample then: `data sample` may have changed it since).
        let trialImages = ground.reduce(0) { total, c in
            let trial = ws.state.results.trials[c.name]
            return total + (trial?.epochs.count ?? 0) * (trial?.data?.images ?? data.sample.count)
        }
        let floor = ws.state.results.noiseFloor ?? 0
        var out = "ground truth: \(ground.count) configurations with trial and final runs; best final \(ground[best].name) \(Quantity.accuracy.format(finals[best])); "
            + "their trials trained \(Quantity.grouped(trialImages)) images\n"
        var results = ["compare ground \(ground.count) best \(ground[best].name) test_acc \(f6(finals[best])) trial_images \(trialImages)"]
        var table = TextTable(header: ["search", "kind", "chosen", "final test acc", "regret (points)", "images", "% of exhaustive", Quantity.seconds.header,
                                       "below front (points)"],
                              alignments: [.left, .left, .left, .right, .right, .right, .right, .right, .right])
        var bestSearch: (name: String, regret: Double, fraction: Double)?
        var frontOK = true
        var limited = 0
        for s in searches {
            let fraction = Double(s.images) / Double(max(1, trialImages))
            guard let c = s.chosen, let g = ground.firstIndex(where: { $0.definition == c.definition }) else {
                table.add([s.name, s.kind, s.chosen?.precisionSummary ?? "none", "—", "—", Quantity.grouped(s.images), Quantity.share.format(fraction),
                           Quantity.seconds.format(s.cpuSeconds), "—"])
                results.append("compare \(s.name) \(s.kind) chosen \(s.chosen == nil ? "none" : "outside-ground-truth") images \(s.images) fraction \(f4(fraction))")
                continue
            }
            let regret = finals[best] - finals[g]
            let tie = regret > 0 && regret < floor
            var gapText = "—", gapResult = ""
            if let kind = s.costKind, let cost = try? ws.state.cost(c, kind, ws) {
                // The best final accuracy among ground-truth configurations costing no more.
                let costs = try ground.map { try ws.state.cost($0, kind, ws) }
                let reachable = ground.indices.filter { costs[$0] <= cost * (1 + 1e-12) }.map { finals[$0] }
                let gap = max(0, (reachable.max() ?? finals[g]) - finals[g])
                gapText = Quantity.points.format(gap)
                gapResult = " below_front " + (kind.isMeasured ? "~" : "") + f4(100 * gap)
                if s.kind == "greedy" { limited += 1; if gap > tolerance + 1e-12 { frontOK = false } }
            }
            table.add([s.name, s.kind, ground[g].name, Quantity.accuracy.format(finals[g]), Quantity.points.format(regret) + (tie ? " (tie)" : ""),
                       Quantity.grouped(s.images), Quantity.share.format(fraction), Quantity.seconds.format(s.cpuSeconds), gapText])
            results.append("compare \(s.name) \(s.kind) chosen \(ground[g].name) test_acc \(f6(finals[g])) regret \(f4(100 * regret))\(tie ? " tie" : "") images \(s.images) fraction \(f4(fraction))" + gapResult)
            if bestSearch == nil || regret < bestSearch!.regret || (regret == bestSearch!.regret && fraction < bestSearch!.fraction) {
                bestSearch = (s.name, regret, fraction)
            }
        }
        out += table.render() + "\n"
        if floor > 0 { out += "noise floor \(Quantity.points.withUnit(floor)): smaller regrets are ties\n" }
        if let b = bestSearch {
            let holds = b.regret <= tolerance + 1e-12 && b.fraction <= fractionLimit
            out += "best search: \(b.name), regret \(Quantity.points.withUnit(b.regret)) with \(Quantity.share.withUnit(b.fraction)) of the exhaustive compute: "
                + "\(holds ? "holds" : "does not hold") (within \(Quantity.points.withUnit(tolerance)) using ≤ \(Quantity.share.withUnit(fractionLimit)))\n"
            results.append("compare best \(b.name) regret \(f4(100 * b.regret)) fraction \(f4(b.fraction)) holds \(holds ? "yes" : "no")")
        }
        if limited > 0 {
            out += "greedy searches (under a cost budget) within \(Quantity.points.withUnit(tolerance)) of the Pareto front: \(frontOK ? "yes" : "no")\n"
            results.append("compare pareto within \(f4(100 * tolerance)) \(frontOK ? "yes" : "no")")
        }
        return CommandOutput(text: out, results: results)
    }
}
