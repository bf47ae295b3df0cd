/// One configuration's result at one rung.
public struct Evaluation: Equatable, Sendable {
    public var config: Int
    /// The evaluator's metric; nil when the configuration diverged.
    public var metric: Double?
    /// The metric minus the objective's cost penalty (equal to `metric` when the
    /// objective has none); what the search ranks by.
    public var score: Double?

    public init(config: Int, metric: Double?, score: Double?) {
        self.config = config
        self.metric = metric
        self.score = score
    }
}

/// One round of a search: every candidate trained to `epochs`, the best kept.
public struct Rung: Equatable, Sendable {
    /// Hyperband's bracket index `s` (nil for plain successive halving).
    public var bracket: Int?
    public var epochs: Int
    /// In evaluation order (the previous rung's ranking, best first).
    public var evaluated: [Evaluation]
    /// Survivors, best first. The last rung of a search or bracket keeps its winner;
    /// a rung cut short by the budget keeps nothing.
    public var kept: [Int]

    public init(bracket: Int?, epochs: Int, evaluated: [Evaluation], kept: [Int]) {
        self.bracket = bracket
        self.epochs = epochs
        self.evaluated = evaluated
        self.kept = kept
    }
}

/// What a search did and what it recommends.
public struct SearchReport: Equatable, Sendable {
    public var rungs: [Rung]
    /// The best configuration, or nil when every candidate diverged (or none was eligible).
    public var chosen: Int?
    /// Every evaluated configuration, best first: more epochs trained first, then
    /// higher score, then lower configuration number; diverged ones last, by number.
    /// Configurations the budget left untrained are not listed.
    public var ranking: [Int]
    /// Configurations the objective's cost limit excluded before training.
    public var excluded: [Int]
    /// Configurations that diverged, in number order.
    public var diverged: [Int]
    /// Epochs actually trained, counting only the additional epochs of each advance.
    public var epochsSpent: Int
    /// What training every eligible configuration to the maximum would cost.
    public var epochsFullTraining: Int
    /// Whether the epoch budget stopped the search before its schedule ended.
    public var stoppedByBudget: Bool

    /// `epochsSpent / epochsFullTraining` (0 when nothing was eligible).
    public var fraction: Double {
        epochsFullTraining == 0 ? 0 : Double(epochsSpent) / Double(epochsFullTraining)
    }
}
