/// The bookkeeping both searches share: epochs trained per configuration, the
/// epoch budget, the latest score of each configuration, and the rungs so far.
final class SearchLedger {
    let evaluator: SearchEvaluator
    let penalty: [Int: Double]
    let budget: Int?
    private var trained: [Int: Int] = [:]
    private var latest: [Int: (epochs: Int, score: Double?)] = [:]
    private(set) var spent = 0
    private(set) var rungs: [Rung] = []
    private(set) var stoppedByBudget = false

    init(evaluator: SearchEvaluator, penalty: [Int: Double], budget: Int?) {
        self.evaluator = evaluator
        self.penalty = penalty
        self.budget = budget
    }

    /// Trains the candidates to `epochs` (one batch, in order), records the rung,
    /// and returns the `keep` best survivors (diverged ones never survive), best
    /// first. When the budget cannot pay for every candidate, only those before the
    /// first one it cannot pay for train, nothing is kept, and the result is nil; so
    /// when the evaluator does not admit the rung (``SearchEvaluator/admitsRung(epochs:)``).
    func rung(bracket: Int?, epochs: Int, candidates: [Int], keep: Int) throws -> [Int]? {
        var batch: [Int] = []
        var cost = 0
        for config in candidates {
            let extra = max(0, epochs - trained[config, default: 0])
            if let budget, spent + cost + extra > budget {
                stoppedByBudget = true
                break
            }
            batch.append(config)
            cost += extra
        }
        if !batch.isEmpty, !evaluator.admitsRung(epochs: cost) {
            stoppedByBudget = true
            batch = []
            cost = 0
        }
        let metrics = batch.isEmpty ? [] : try evaluator.advance(configs: batch, toEpochs: epochs)
        guard metrics.count == batch.count else {
            throw SearchError("search: the evaluator returned \(metrics.count) metrics "
                + "for \(batch.count) configurations")
        }
        spent += cost
        var evaluated: [Evaluation] = []
        for (config, raw) in zip(batch, metrics) {
            let metric = raw.flatMap { $0.isFinite ? $0 : nil }
            trained[config] = max(epochs, trained[config, default: 0])
            let score = metric.map { $0 - penalty[config, default: 0] }
            latest[config] = (epochs, score)
            evaluated.append(Evaluation(config: config, metric: metric, score: score))
        }
        let survivors = evaluated.filter { $0.score != nil }
            .sorted { Self.better(($0.config, $0.score!), than: ($1.config, $1.score!)) }
            .map(\.config)
        let kept = stoppedByBudget ? [] : Array(survivors.prefix(keep))
        if !(stoppedByBudget && evaluated.isEmpty) {
            rungs.append(Rung(bracket: bracket, epochs: epochs, evaluated: evaluated, kept: kept))
        }
        return stoppedByBudget ? nil : kept
    }

    /// The latest score of a configuration and the epochs it was reached at; nil
    /// when it was never trained or diverged.
    func latestScore(_ config: Int) -> (epochs: Int, score: Double)? {
        guard let l = latest[config], let s = l.score else { return nil }
        return (l.epochs, s)
    }

    /// Distinct configurations trained at all (a rung cut short by the budget included).
    var configsTrained: Int { Set(rungs.flatMap { $0.evaluated.map(\.config) }).count }

    /// Epochs trained so far by `config`.
    func epochsTrained(_ config: Int) -> Int { trained[config, default: 0] }

    /// Higher score first; equal scores go to the lower configuration number.
    static func better(_ a: (config: Int, score: Double), than b: (config: Int, score: Double)) -> Bool {
        a.score != b.score ? a.score > b.score : a.config < b.config
    }

    /// The report: ranking by (epochs trained, score, number), diverged last.
    func report(eligible: [Int], excluded: [Int], maxEpochs: Int) -> SearchReport {
        let alive = latest.filter { $0.value.score != nil }
        let ranking = alive.keys.sorted { a, b in
            let (ea, eb) = (alive[a]!.epochs, alive[b]!.epochs)
            if ea != eb { return ea > eb }
            return Self.better((a, alive[a]!.score!), than: (b, alive[b]!.score!))
        }
        let diverged = latest.keys.filter { latest[$0]!.score == nil }.sorted()
        return SearchReport(
            rungs: rungs, chosen: ranking.first, ranking: ranking + diverged,
            excluded: excluded, diverged: diverged, epochsSpent: spent,
            epochsFullTraining: eligible.count * maxEpochs, stoppedByBudget: stoppedByBudget)
    }
}
