/// What a per-layer search drives: a ``SearchEvaluator`` that also turns a
/// per-layer assignment into a configuration number and prices it.
///
/// An assignment gives, for each searched layer l, an index into that layer's
/// choices (`0 ..< choiceCounts[l]`), ordered from most to least precise (index 0
/// is the most expensive). The space is the product of the per-layer choices and
/// is never enumerated: the searches only ask for the assignments they propose.
public protocol AssignmentEvaluator: SearchEvaluator {
    /// Choices per searched layer (each ≥ 1).
    var choiceCounts: [Int] { get }
    /// The configuration number for `assignment`, made on first use; the same
    /// assignment always maps to the same number, so training it again continues.
    func configuration(for assignment: [Int]) throws -> Int
    /// The assignment's cost in the search's unit (bit operations, weight bits, …).
    func cost(of assignment: [Int]) throws -> Double
}

/// One assignment the search trained, with what it cost and scored.
public struct AssignmentResult: Equatable, Sendable {
    public var assignment: [Int]
    public var config: Int
    public var cost: Double
    /// The metric at `epochs`, nil when it diverged.
    public var score: Double?
    public var epochs: Int

    public init(assignment: [Int], config: Int, cost: Double, score: Double?, epochs: Int) {
        self.assignment = assignment; self.config = config; self.cost = cost; self.score = score; self.epochs = epochs
    }
}

/// What a per-layer search did: its steps (greedy) or generations (evolution),
/// the assignment it chose, and the compute it spent.
public struct PerLayerReport: Equatable, Sendable {
    /// Greedy: the assignment adopted at each step. Evolution: each generation's
    /// children that reached the final rung (the ones that joined the population).
    public var steps: [[AssignmentResult]]
    /// The chosen assignment (nil when nothing trained to the end or all diverged).
    public var chosen: AssignmentResult?
    /// Distinct assignments trained at all.
    public var assignmentsTrained: Int
    /// Epochs trained, counting only additional epochs of each advance.
    public var epochsSpent: Int
    /// Whether the epoch budget stopped the search early.
    public var stoppedByBudget: Bool
    /// Every rung of every halving, in order (configuration numbers).
    public var rungs: [Rung]
}

/// Successive halving over the candidates one search step proposes: rungs at
/// minEpochs, ×eta, … capped at maxEpochs, keeping max(1, ⌊n/eta⌋) each time.
/// With `toTheEnd` the survivors keep training until a rung at maxEpochs (so their
/// scores are comparable across steps); otherwise halving stops when one is left.
/// Returns the survivors of the last rung, best first, or nil when the budget stopped it.
func halve(_ ledger: SearchLedger, candidates: [Int], minEpochs: Int, maxEpochs: Int, eta: Int,
           toTheEnd: Bool) throws -> [Int]? {
    var alive = candidates.uniqued()
    var epochs = minEpochs
    while true {
        let atEnd = epochs >= maxEpochs
        let keep = atEnd ? alive.count : max(1, alive.count / eta)
        guard let kept = try ledger.rung(bracket: nil, epochs: epochs, candidates: alive, keep: keep) else { return nil }
        if atEnd || kept.isEmpty || (!toTheEnd && kept.count == 1) { return kept }
        alive = kept
        epochs = min(epochs * eta, maxEpochs)
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each first occurrence only.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

/// Checks an assignment against the evaluator's choices.
func validate(_ assignment: [Int], counts: [Int]) throws {
    guard assignment.count == counts.count else {
        throw SearchError("search: an assignment has \(assignment.count) layers, the space \(counts.count)")
    }
    for (l, (a, n)) in zip(assignment, counts).enumerated() where a < 0 || a >= n {
        throw SearchError("search: layer \(l + 1) has choices 0…\(n - 1), not \(a)")
    }
}

/// What the sampling searches (evolution, TPE) share: the checks of the space and the
/// cost limit, the assignments proposed so far by configuration number, and the
/// ledger of what trained.
final class AssignmentBook {
    let evaluator: AssignmentEvaluator
    let ledger: SearchLedger
    let costLimit: Double?
    let counts: [Int]
    private(set) var assignments: [Int: [Int]] = [:]

    /// Checks that the space has a choice per layer and that the limit admits the cheapest assignment.
    init(evaluator: AssignmentEvaluator, costLimit: Double?, budget: Int?) throws {
        self.evaluator = evaluator
        self.costLimit = costLimit
        counts = evaluator.choiceCounts
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else {
            throw SearchError("search: the space needs at least one layer with at least one choice")
        }
        if let costLimit {
            let floor = try evaluator.cost(of: counts.map { $0 - 1 })
            guard costLimit >= floor else {
                throw SearchError("search: the cost limit \(costLimit) is below the cheapest assignment's cost \(floor)")
            }
        }
        ledger = SearchLedger(evaluator: evaluator, penalty: [:], budget: budget)
    }

    /// Whether `a` costs no more than the limit (always, without one).
    func fits(_ a: [Int]) throws -> Bool { try costLimit.map { try evaluator.cost(of: a) <= $0 } ?? true }

    /// The configuration number of `a`, remembered.
    func register(_ a: [Int]) throws -> Int {
        let c = try evaluator.configuration(for: a)
        assignments[c] = a
        return c
    }

    /// The report of a sampling search: the best assignment trained to `maxEpochs`
    /// (ties to the lower configuration number) is chosen.
    func report(steps: [[AssignmentResult]], maxEpochs: Int) throws -> PerLayerReport {
        let finished = assignments.keys.filter { ledger.latestScore($0)?.epochs == maxEpochs }
        let best = finished.sorted {
            SearchLedger.better(($0, ledger.latestScore($0)!.score), than: ($1, ledger.latestScore($1)!.score))
        }.first
        return PerLayerReport(steps: steps, chosen: try best.map(result), assignmentsTrained: ledger.configsTrained,
                              epochsSpent: ledger.spent, stoppedByBudget: ledger.stoppedByBudget, rungs: ledger.rungs)
    }

    /// A registered configuration's assignment, cost and latest score.
    func result(_ c: Int) throws -> AssignmentResult {
        let s = ledger.latestScore(c)
        return AssignmentResult(assignment: assignments[c]!, config: c, cost: try evaluator.cost(of: assignments[c]!),
                                score: s?.score, epochs: s?.epochs ?? 0)
    }
}
