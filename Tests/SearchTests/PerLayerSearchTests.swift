import Testing
@testable import Search

/// A synthetic per-layer problem with a known answer. Three layers with choices
/// 8, 4, 2 bits (indices 0, 1, 2); cost = Σ size[l] · bits, sizes 1, 4, 2, so the
/// most precise assignment costs 8 + 32 + 16 = 56. Lowering layer l by one step
/// loses sensitivity[l] = 0.05, 0.01, 0.03 of final accuracy 0.9; after e epochs a
/// configuration shows final · e/(e+1), so every epoch ranks like the end.
final class SyntheticLayers: AssignmentEvaluator {
    let choiceCounts = [3, 3, 3]
    let bits: [Double] = [8, 4, 2]
    let size: [Double] = [1, 4, 2]
    let sensitivity = [0.05, 0.01, 0.03]
    private(set) var configs: [[Int]] = []
    private(set) var trained: [Int: Int] = [:]

    func configuration(for assignment: [Int]) throws -> Int {
        if let i = configs.firstIndex(of: assignment) { return i }
        configs.append(assignment)
        return configs.count - 1
    }
    func cost(of a: [Int]) throws -> Double { a.indices.reduce(0) { $0 + size[$1] * bits[a[$1]] } }
    func finalAccuracy(_ a: [Int]) -> Double { 0.9 - a.indices.reduce(0) { $0 + sensitivity[$1] * Double(a[$1]) } }

    func advance(config: Int, toEpochs epochs: Int) throws -> Double? {
        #expect(epochs >= trained[config, default: 0], "config \(config) asked to go back to \(epochs) epochs")
        trained[config] = epochs
        return finalAccuracy(configs[config]) * Double(epochs) / Double(epochs + 1)
    }
    var epochsTrained: Int { trained.values.reduce(0, +) }
}

@Suite struct PerLayerSearchTests {
    @Test func greedyLowersTheLeastSensitiveLayersFirst() throws {
        let e = SyntheticLayers()
        let r = try GreedyLowering(eta: 3, minEpochs: 1, maxEpochs: 9, costLimit: 30).run(evaluator: e)
        // Step 1 lowers layer 1 (−0.01, cost 40), step 2 layer 1 again (cost 32),
        // step 3 layer 2 (−0.03 beats layer 0's −0.05; cost 24 ≤ 30).
        #expect(r.steps.map { $0[0].assignment } == [[0, 1, 0], [0, 2, 0], [0, 2, 1]])
        #expect(r.steps.map { $0[0].cost } == [40, 32, 24])
        let chosen = try #require(r.chosen)
        #expect(chosen.assignment == [0, 2, 1])
        #expect(abs(chosen.score! - (0.9 - 0.05) / 2) < 1e-12)
        // Each step: one rung at 1 epoch over 3, 3, 2 proposals (one survivor ends it).
        #expect(r.epochsSpent == 8 && e.epochsTrained == 8)
        #expect(r.assignmentsTrained == 8 && !r.stoppedByBudget)
    }

    @Test func sensitivityOrderNarrowsTheProposals() throws {
        let e = SyntheticLayers()
        let r = try GreedyLowering(maxEpochs: 9, costLimit: 30, order: [1, 2, 0], width: 1).run(evaluator: e)
        #expect(r.chosen?.assignment == [0, 2, 1])
        #expect(r.epochsSpent == 3, "one proposal per step")
    }

    @Test func greedyStopsAtTheBudgetAndRefusesAnImpossibleLimit() throws {
        let r = try GreedyLowering(maxEpochs: 9, costLimit: 30, budget: 4).run(evaluator: SyntheticLayers())
        #expect(r.stoppedByBudget && r.epochsSpent <= 4)
        #expect(r.chosen == nil, "the limit was not reached")
        #expect(throws: SearchError.self) { try GreedyLowering(maxEpochs: 9, costLimit: 10).run(evaluator: SyntheticLayers()) }
    }

    @Test func evolutionIsDeterministicAndStaysWithinTheLimit() throws {
        let search = RegularizedEvolution(population: 4, sample: 2, children: 3, generations: 6, eta: 3,
                                          minEpochs: 1, maxEpochs: 3, costLimit: 30, seed: 7)
        let a = try search.run(evaluator: SyntheticLayers())
        let b = try search.run(evaluator: SyntheticLayers())
        #expect(a == b)
        let chosen = try #require(a.chosen)
        #expect(chosen.cost <= 30 && chosen.epochs == 3)
        for step in a.steps { for m in step { #expect(m.cost <= 30); #expect(chosen.score! >= m.score!) } }
        var other = search
        other.seed = 8
        #expect(try other.run(evaluator: SyntheticLayers()) != a, "another seed draws another population")
    }

    @Test func evolutionCountsItsComputeAndHonoursTheBudget() throws {
        let e = SyntheticLayers()
        let r = try RegularizedEvolution(population: 4, sample: 2, children: 3, generations: 50, minEpochs: 1,
                                         maxEpochs: 3, costLimit: 30, budget: 25, seed: 1).run(evaluator: e)
        #expect(r.epochsSpent <= 25 && r.epochsSpent == e.epochsTrained)
        #expect(r.chosen != nil)
        // 27 assignments exist and fewer than 16 fit the limit; the search finds the best that fits.
        #expect(r.chosen?.assignment == [0, 2, 1])
    }
}
