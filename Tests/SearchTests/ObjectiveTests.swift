import Testing
@testable import Search

@Suite struct ObjectiveTests {
    /// Costs of the nine table configurations (think BOPs in arbitrary units).
    let costs: [Double] = [10, 10, 10, 10, 100, 0, 10, 10, 10]

    /// Cost limit 10 drops config 4 (cost 100) before any training.
    /// Rung 0 over 8: 1 (.60), 5 (.60), 2 (.55) | 8 0 7 3 6; keep ⌊8/3⌋ = 2 → [1, 5].
    /// Rung 1: 1 (.60), 5 (.58); keep ⌊2/3⌋ → 1 → [1]. Epochs 8 + 2 × 2 = 12 of 8 × 9 = 72.
    @Test func costLimitFiltersUpFront() throws {
        let evaluator = TableEvaluator(nineCurves)
        let report = try SuccessiveHalving(maxEpochs: 9, objective: .costLimit(10))
            .run(configs: Array(0..<9), costs: costs, evaluator: evaluator)
        #expect(report.excluded == [4])
        #expect(!evaluator.calls.contains { $0.config == 4 })
        #expect(report.rungs.map(\.kept) == [[1, 5], [1]])
        #expect(report.chosen == 1)
        #expect(report.epochsSpent == 12)
        #expect(report.epochsFullTraining == 72)
    }

    @Test func costLimitThatExcludesEverythingTrainsNothing() throws {
        let evaluator = TableEvaluator(nineCurves)
        let report = try SuccessiveHalving(maxEpochs: 9, objective: .costLimit(-1))
            .run(configs: Array(0..<9), costs: costs, evaluator: evaluator)
        #expect(report.chosen == nil)
        #expect(report.rungs.isEmpty)
        #expect(report.excluded == Array(0..<9))
        #expect(report.fraction == 0)
        #expect(evaluator.calls.isEmpty)
    }

    /// λ = 0.1, costs normalized by the largest (100): penalty 0.01 for cost 10,
    /// 0.1 for config 4, 0 for config 5.
    /// Rung 0 scores: 5 .60, 1 .59, 2 .54 | 8 .51, 0 .49, 4 .48, 7 .44, 3 .39, 6 .29 → [5, 1, 2].
    /// Rung 1 scores: 2 .61 − .01 = .60, 1 .59, 5 .58 → [2]. (Accuracy alone picks 4.)
    @Test func weightedScoreTradesAccuracyForCost() throws {
        let report = try SuccessiveHalving(maxEpochs: 9, objective: .weighted(lambda: 0.1))
            .run(configs: Array(0..<9), costs: costs, evaluator: TableEvaluator(nineCurves))
        #expect(report.rungs.map(\.kept) == [[5, 1, 2], [2]])
        #expect(report.chosen == 2)
        let two = try #require(report.rungs[1].evaluated.first { $0.config == 2 })
        #expect(abs(two.metric! - 0.61) < 1e-12)
        #expect(abs(two.score! - 0.60) < 1e-12)
        #expect(report.excluded.isEmpty)
    }

    @Test func weightedWithZeroLambdaIsAccuracy() throws {
        let report = try SuccessiveHalving(maxEpochs: 9, objective: .weighted(lambda: 0))
            .run(configs: Array(0..<9), costs: costs, evaluator: TableEvaluator(nineCurves))
        #expect(report.chosen == 4)
    }

    @Test func costObjectivesNeedMatchingCosts() {
        let evaluator = TableEvaluator(nineCurves)
        #expect(throws: SearchError("search: a cost limit needs costs")) {
            try SuccessiveHalving(maxEpochs: 9, objective: .costLimit(5)).run(configs: [0, 1], evaluator: evaluator)
        }
        #expect(throws: SearchError("search: a weighted objective needs costs")) {
            try SuccessiveHalving(maxEpochs: 9, objective: .weighted(lambda: 1)).run(configs: [0], evaluator: evaluator)
        }
        #expect(throws: SearchError("search: 1 costs for 2 configurations")) {
            try SuccessiveHalving(maxEpochs: 9).run(configs: [0, 1], costs: [1], evaluator: evaluator)
        }
        #expect(throws: SearchError("search: cost of configuration 1 is nan; costs must be finite and ≥ 0")) {
            try SuccessiveHalving(maxEpochs: 9).run(configs: [0, 1], costs: [1, .nan], evaluator: evaluator)
        }
    }
}
