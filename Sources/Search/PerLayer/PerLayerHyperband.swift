import Random

/// Hyperband over per-layer assignments (Li et al., JMLR 2018): the brackets of
/// ``Hyperband``, each starting with n assignments drawn uniformly from the product
/// of the per-layer choices (never enumerated), as the paper samples each bracket's
/// configurations from the search space.
///
/// Bracket s draws its n assignments (within `costLimit`, none drawn before: training
/// continues and cannot restart, so an assignment joins one bracket only; rejection
/// sampling, so the draw is uniform over the assignments left) and halves them: rung
/// i trains ⌊n/eta^i⌋ of them to maxEpochs/eta^(s−i) epochs, keeping the best
/// ⌊count/eta⌋ (at least 1). The schedule repeats `iterations` times, or with a
/// budget and no iteration count until the budget stops it. The chosen assignment is
/// the best trained to maxEpochs (ties to the lower configuration number).
/// Deterministic from `seed` (SplitMix64).
public struct PerLayerHyperband: Sendable {
    public var eta: Int
    public var minEpochs: Int
    public var maxEpochs: Int
    public var costLimit: Double?
    public var budget: Int?
    /// Passes over the brackets; nil: one without a budget, as many as the budget pays for with one.
    public var iterations: Int?
    public var seed: UInt64

    public init(eta: Int = 3, minEpochs: Int = 1, maxEpochs: Int, costLimit: Double? = nil, budget: Int? = nil,
                iterations: Int? = nil, seed: UInt64) {
        self.eta = eta; self.minEpochs = minEpochs; self.maxEpochs = maxEpochs; self.costLimit = costLimit
        self.budget = budget; self.iterations = iterations; self.seed = seed
    }

    public func run(evaluator: AssignmentEvaluator) throws -> PerLayerReport {
        try validateSchedule(eta: eta, minEpochs: minEpochs, maxEpochs: maxEpochs, budget: budget)
        if let iterations, iterations < 1 { throw SearchError("search: iterations must be at least 1, not \(iterations)") }
        let book = try AssignmentBook(evaluator: evaluator, costLimit: costLimit, budget: budget)
        let counts = book.counts
        let ledger = book.ledger
        let schedule = Hyperband(eta: eta, minEpochs: minEpochs, maxEpochs: maxEpochs).brackets()
        var rng = SplitMix64(seed: seed)
        var seen = Set<[Int]>()
        /// A uniform draw among the assignments within the limit not drawn before; nil after 1,000 misses.
        func draw() throws -> [Int]? {
            for _ in 0..<1000 {
                let a = counts.map { rng.nextInt(below: $0) }
                if !seen.contains(a), try book.fits(a) { seen.insert(a); return a }
            }
            return nil
        }
        var steps: [[AssignmentResult]] = []
        let passes = iterations ?? (budget == nil ? 1 : Int.max)
        var pass = 0
        running: while pass < passes {
            pass += 1
            for bracket in schedule {
                var candidates: [Int] = []
                for _ in 0..<bracket.rungs[0].configs {
                    guard let a = try draw() else { break }
                    candidates.append(try book.register(a))
                }
                if candidates.isEmpty { break running }   // the space (within the limit) is used up
                for (i, rung) in bracket.rungs.enumerated() {
                    let last = i == bracket.rungs.count - 1
                    let keep = last ? 1 : max(1, candidates.count / eta)
                    guard let kept = try ledger.rung(bracket: bracket.s, epochs: rung.epochs, candidates: candidates, keep: keep)
                    else { break running }
                    candidates = kept
                    if candidates.isEmpty { break }
                }
                if let winner = candidates.first { steps.append([try book.result(winner)]) }
            }
        }
        return try book.report(steps: steps, maxEpochs: maxEpochs)
    }
}
