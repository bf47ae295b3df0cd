/// What a search maximizes: validation accuracy alone, accuracy among the
/// configurations under a cost limit, or accuracy minus a weighted cost.
///
/// Costs are per configuration and in any unit (BOPs, weight bits, picojoules);
/// they come in parallel to the configurations a search is given.
public struct Objective: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// Rank by the metric alone.
        case accuracy
        /// Drop configurations whose cost exceeds `limit` before training any of
        /// them, then rank the rest by the metric.
        case costLimit(Double)
        /// Rank by `metric − lambda · cost / max cost`: the cost is normalized by the
        /// most expensive configuration searched, so `lambda` is the accuracy given
        /// up for the whole cost range (λ = 0.05: the most expensive configuration
        /// must be 5 points better than a free one to win).
        case weighted(lambda: Double)
    }

    public var kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public static let accuracy = Objective(.accuracy)
    public static func costLimit(_ limit: Double) -> Objective { Objective(.costLimit(limit)) }
    public static func weighted(lambda: Double) -> Objective { Objective(.weighted(lambda: lambda)) }

    /// The configurations a search trains, those the objective excluded, and the
    /// penalty subtracted from each configuration's metric.
    struct Plan {
        var eligible: [Int]
        var excluded: [Int]
        var penalty: [Int: Double]
    }

    /// Checks the inputs and applies the objective's filter and penalties.
    func plan(configs: [Int], costs: [Double]?) throws -> Plan {
        var seen = Set<Int>()
        for config in configs where !seen.insert(config).inserted {
            throw SearchError("search: configuration \(config) is listed twice")
        }
        if let costs {
            guard costs.count == configs.count else {
                throw SearchError("search: \(costs.count) costs for \(configs.count) configurations")
            }
            if let bad = costs.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
                throw SearchError("search: cost of configuration \(configs[bad]) is \(costs[bad]); "
                    + "costs must be finite and ≥ 0")
            }
        }
        switch kind {
        case .accuracy:
            return Plan(eligible: configs, excluded: [], penalty: [:])
        case .costLimit(let limit):
            guard let costs else { throw SearchError("search: a cost limit needs costs") }
            let keep = configs.indices.filter { costs[$0] <= limit }
            let drop = configs.indices.filter { costs[$0] > limit }
            return Plan(eligible: keep.map { configs[$0] }, excluded: drop.map { configs[$0] },
                        penalty: [:])
        case .weighted(let lambda):
            guard let costs else { throw SearchError("search: a weighted objective needs costs") }
            guard lambda.isFinite, lambda >= 0 else {
                throw SearchError("search: lambda must be finite and ≥ 0, not \(lambda)")
            }
            let largest = costs.max() ?? 0
            var penalty: [Int: Double] = [:]
            for (config, cost) in zip(configs, costs) {
                penalty[config] = largest > 0 ? lambda * cost / largest : 0
            }
            return Plan(eligible: configs, excluded: [], penalty: penalty)
        }
    }
}
