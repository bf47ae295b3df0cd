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

/// A per-layer problem given by a cost and a final accuracy per assignment; after e epochs
/// a configuration shows final · e/(e+1).
final class TableLayers: AssignmentEvaluator {
    let choiceCounts: [Int]
    let costOf: ([Int]) -> Double
    let finalOf: ([Int]) -> Double
    private(set) var configs: [[Int]] = []
    private var trained: [Int: Int] = [:]

    init(counts: [Int], cost: @escaping ([Int]) -> Double, final: @escaping ([Int]) -> Double) {
        choiceCounts = counts; costOf = cost; finalOf = final
    }
    func configuration(for assignment: [Int]) throws -> Int {
        if let i = configs.firstIndex(of: assignment) { return i }
        configs.append(assignment)
        return configs.count - 1
    }
    func cost(of a: [Int]) throws -> Double { costOf(a) }
    func advance(config: Int, toEpochs epochs: Int) throws -> Double? {
        #expect(epochs >= trained[config, default: 0])
        trained[config] = epochs
        return finalOf(configs[config]) * Double(epochs) / Double(epochs + 1)
    }
}

@Suite struct PerLayerSearchTests {
    @Test func greedyLowersTheLayerLosingLeastPerCostSaved() throws {
        let e = SyntheticLayers()
        let r = try GreedyLowering(maxEpochs: 9, costLimit: 30).run(evaluator: e)
        // Scores at 9 epochs are final × 0.9; from [0,0,0] (cost 56, 0.81) lowering layer 0, 1, 2
        // saves 4, 16, 8 for losses 0.045, 0.009, 0.027: per unit 0.01125, 0.00056, 0.0034 → layer 1.
        // Step 2 from [0,1,0] (cost 40): savings 4, 8, 8 → layer 1 again (0.0011 per unit), cost 32.
        // Step 3 from [0,2,0]: [1,2,0] saves 4 for 0.045, [0,2,1] saves 8 for 0.027 → [0,2,1], cost 24.
        #expect(r.steps.map { $0[0].assignment } == [[0, 1, 0], [0, 2, 0], [0, 2, 1]])
        #expect(r.steps.map { $0[0].cost } == [40, 32, 24])
        let chosen = try #require(r.chosen)
        #expect(chosen.assignment == [0, 2, 1] && chosen.epochs == 9)
        #expect(abs(chosen.score! - (0.9 - 0.02 - 0.03) * 0.9) < 1e-12)
        // Every proposal trains to 9 epochs: the start, then 3, 3 and 2 proposals.
        #expect(r.epochsSpent == 9 * 9 && e.epochsTrained == 81)
        #expect(r.assignmentsTrained == 9 && !r.stoppedByBudget)
        #expect(r.rungs.map(\.evaluated.count) == [1, 3, 3, 2] && r.rungs.allSatisfy { $0.epochs == 9 })
    }

    @Test func greedyChoosesOnTheEvidenceNotTheEndOfThePath() throws {
        // Lowering layer 0 saves 60 for 0.027 (0.00045 per unit), layer 1 saves 10 for 0.009
        // (0.0009): greedy adopts layer 0 and the cost fits at once. Both proposals fit the
        // limit, and layer 1's is better by its trial score, so it is the one returned.
        let e = TableLayers(counts: [2, 2], cost: { 100 - 60 * Double($0[0]) - 10 * Double($0[1]) },
                            final: { 0.9 - 0.03 * Double($0[0]) - 0.01 * Double($0[1]) })
        let r = try GreedyLowering(maxEpochs: 9, costLimit: 95).run(evaluator: e)
        #expect(r.steps.map { $0[0].assignment } == [[1, 0]])
        #expect(r.chosen?.assignment == [0, 1] && r.chosen?.cost == 90)
    }

    @Test func greedyRanksProposalsThatLoseNothingFirst() {
        // No loss before any loss, the larger saving first; no saving last.
        let keys = [(0.01, 10.0), (-0.02, 5.0), (0.0, 8.0), (0.001, 100.0), (-0.1, 0.0)].map(GreedyLowering.key)
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        #expect(order == [2, 1, 3, 0, 4])
    }

    @Test func sensitivityOrderNarrowsTheProposals() throws {
        let e = SyntheticLayers()
        let r = try GreedyLowering(maxEpochs: 9, costLimit: 30, order: [1, 2, 0], width: 1).run(evaluator: e)
        #expect(r.chosen?.assignment == [0, 2, 1])
        #expect(r.epochsSpent == 4 * 9, "the start and one proposal per step")
    }

    @Test func greedyStopsAtTheBudgetAndRefusesAnImpossibleLimit() throws {
        let r = try GreedyLowering(maxEpochs: 9, costLimit: 30, budget: 30).run(evaluator: SyntheticLayers())
        #expect(r.stoppedByBudget && r.epochsSpent <= 30)
        #expect(r.chosen == nil, "the limit was not reached")
        #expect(throws: SearchError.self) { try GreedyLowering(maxEpochs: 9, costLimit: 10).run(evaluator: SyntheticLayers()) }
    }

    @Test func hyperbandSamplesEachBracketFromTheProductSpace() throws {
        let e = SyntheticLayers()
        let search = PerLayerHyperband(eta: 3, minEpochs: 1, maxEpochs: 9, seed: 5)
        let r = try search.run(evaluator: e)
        // Brackets of 9, 5 and 3 fresh assignments (of 27), each drawn and never trained before.
        #expect(r.rungs.filter { $0.bracket == 2 }.map(\.evaluated.count) == [9, 3, 1])
        #expect(r.rungs.filter { $0.bracket == 1 }.map(\.evaluated.count) == [5, 1])
        #expect(r.rungs.filter { $0.bracket == 0 }.map(\.evaluated.count) == [3])
        #expect(r.assignmentsTrained == 17 && Set(e.configs).count == e.configs.count)
        // 9·1 + 3·2 + 1·6 + 5·3 + 1·6 + 3·9 epochs, each counted once.
        #expect(r.epochsSpent == 69 && e.epochsTrained == 69)
        // The chosen one is the best of those trained to 9 epochs.
        let finished = r.rungs.filter { $0.epochs == 9 }.flatMap(\.evaluated)
        #expect(r.chosen?.score == finished.compactMap(\.score).max())
        #expect(try search.run(evaluator: SyntheticLayers()) == r, "same seed, same search")
        var other = search
        other.seed = 6
        #expect(try other.run(evaluator: SyntheticLayers()) != r)
    }

    @Test func hyperbandRespectsTheLimitBudgetAndASmallSpace() throws {
        let e = SyntheticLayers()
        let limited = try PerLayerHyperband(minEpochs: 1, maxEpochs: 3, costLimit: 30, iterations: 4, seed: 1).run(evaluator: e)
        #expect(e.configs.count == limited.assignmentsTrained && e.configs.count > 5)
        #expect(try e.configs.allSatisfy { try e.cost(of: $0) <= 30 }, "every draw within the limit")
        #expect(limited.chosen.map { $0.cost <= 30 && $0.epochs == 3 } == true)
        // With a budget and no iteration count the brackets repeat (11 epochs a pass) until it stops them.
        let budgeted = try PerLayerHyperband(minEpochs: 1, maxEpochs: 3, budget: 20, seed: 1).run(evaluator: SyntheticLayers())
        #expect(budgeted.stoppedByBudget && budgeted.epochsSpent <= 20 && budgeted.epochsSpent > 11)
        // A space of 4 assignments runs out: every one trained once, then the search ends.
        let small = TableLayers(counts: [2, 2], cost: { _ in 1 }, final: { 0.5 + 0.1 * Double($0[0]) + 0.01 * Double($0[1]) })
        let r = try PerLayerHyperband(minEpochs: 1, maxEpochs: 3, iterations: 10, seed: 3).run(evaluator: small)
        #expect(r.assignmentsTrained == 4 && small.configs.count == 4)
        #expect(r.chosen?.epochs == 3 && !r.stoppedByBudget)
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
