import Testing
import Random
@testable import Search

@Suite struct HyperbandTests {
    private func table(_ hyperband: Hyperband) -> [[[Int]]] {
        hyperband.brackets().map { $0.rungs.map { [$0.configs, $0.epochs] } }
    }

    /// R = 9, eta = 3: s_max = 2, B = 3R. n = ⌈3 · 3^s / (s + 1)⌉: s = 2 → 9, s = 1 → ⌈4.5⌉ = 5, s = 0 → 3.
    @Test func bracketsForR9Eta3() {
        let hyperband = Hyperband(eta: 3, maxEpochs: 9)
        #expect(hyperband.sMax == 2)
        #expect(hyperband.brackets().map(\.s) == [2, 1, 0])
        #expect(table(hyperband) == [
            [[9, 1], [3, 3], [1, 9]],
            [[5, 3], [1, 9]],
            [[3, 9]],
        ])
    }

    /// The paper's Table 1 (Li et al. 2018, §3.3): R = 81, eta = 3.
    @Test func bracketsForR81Eta3MatchThePaper() {
        #expect(table(Hyperband(eta: 3, maxEpochs: 81)) == [
            [[81, 1], [27, 3], [9, 9], [3, 27], [1, 81]],
            [[34, 3], [11, 9], [3, 27], [1, 81]],
            [[15, 9], [5, 27], [1, 81]],
            [[8, 27], [2, 81]],
            [[5, 81]],
        ])
    }

    /// minEpochs 2, maxEpochs 9, eta 3: 2 · 3 = 6 ≤ 9 < 18, so s_max = 1;
    /// s = 1: n = ⌈2 · 3 / 2⌉ = 3 at 9/3 = 3 epochs; s = 0: n = 2 at 9.
    @Test func bracketsWithLargerMinimum() {
        #expect(table(Hyperband(eta: 3, minEpochs: 2, maxEpochs: 9)) == [[[3, 3], [1, 9]], [[2, 9]]])
    }

    /// Twelve configurations, R = 9, eta = 3. Bracket s = 2 takes 0 … 8 (the nine
    /// curves): 9 @1 → [1, 5, 4]; 3 @3 → [4]; 4 @9 = .74. Bracket s = 1 takes the
    /// 3 left of its 5: 9 (.59 @3), 10 (.62), 11 (.20) → keep ⌊3/3⌋ = [10]; 10 @9 = .62.
    /// Bracket s = 0: nothing left. Chosen: 4 (.74 > .62 at 9 epochs).
    /// Epochs: s = 2: 9 + 3 × 2 + 6 = 21; s = 1: 3 × 3 + 6 = 15; total 36 of 12 × 9 = 108.
    @Test func runsBracketsOverAFixedSet() throws {
        let curves = nineCurves + [linear(0.50, 0.045), linear(0.62, 0), linear(0.20, 0)]
        let evaluator = TableEvaluator(curves)
        let report = try Hyperband(eta: 3, maxEpochs: 9).run(configs: Array(0..<12), evaluator: evaluator)
        #expect(report.rungs.map(\.bracket) == [2, 2, 2, 1, 1])
        #expect(report.rungs.map(\.epochs) == [1, 3, 9, 3, 9])
        #expect(report.rungs.map(\.kept) == [[1, 5, 4], [4], [4], [10], [10]])
        #expect(report.rungs[3].evaluated.map(\.config) == [9, 10, 11])
        #expect(report.chosen == 4)
        #expect(report.ranking == [4, 10, 1, 9, 5, 11, 2, 8, 0, 7, 3, 6])
        #expect(report.epochsSpent == 36)
        #expect(evaluator.epochsTrained == 36)
        #expect(report.epochsFullTraining == 108)
    }

    /// Nineteen configurations: brackets take 9, 5, 3 (17), then the schedule repeats:
    /// s = 2 takes the last 2 (keep ⌊2/3⌋ → 1).
    @Test func repeatsBracketsWhileConfigurationsRemain() throws {
        let curves = (0..<19).map { linear(Double($0) / 100, 0) }
        let report = try Hyperband(eta: 3, maxEpochs: 9).run(configs: Array(0..<19), evaluator: TableEvaluator(curves))
        #expect(report.rungs.map(\.bracket) == [2, 2, 2, 1, 1, 0, 2, 2, 2])
        #expect(report.rungs.map { $0.evaluated.count } == [9, 3, 1, 5, 1, 3, 2, 1, 1])
        #expect(report.chosen == 18)
    }

    /// Budget 12 with the twelve configurations: bracket s = 2 spends 9 on rung 0,
    /// then configs 1 (+2 = 11) fits and config 5 (+2 = 13) does not.
    @Test func budgetStopsHyperbandToo() throws {
        let curves = nineCurves + [linear(0.50, 0.045), linear(0.62, 0), linear(0.20, 0)]
        let report = try Hyperband(eta: 3, maxEpochs: 9, budget: 12)
            .run(configs: Array(0..<12), evaluator: TableEvaluator(curves))
        #expect(report.stoppedByBudget)
        #expect(report.epochsSpent == 11)
        #expect(report.rungs.count == 2)
        #expect(report.chosen == 1)
    }

    /// With a seed each bracket samples its own configurations, as in Li et al.: the
    /// first bracket's nine are a partial Fisher–Yates draw from SplitMix64(seed) over
    /// all 19 (computed here independently), the next bracket's five come from the ten
    /// left, and no configuration joins two brackets. The same seed gives the same search.
    @Test func eachBracketSamplesItsOwnConfigurations() throws {
        let curves = (0..<19).map { linear(Double($0) / 100, 0) }
        let seeded = Hyperband(eta: 3, maxEpochs: 9, seed: 7)
        let report = try seeded.run(configs: Array(0..<19), evaluator: TableEvaluator(curves))
        var rng = SplitMix64(seed: 7)
        var pool = Array(0..<19)
        var expected: [[Int]] = []
        for n in [9, 5, 3, 9] {
            let take = min(n, pool.count)
            for i in 0..<take { pool.swapAt(i, i + rng.nextInt(below: pool.count - i)) }
            expected.append(Array(pool.prefix(take)))
            pool.removeFirst(take)
        }
        let firstRungs = report.rungs.indices.filter { $0 == 0 || report.rungs[$0 - 1].bracket != report.rungs[$0].bracket }
            .map { report.rungs[$0] }
        #expect(firstRungs.map { $0.evaluated.map(\.config) } == expected)
        #expect(expected[0] != Array(0..<9), "sampled, not dealt in order")
        let all = expected.flatMap { $0 }
        #expect(Set(all).count == 19 && all.count == 19, "every configuration in one bracket only")
        // Curve c is flat at c/100; bracket s = 0 trains all three of its own to 9 epochs,
        // the others their best, so the best of all (18) always reaches 9 epochs.
        #expect(report.chosen == 18)
        let again = try seeded.run(configs: Array(0..<19), evaluator: TableEvaluator(curves))
        #expect(again == report)
        let other = try Hyperband(eta: 3, maxEpochs: 9, seed: 8).run(configs: Array(0..<19), evaluator: TableEvaluator(curves))
        #expect(other.rungs[0].evaluated.map(\.config) != report.rungs[0].evaluated.map(\.config))
    }

    /// An evaluator's own budget (measured seconds, in the notebook) stops the search
    /// before the first rung it does not admit: here it admits two rungs.
    @Test func theEvaluatorsBudgetStopsLaunchingRungs() throws {
        let curves = nineCurves + [linear(0.50, 0.045), linear(0.62, 0), linear(0.20, 0)]
        let evaluator = GatedEvaluator(curves, rungs: 2)
        let report = try Hyperband(eta: 3, maxEpochs: 9).run(configs: Array(0..<12), evaluator: evaluator)
        #expect(report.stoppedByBudget)
        #expect(report.rungs.map(\.epochs) == [1, 3])
        #expect(evaluator.asked == [9, 6, 6], "9 × 1 epoch, 3 × 2 more, then 1 × 6 more refused")
        #expect(report.epochsSpent == 15)
        #expect(report.chosen == 4)
        let halving = try SuccessiveHalving(eta: 3, maxEpochs: 9).run(configs: Array(0..<9), evaluator: GatedEvaluator(nineCurves, rungs: 1))
        #expect(halving.stoppedByBudget && halving.rungs.count == 1 && halving.epochsSpent == 9)
    }
}

/// A table evaluator that admits `rungs` rungs and records the epochs each asked for.
final class GatedEvaluator: SearchEvaluator {
    let table: TableEvaluator
    let rungs: Int
    private(set) var asked: [Int] = []
    init(_ curves: [[Double?]], rungs: Int) { table = TableEvaluator(curves); self.rungs = rungs }
    func advance(config: Int, toEpochs epochs: Int) throws -> Double? { try table.advance(config: config, toEpochs: epochs) }
    func admitsRung(epochs: Int) -> Bool {
        asked.append(epochs)
        return asked.count <= rungs
    }
}
