/// Greedy bit lowering under a cost limit (per-layer search, HAQ/HAWQ-style
/// baselines): start with every layer at its most precise choice; while the
/// assignment costs more than `costLimit`, propose lowering each eligible layer by
/// one step, run successive halving over those proposals on the short trainings,
/// and adopt the winner.
///
/// Sensitivity guides it through `order` (layers, least sensitive first, e.g. from
/// `sensitivity`'s accuracy lost per bit saved): only the first `width` layers of
/// that order that can still be lowered are proposed at each step. Without an
/// order every lowerable layer is proposed. One step costs at most
/// width × minEpochs plus the halving's later rungs; a full search at most
/// Σ(choices − 1) steps, against ∏ choices assignments in the space.
///
/// Deterministic: candidates are proposed in layer order (or `order`), halving
/// ties go to the lower configuration number.
public struct GreedyLowering: Sendable {
    public var eta: Int
    public var minEpochs: Int
    public var maxEpochs: Int
    public var costLimit: Double
    public var order: [Int]?
    public var width: Int?
    /// Largest number of epochs to train in total.
    public var budget: Int?

    public init(eta: Int = 3, minEpochs: Int = 1, maxEpochs: Int, costLimit: Double,
                order: [Int]? = nil, width: Int? = nil, budget: Int? = nil) {
        self.eta = eta; self.minEpochs = minEpochs; self.maxEpochs = maxEpochs; self.costLimit = costLimit
        self.order = order; self.width = width; self.budget = budget
    }

    public func run(evaluator: AssignmentEvaluator) throws -> PerLayerReport {
        try validateSchedule(eta: eta, minEpochs: minEpochs, maxEpochs: maxEpochs, budget: budget)
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
        var current = Array(repeating: 0, count: counts.count)
        var steps: [[AssignmentResult]] = []
        var trained = Set<[Int]>()
        var chosen: AssignmentResult?
        var currentCost = try evaluator.cost(of: current)
        while currentCost > costLimit {
            var lowerable = layers.filter { current[$0] + 1 < counts[$0] }
            if let width { lowerable = Array(lowerable.prefix(width)) }
            if lowerable.isEmpty { break }
            var proposals: [(assignment: [Int], config: Int)] = []
            for l in lowerable {
                var a = current
                a[l] += 1
                proposals.append((a, try evaluator.configuration(for: a)))
                trained.insert(a)
            }
            guard let survivors = try halve(ledger, candidates: proposals.map(\.config), minEpochs: minEpochs,
                                            maxEpochs: maxEpochs, eta: eta, toTheEnd: false),
                  let winner = survivors.first,
                  let adopted = proposals.first(where: { $0.config == winner })
            else { break }
            current = adopted.assignment
            currentCost = try evaluator.cost(of: current)
            let s = ledger.latestScore(winner)
            let result = AssignmentResult(assignment: current, config: winner, cost: currentCost,
                                          score: s?.score, epochs: s?.epochs ?? 0)
            steps.append([result])
            if currentCost <= costLimit { chosen = result }
        }
        if steps.isEmpty && currentCost <= costLimit {
            // The most precise assignment already fits: train it once so the report has a score.
            let config = try evaluator.configuration(for: current)
            trained.insert(current)
            if let kept = try halve(ledger, candidates: [config], minEpochs: minEpochs, maxEpochs: maxEpochs,
                                    eta: eta, toTheEnd: false), !kept.isEmpty {
                let s = ledger.latestScore(config)
                chosen = AssignmentResult(assignment: current, config: config, cost: currentCost,
                                          score: s?.score, epochs: s?.epochs ?? 0)
            }
        }
        return PerLayerReport(steps: steps, chosen: chosen, assignmentsTrained: trained.count,
                              epochsSpent: ledger.spent, stoppedByBudget: ledger.stoppedByBudget, rungs: ledger.rungs)
    }
}
