/// Greedy bit lowering under a cost limit (per-layer search, HAQ/HAWQ-style
/// baselines), guided by measured sensitivity: start with every layer at its most
/// precise choice and train it; while the current assignment costs more than
/// `costLimit`, propose lowering each eligible layer by one step, train every
/// proposal to `maxEpochs`, and adopt the one that loses the least accuracy per unit
/// of cost saved, (score(current) − score(proposal)) / (cost(current) − cost(proposal)).
/// A proposal that loses nothing ranks before every one that loses, and among those
/// the larger saving first. The search continues until the cost fits (or nothing can
/// be lowered, or the budget stops it).
///
/// The returned assignment is chosen on its trial evidence: the best score at
/// `maxEpochs` among every assignment trained that fits the limit (proposals of the
/// last step that were not adopted compete with the one that was), not merely the
/// end of the path.
///
/// Every proposal trains to `maxEpochs`, without successive halving: the criterion
/// compares a proposal with the current assignment at the same epochs, and the
/// current one has trained to `maxEpochs` already (a step proposes at most one
/// assignment per layer). A full search trains at most 1 + Σ(choices − 1)·layers
/// assignments, against ∏ choices in the space.
///
/// `order` (layers, least sensitive first, e.g. from `sensitivity`) with `width`
/// proposes only the first `width` lowerable layers of that order at each step;
/// without an order every lowerable layer is proposed. Deterministic: ties go to the
/// lower configuration number.
public struct GreedyLowering: Sendable {
    public var maxEpochs: Int
    public var costLimit: Double
    public var order: [Int]?
    public var width: Int?
    /// Largest number of epochs to train in total.
    public var budget: Int?

    public init(maxEpochs: Int, costLimit: Double, order: [Int]? = nil, width: Int? = nil, budget: Int? = nil) {
        self.maxEpochs = maxEpochs; self.costLimit = costLimit
        self.order = order; self.width = width; self.budget = budget
    }

    /// How a proposal ranks: no loss first (largest saving first), then the least
    /// accuracy lost per unit of cost saved; a proposal that saves nothing ranks last.
    static func key(loss: Double, saved: Double) -> (Int, Double) {
        guard saved > 0 else { return (2, -loss) }
        return loss <= 0 ? (0, -saved) : (1, loss / saved)
    }

    public func run(evaluator: AssignmentEvaluator) throws -> PerLayerReport {
        try validateSchedule(eta: 2, minEpochs: 1, maxEpochs: maxEpochs, budget: budget)
        let counts = evaluator.choiceCounts
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else {
            throw SearchError("search: the space needs at least one layer with at least one choice")
        }
        let layers = order ?? Array(counts.indices)
        guard Set(layers).count == layers.count, layers.allSatisfy(counts.indices.contains) else {
            throw SearchError("search: the layer order must list distinct layers 0…\(counts.count - 1)")
        }
        if let width, width < 1 { throw SearchError("search: width must be at least 1, not \(width)") }
        let floor = try evaluator.cost(of: counts.map { $0 - 1 })
        guard costLimit >= floor else {
            throw SearchError("search: the cost limit \(costLimit) is below the cheapest assignment's cost \(floor)")
        }
        let ledger = SearchLedger(evaluator: evaluator, penalty: [:], budget: budget)
        var results: [Int: AssignmentResult] = [:]
        /// Trains `assignments` to maxEpochs in one rung; nil when the budget stopped it.
        func train(_ assignments: [[Int]]) throws -> [AssignmentResult]? {
            let configs = try assignments.map { try evaluator.configuration(for: $0) }
            guard try ledger.rung(bracket: nil, epochs: maxEpochs, candidates: configs, keep: configs.count) != nil
            else { return nil }
            return try zip(assignments, configs).map { a, c in
                let s = ledger.latestScore(c)
                let r = AssignmentResult(assignment: a, config: c, cost: try evaluator.cost(of: a),
                                         score: s?.score, epochs: s?.epochs ?? 0)
                results[c] = r
                return r
            }
        }
        var steps: [[AssignmentResult]] = []
        guard var current = try train([Array(repeating: 0, count: counts.count)])?[0] else {
            return report(ledger, steps: steps, results: results)
        }
        while current.cost > costLimit, let base = current.score {
            var lowerable = layers.filter { current.assignment[$0] + 1 < counts[$0] }
            if let width { lowerable = Array(lowerable.prefix(width)) }
            if lowerable.isEmpty { break }
            let proposals = lowerable.map { l -> [Int] in
                var a = current.assignment
                a[l] += 1
                return a
            }
            guard let trained = try train(proposals) else { break }
            let ranked = trained.filter { $0.score != nil }.sorted { a, b in
                let (ka, kb) = (Self.key(loss: base - a.score!, saved: current.cost - a.cost),
                                Self.key(loss: base - b.score!, saved: current.cost - b.cost))
                return ka != kb ? ka < kb : a.config < b.config
            }
            guard let adopted = ranked.first else { break }   // every proposal diverged
            current = adopted
            steps.append([adopted])
        }
        return report(ledger, steps: steps, results: results)
    }

    /// The best-scoring assignment trained to maxEpochs within the limit is chosen.
    private func report(_ ledger: SearchLedger, steps: [[AssignmentResult]], results: [Int: AssignmentResult]) -> PerLayerReport {
        let chosen = results.values.filter { $0.cost <= costLimit && $0.score != nil && $0.epochs == maxEpochs }
            .sorted { SearchLedger.better(($0.config, $0.score!), than: ($1.config, $1.score!)) }.first
        return PerLayerReport(steps: steps, chosen: chosen, assignmentsTrained: ledger.configsTrained,
                              epochsSpent: ledger.spent, stoppedByBudget: ledger.stoppedByBudget, rungs: ledger.rungs)
    }
}
