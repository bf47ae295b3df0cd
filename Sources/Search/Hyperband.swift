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
/// The paper samples fresh configurations for each bracket; here the set is fixed,
/// so configurations are dealt out in order, each to one bracket only (training
/// continues, it cannot restart), repeating the brackets while some are left; the
/// last bracket dealt may start with fewer than n, and then keeps ⌊count/eta⌋.
/// The best configuration at maxEpochs over all brackets is chosen.
public struct Hyperband: Sendable {
    public var eta: Int
    public var minEpochs: Int
    public var maxEpochs: Int
    public var objective: Objective
    /// Largest number of epochs to train in total (see ``SuccessiveHalving/budget``).
    public var budget: Int?

    public init(eta: Int = 3, minEpochs: Int = 1, maxEpochs: Int,
                objective: Objective = .accuracy, budget: Int? = nil) {
        self.eta = eta
        self.minEpochs = minEpochs
        self.maxEpochs = maxEpochs
        self.objective = objective
        self.budget = budget
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
        var next = 0
        dealing: while next < plan.eligible.count {
            for bracket in brackets() {
                let take = min(bracket.rungs[0].configs, plan.eligible.count - next)
                if take == 0 { break dealing }
                var candidates = Array(plan.eligible[next..<next + take])
                next += take
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
