import Testing
@testable import Search

/// An evaluator that trains a whole rung at once (as Trials does, one per core),
/// recording each batch.
final class BatchTableEvaluator: SearchEvaluator {
    let table: TableEvaluator
    private(set) var batches: [(configs: [Int], epochs: Int)] = []
    var dropLast = false

    init(_ curves: [[Double?]]) { table = TableEvaluator(curves) }

    func advance(config: Int, toEpochs epochs: Int) throws -> Double? {
        Issue.record("the search should call the batch method")
        return try table.advance(config: config, toEpochs: epochs)
    }

    func advance(configs: [Int], toEpochs epochs: Int) throws -> [Double?] {
        batches.append((configs, epochs))
        let metrics = try configs.map { try table.advance(config: $0, toEpochs: epochs) }
        return dropLast ? Array(metrics.dropLast()) : metrics
    }
}

@Suite struct BatchEvaluatorTests {
    /// Same schedule as keepsTheExpectedConfigurationsAtEachRung: two batches.
    @Test func eachRungIsOneBatch() throws {
        let evaluator = BatchTableEvaluator(nineCurves)
        let report = try SuccessiveHalving(maxEpochs: 9).run(configs: Array(0..<9), evaluator: evaluator)
        #expect(evaluator.batches.map(\.configs) == [Array(0..<9), [1, 5, 4]])
        #expect(evaluator.batches.map(\.epochs) == [1, 3])
        #expect(report.chosen == 4)
    }

    /// Budget 11: the second batch holds only what the budget pays for (config 1).
    @Test func budgetTrimsTheBatch() throws {
        let evaluator = BatchTableEvaluator(nineCurves)
        let report = try SuccessiveHalving(maxEpochs: 9, budget: 11).run(configs: Array(0..<9), evaluator: evaluator)
        #expect(evaluator.batches.map(\.configs) == [Array(0..<9), [1]])
        #expect(report.epochsSpent == 11)
    }

    /// Budget 10: after rung 0 (9 epochs) not even config 1 (+2) fits: no empty rung recorded.
    @Test func budgetThatPaysForNothingMoreRecordsNoEmptyRung() throws {
        let evaluator = BatchTableEvaluator(nineCurves)
        let report = try SuccessiveHalving(maxEpochs: 9, budget: 10).run(configs: Array(0..<9), evaluator: evaluator)
        #expect(evaluator.batches.count == 1)
        #expect(report.rungs.count == 1)
        #expect(report.stoppedByBudget)
        #expect(report.chosen == 1)
    }

    @Test func wrongNumberOfMetricsIsAnError() {
        let evaluator = BatchTableEvaluator(nineCurves)
        evaluator.dropLast = true
        #expect(throws: SearchError("search: the evaluator returned 8 metrics for 9 configurations")) {
            try SuccessiveHalving(maxEpochs: 9).run(configs: Array(0..<9), evaluator: evaluator)
        }
    }
}
