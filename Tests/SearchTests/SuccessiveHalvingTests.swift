import Testing
@testable import Search

@Suite struct SuccessiveHalvingTests {
    /// n = 9, eta = 3, epochs 1 → 3 → (9).
    /// Rung 0 at 1 epoch: 1 (.60), 5 (.60), 4 (.58) | 2 (.55) 8 (.52) 0 (.50) 7 (.45) 3 (.40) 6 (.30);
    /// keep ⌊9/3⌋ = 3 → [1, 5, 4]. Rung 1 at 3 epochs: 4 (.62), 1 (.60), 5 (.58); keep
    /// ⌊3/3⌋ = 1 → [4], one remains, stop. Epochs: 9 × 1 + 3 × 2 = 15 of 9 × 9 = 81.
    @Test func keepsTheExpectedConfigurationsAtEachRung() throws {
        let evaluator = TableEvaluator(nineCurves)
        let report = try SuccessiveHalving(eta: 3, minEpochs: 1, maxEpochs: 9)
            .run(configs: Array(0..<9), evaluator: evaluator)
        #expect(report.rungs.map(\.epochs) == [1, 3])
        #expect(report.rungs.map(\.kept) == [[1, 5, 4], [4]])
        #expect(report.rungs[0].evaluated.map(\.config) == Array(0..<9))
        #expect(report.rungs[1].evaluated.map(\.config) == [1, 5, 4])  // best first
        #expect(report.chosen == 4)
        #expect(report.ranking == [4, 1, 5, 2, 8, 0, 7, 3, 6])
        #expect(report.epochsSpent == 15)
        #expect(evaluator.epochsTrained == 15)
        #expect(report.epochsFullTraining == 81)
        #expect(report.fraction == 15.0 / 81.0)
        #expect(!report.stoppedByBudget)
        #expect(report.diverged.isEmpty)
        #expect(evaluator.calls.count == 12)
    }

    /// 27 flat curves at c/100; maxEpochs 3 caps the second rung, which is the last.
    /// Rung 0: 27 at 1 epoch, keep 9 → 26 … 18. Rung 1: 9 at 3 epochs (maxEpochs),
    /// choose the best → 26. Epochs: 27 × 1 + 9 × 2 = 45 of 27 × 3 = 81.
    @Test func stopsAtMaxEpochsWithSeveralLeft() throws {
        let evaluator = TableEvaluator((0..<27).map { linear(Double($0) / 100, 0, epochs: 3) })
        let report = try SuccessiveHalving(eta: 3, maxEpochs: 3)
            .run(configs: Array(0..<27), evaluator: evaluator)
        #expect(report.rungs.map(\.epochs) == [1, 3])
        #expect(report.rungs.map(\.kept) == [Array((18...26).reversed()), [26]])
        #expect(report.chosen == 26)
        #expect(report.epochsSpent == 45)
        #expect(report.epochsFullTraining == 81)
    }

    /// Config 1 diverges at epoch 1 and config 4 at epoch 3.
    /// Rung 0: 5 (.60), 4 (.58), 2 (.55) kept, 1 dropped. Rung 1: 2 (.61), 5 (.58),
    /// 4 diverged → keep [2]. Epochs: 9 + 3 × 2 = 15.
    @Test func divergedConfigurationsAreDroppedAndRankedLast() throws {
        var curves = nineCurves
        curves[1] = Array(repeating: nil, count: 9)
        curves[4][2] = nil
        let evaluator = TableEvaluator(curves)
        let report = try SuccessiveHalving(eta: 3, maxEpochs: 9).run(configs: Array(0..<9), evaluator: evaluator)
        #expect(report.rungs.map(\.kept) == [[5, 4, 2], [2]])
        #expect(report.rungs[1].evaluated.map(\.config) == [5, 4, 2])
        #expect(report.rungs[1].evaluated[1].metric == nil)
        #expect(report.chosen == 2)
        #expect(report.diverged == [1, 4])
        #expect(report.ranking == [2, 5, 8, 0, 7, 3, 6, 1, 4])
        #expect(!evaluator.calls.contains { $0.config == 1 && $0.epochs > 1 })
    }

    /// Everything but config 7 diverges at epoch 1: one remains after rung 0, stop.
    @Test func stopsWhenOneSurvivesDivergence() throws {
        var curves = nineCurves.map { _ in [Double?](repeating: nil, count: 9) }
        curves[7] = nineCurves[7]
        let report = try SuccessiveHalving(maxEpochs: 9).run(configs: Array(0..<9), evaluator: TableEvaluator(curves))
        #expect(report.rungs.map(\.kept) == [[7]])
        #expect(report.chosen == 7)
        #expect(report.epochsSpent == 9)
    }

    @Test func allDivergedChoosesNothing() throws {
        let curves = [[Double?]](repeating: [nil, nil, nil], count: 4)
        let report = try SuccessiveHalving(eta: 2, maxEpochs: 3).run(configs: [0, 1, 2, 3], evaluator: TableEvaluator(curves))
        #expect(report.chosen == nil)
        #expect(report.ranking == [0, 1, 2, 3])
        #expect(report.rungs.map(\.kept) == [[]])
    }

    /// Budget 11: rung 0 costs 9; rung 1 trains config 1 (+2 = 11), then config 5
    /// would make 13 > 11, so the search stops. Best so far: the most-trained, config 1.
    @Test func budgetStopsEarlyWithBestSoFar() throws {
        let evaluator = TableEvaluator(nineCurves)
        let report = try SuccessiveHalving(eta: 3, maxEpochs: 9, budget: 11)
            .run(configs: Array(0..<9), evaluator: evaluator)
        #expect(report.stoppedByBudget)
        #expect(report.epochsSpent == 11)
        #expect(evaluator.epochsTrained == 11)
        #expect(report.rungs.map(\.kept) == [[1, 5, 4], []])
        #expect(report.rungs[1].evaluated.map(\.config) == [1])
        #expect(report.chosen == 1)
        #expect(report.ranking.prefix(3) == [1, 5, 4])
    }

    @Test func budgetOfExactlyTheScheduleIsEnough() throws {
        let report = try SuccessiveHalving(maxEpochs: 9, budget: 15)
            .run(configs: Array(0..<9), evaluator: TableEvaluator(nineCurves))
        #expect(!report.stoppedByBudget)
        #expect(report.chosen == 4)
    }

    @Test func configurationNumbersNeedNotBeContiguous() throws {
        // Only configs 2, 4 and 6 of the table: rung 0 keeps ⌊3/3⌋ = 1 → 4 (.58).
        let report = try SuccessiveHalving(maxEpochs: 9).run(configs: [6, 2, 4], evaluator: TableEvaluator(nineCurves))
        #expect(report.rungs.map(\.kept) == [[4]])
        #expect(report.rungs[0].evaluated.map(\.config) == [6, 2, 4])
        #expect(report.epochsFullTraining == 27)
    }

    @Test func invalidParametersThrowReadableErrors() {
        let evaluator = TableEvaluator(nineCurves)
        #expect(throws: SearchError("search: eta must be at least 2, not 1")) {
            try SuccessiveHalving(eta: 1, maxEpochs: 9).run(configs: [0], evaluator: evaluator)
        }
        #expect(throws: SearchError("search: maxEpochs (2) is below minEpochs (3)")) {
            try SuccessiveHalving(minEpochs: 3, maxEpochs: 2).run(configs: [0], evaluator: evaluator)
        }
        #expect(throws: SearchError("search: configuration 0 is listed twice")) {
            try SuccessiveHalving(maxEpochs: 9).run(configs: [0, 0], evaluator: evaluator)
        }
        #expect(evaluator.calls.isEmpty)
    }
}
