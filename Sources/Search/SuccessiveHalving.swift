/// Successive halving (Jamieson & Talwalkar 2016) over a fixed set of configurations:
/// the seed paper's proposal for finding the best precision configuration early.
///
/// Schedule: all n candidates train to `minEpochs` (rung 0); the best
/// `max(1, ⌊n/eta⌋)` by score survive (ties to the lower configuration number,
/// diverged ones never); survivors train on to `eta` times as many epochs, capped
/// at `maxEpochs`; and so on until one remains or a rung at `maxEpochs` has been
/// evaluated, whose best is chosen. Training continues rather than restarts, so a
/// rung costs only the additional epochs. With n = 9, eta = 3, epochs 1 → 3:
/// 9 × 1 + 3 × 2 = 15 epochs instead of 9 × 9 = 81 for training all to 9.
///
/// Unlike a Hyperband bracket, the last survivor is not trained on to `maxEpochs`:
/// the point here is to predict the winner early; a final run trains it fully.
public struct SuccessiveHalving: Sendable {
    public var eta: Int
    public var minEpochs: Int
    public var maxEpochs: Int
    public var objective: Objective
    /// Largest number of epochs the search may train in total; when the next advance
    /// would exceed it the search stops and reports the best so far.
    public var budget: Int?

    public init(eta: Int = 3, minEpochs: Int = 1, maxEpochs: Int,
                objective: Objective = .accuracy, budget: Int? = nil) {
        self.eta = eta
        self.minEpochs = minEpochs
        self.maxEpochs = maxEpochs
        self.objective = objective
        self.budget = budget
    }

    /// Runs the search over `configs` (numbers the evaluator understands), with
    /// `costs` parallel to `configs` when the objective needs them.
    public func run(configs: [Int], costs: [Double]? = nil,
                    evaluator: SearchEvaluator) throws -> SearchReport {
        try validateSchedule(eta: eta, minEpochs: minEpochs, maxEpochs: maxEpochs, budget: budget)
        let plan = try objective.plan(configs: configs, costs: costs)
        let ledger = SearchLedger(evaluator: evaluator, penalty: plan.penalty, budget: budget)
        var candidates = plan.eligible
        var epochs = minEpochs
        while !candidates.isEmpty {
            let keep = max(1, candidates.count / eta)
            let last = keep == 1 || epochs >= maxEpochs
            guard let kept = try ledger.rung(bracket: nil, epochs: epochs,
                                             candidates: candidates, keep: last ? 1 : keep),
                  !last, kept.count > 1 else { break }
            candidates = kept
            epochs = min(epochs * eta, maxEpochs)
        }
        return ledger.report(eligible: plan.eligible, excluded: plan.excluded, maxEpochs: maxEpochs)
    }
}

/// Shared parameter checks for both searches.
func validateSchedule(eta: Int, minEpochs: Int, maxEpochs: Int, budget: Int?) throws {
    guard eta >= 2 else { throw SearchError("search: eta must be at least 2, not \(eta)") }
    guard minEpochs >= 1 else {
        throw SearchError("search: the first rung needs at least 1 epoch, not \(minEpochs)")
    }
    guard maxEpochs >= minEpochs else {
        throw SearchError("search: maxEpochs (\(maxEpochs)) is below minEpochs (\(minEpochs))")
    }
    if let budget, budget < 0 {
        throw SearchError("search: the epoch budget must be ≥ 0, not \(budget)")
    }
}
