import Random

/// Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar, JMLR 2018):
/// several successive-halving brackets that trade how many configurations start
/// against how many epochs they get before the first cut.
///
/// With R = maxEpochs / minEpochs and s_max = ⌊log_eta R⌋, bracket s (s_max … 0)
/// starts n = ⌈(s_max + 1) · eta^s / (s + 1)⌉ configurations at
/// r = maxEpochs / eta^s epochs; rung i has ⌊n / eta^i⌋ configurations at
/// maxEpochs / eta^(s−i) epochs, so every bracket ends at maxEpochs. For R = 81,
/// eta = 3 this is the paper's table: (81, 1) (34, 3) (15, 9) (8, 27) (5, 81).
///
/// As in the paper, each bracket samples its own n configurations: with a `seed`,
/// uniformly (SplitMix64) from the eligible configurations no earlier bracket took
/// (the pool is finite and training continues, it cannot restart, so a configuration
/// joins one bracket only); without one, they are dealt out in the listed order. The
/// brackets repeat while configurations are left (or until the budget stops them);
/// a bracket that finds fewer than n left starts with those and keeps ⌊count/eta⌋.
/// The best configuration at maxEpochs over all brackets is chosen.
public struct Hyperband: Sendable {
    public var eta: Int
    public var minEpochs: Int
    public var maxEpochs: Int
    public var objective: Objective
    /// Largest number of epochs to train in total (see ``SuccessiveHalving/budget``).
    public var budget: Int?
    /// Seeds each bracket's uniform sample of configurations; nil deals them in order.
    public var seed: UInt64?

    public init(eta: Int = 3, minEpochs: Int = 1, maxEpochs: Int,
                objective: Objective = .accuracy, budget: Int? = nil, seed: UInt64? = nil) {
        self.eta = eta
        self.minEpochs = minEpochs
        self.maxEpochs = maxEpochs
        self.objective = objective
        self.budget = budget
        self.seed = seed
    }

    /// One planned rung: how many configurations train to how many epochs.
    public struct RungPlan: Equatable, Sendable {
        public var configs: Int
        public var epochs: Int
        public init(configs: Int, epochs: Int) {
            self.configs = configs
            self.epochs = epochs
        }
    }

    /// One bracket of the schedule: its index `s` and its rungs.
    public struct Bracket: Equatable, Sendable {
        public var s: Int
        public var rungs: [RungPlan]
    }

    /// The largest bracket index: the largest s with minEpochs · eta^s ≤ maxEpochs.
    public var sMax: Int {
        var s = 0
        var epochs = minEpochs
        while epochs <= maxEpochs / eta { epochs *= eta; s += 1 }
        return s
    }

    /// The schedule, most exploratory bracket first (the paper's table).
    public func brackets() -> [Bracket] {
        let top = sMax
        return (0...top).reversed().map { s in
            let n = ((top + 1) * power(eta, s) + s) / (s + 1)
            let rungs = (0...s).map { i in
                RungPlan(configs: n / power(eta, i), epochs: maxEpochs / power(eta, s - i))
            }
            return Bracket(s: s, rungs: rungs)
        }
    }

    /// Runs the brackets over `configs`, with `costs` parallel to them when the
    /// objective needs them.
    public func run(configs: [Int], costs: [Double]? = nil,
                    evaluator: SearchEvaluator) throws -> SearchReport {
        try validateSchedule(eta: eta, minEpochs: minEpochs, maxEpochs: maxEpochs, budget: budget)
        let plan = try objective.plan(configs: configs, costs: costs)
        let ledger = SearchLedger(evaluator: evaluator, penalty: plan.penalty, budget: budget)
        var left = plan.eligible
        var rng = seed.map { SplitMix64(seed: $0) }
        dealing: while !left.isEmpty {
            for bracket in brackets() {
                let take = min(bracket.rungs[0].configs, left.count)
                if take == 0 { break dealing }
                if rng != nil {
                    // A partial Fisher–Yates draw: `take` of the configurations left, uniformly.
                    for i in 0..<take { left.swapAt(i, i + rng!.nextInt(below: left.count - i)) }
                }
                var candidates = Array(left.prefix(take))
                left.removeFirst(take)
                for (i, rung) in bracket.rungs.enumerated() {
                    let last = i == bracket.rungs.count - 1
                    let keep = last ? 1 : max(1, candidates.count / eta)
                    guard let kept = try ledger.rung(bracket: bracket.s, epochs: rung.epochs,
                                                     candidates: candidates, keep: keep)
                    else { break dealing }
                    candidates = kept
                    if candidates.isEmpty { break }
                }
            }
        }
        return ledger.report(eligible: plan.eligible, excluded: plan.excluded, maxEpochs: maxEpochs)
    }
}

/// base^exponent for small non-negative integers.
func power(_ base: Int, _ exponent: Int) -> Int {
    (0..<exponent).reduce(1) { product, _ in product * base }
}
