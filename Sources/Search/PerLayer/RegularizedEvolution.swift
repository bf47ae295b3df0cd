import Random

/// Regularized (aging) evolution over per-layer assignments (Real, Aggarwal, Huang
/// & Le, AAAI 2019), with successive halving on the children it proposes.
///
/// A population of `population` assignments drawn uniformly (per layer) among
/// those within `costLimit` is trained to maxEpochs. Each generation proposes
/// `children` assignments: for each, `sample` population members are drawn, the
/// best (highest score at maxEpochs) is the parent, and one of its layers chosen
/// at random moves to another of that layer's choices (redrawn while the child
/// exceeds `costLimit`, at most 100 times). The children go through successive
/// halving (rungs minEpochs, ×eta, … maxEpochs, keeping ⌊n/eta⌋, at least 1);
/// those that reach maxEpochs join the population and as many of its oldest
/// members leave. The chosen assignment is the best ever trained to maxEpochs (ties
/// to the lower configuration number). Diverged children never join.
///
/// Deterministic from `seed` (SplitMix64). A child equal to an assignment already
/// trained is dropped, not trained again.
public struct RegularizedEvolution: Sendable {
    public var population: Int
    public var sample: Int
    public var children: Int
    public var generations: Int
    public var eta: Int
    public var minEpochs: Int
    public var maxEpochs: Int
    public var costLimit: Double?
    public var budget: Int?
    public var seed: UInt64

    public init(population: Int = 6, sample: Int = 3, children: Int = 3, generations: Int = 4, eta: Int = 3,
                minEpochs: Int = 1, maxEpochs: Int, costLimit: Double? = nil, budget: Int? = nil, seed: UInt64) {
        self.population = population; self.sample = sample; self.children = children
        self.generations = generations; self.eta = eta; self.minEpochs = minEpochs; self.maxEpochs = maxEpochs
        self.costLimit = costLimit; self.budget = budget; self.seed = seed
    }

    public func run(evaluator: AssignmentEvaluator) throws -> PerLayerReport {
        try validateSchedule(eta: eta, minEpochs: minEpochs, maxEpochs: maxEpochs, budget: budget)
        guard population >= 2 else { throw SearchError("search: the population needs at least 2 members, not \(population)") }
        guard (1...population).contains(sample) else {
            throw SearchError("search: the tournament sample must be 1…\(population) (the population), not \(sample)")
        }
        guard children >= 1, generations >= 0 else {
            throw SearchError("search: needs at least 1 child per generation and ≥ 0 generations")
        }
        let book = try AssignmentBook(evaluator: evaluator, costLimit: costLimit, budget: budget)
        let counts = book.counts
        guard counts.contains(where: { $0 >= 2 }) else { throw SearchError("search: no layer has two choices to mutate between") }
        var rng = SplitMix64(seed: seed)
        let ledger = book.ledger
        // Initial population: uniform draws within the limit; the cheapest assignment if none fits in 100 tries.
        var initial: [Int] = []
        for _ in 0..<population {
            var a = counts.map { rng.nextInt(below: $0) }
            var tries = 1
            while try !book.fits(a) && tries < 100 { a = counts.map { rng.nextInt(below: $0) }; tries += 1 }
            if try !book.fits(a) { a = counts.map { $0 - 1 } }
            initial.append(try book.register(a))
        }
        var steps: [[AssignmentResult]] = []
        var queue: [Int] = []  // oldest first
        var history: [Int] = []
        var budgetStopped = false
        if let kept = try halve(ledger, candidates: initial, minEpochs: maxEpochs, maxEpochs: maxEpochs, eta: eta, toTheEnd: true) {
            queue = initial.filter { kept.contains($0) }
            history = kept
            steps.append(try kept.map(book.result))
        } else { budgetStopped = true }
        var generation = 0
        while !budgetStopped, generation < generations, !queue.isEmpty {
            generation += 1
            var proposed: [Int] = []
            for _ in 0..<children {
                let drawn = (0..<sample).map { _ in queue[rng.nextInt(below: queue.count)] }
                let parent = drawn.sorted { SearchLedger.better(($0, ledger.latestScore($0)!.score), than: ($1, ledger.latestScore($1)!.score)) }[0]
                var child = book.assignments[parent]!
                var tries = 0
                repeat {
                    child = book.assignments[parent]!
                    let mutable = counts.indices.filter { counts[$0] >= 2 }
                    let l = mutable[rng.nextInt(below: mutable.count)]
                    let other = rng.nextInt(below: counts[l] - 1)
                    child[l] = other >= child[l] ? other + 1 : other
                    tries += 1
                } while try !book.fits(child) && tries < 100
                // Over the limit, or trained before (a search never asks for fewer epochs than it has).
                if try !book.fits(child) || book.assignments.values.contains(child) { continue }
                proposed.append(try book.register(child))
            }
            if proposed.isEmpty { continue }
            guard let kept = try halve(ledger, candidates: proposed, minEpochs: minEpochs, maxEpochs: maxEpochs,
                                       eta: eta, toTheEnd: true) else { budgetStopped = true; break }
            let joining = kept.filter { ledger.latestScore($0)?.epochs == maxEpochs }
            steps.append(try joining.map(book.result))
            for c in joining {
                queue.append(c)
                queue.removeFirst()
                if !history.contains(c) { history.append(c) }
            }
        }
        let best = history.filter { ledger.latestScore($0) != nil }
            .sorted { SearchLedger.better(($0, ledger.latestScore($0)!.score), than: ($1, ledger.latestScore($1)!.score)) }.first
        return PerLayerReport(steps: steps, chosen: try best.map(book.result), assignmentsTrained: book.assignments.count,
                              epochsSpent: ledger.spent, stoppedByBudget: ledger.stoppedByBudget, rungs: ledger.rungs)
    }
}
