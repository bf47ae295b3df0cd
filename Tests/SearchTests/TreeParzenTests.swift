import Testing
@testable import Search

@Suite struct TreeParzenTests {
    /// Every assignment of the synthetic space within the limit, by brute force.
    static func bestWithin(_ limit: Double, _ e: SyntheticLayers) throws -> Double {
        var best = -1.0
        for a in 0..<3 { for b in 0..<3 { for c in 0..<3 where try e.cost(of: [a, b, c]) <= limit {
            best = max(best, e.finalAccuracy([a, b, c]))
        } } }
        return best
    }

    @Test func findsTheBestAssignmentUnderTheLimitWithFewTrials() throws {
        let e = SyntheticLayers()
        let r = try TreeParzen(initial: 4, rounds: 4, batch: 2, candidates: 24, eta: 3, minEpochs: 1, maxEpochs: 3,
                               costLimit: 30, seed: 7).run(evaluator: e)
        let chosen = try #require(r.chosen)
        #expect(try e.cost(of: chosen.assignment) <= 30)
        #expect(chosen.epochs == 3)
        // Every proposal respects the limit, none is trained twice.
        for a in e.configs { #expect(try e.cost(of: a) <= 30) }
        #expect(Set(e.configs).count == e.configs.count)
        #expect(r.assignmentsTrained <= 4 + 4 * 2 && r.assignmentsTrained < 27)
        // The synthetic final accuracy of the choice is the best within the limit (0.9 − 0.03 = 0.87: layer 2 lowered once).
        #expect(abs(e.finalAccuracy(chosen.assignment) - (try Self.bestWithin(30, e))) < 1e-12)
    }

    @Test func deterministicFromTheSeed() throws {
        let a = try TreeParzen(initial: 4, rounds: 3, batch: 2, maxEpochs: 3, costLimit: 30, seed: 11).run(evaluator: SyntheticLayers())
        let b = try TreeParzen(initial: 4, rounds: 3, batch: 2, maxEpochs: 3, costLimit: 30, seed: 11).run(evaluator: SyntheticLayers())
        #expect(a == b)
    }

    /// l(k) = (count + 1) / (n + K): two good assignments, both with layer 0 at choice 2.
    @Test func densitiesAndSampling() {
        let t = TreeParzen(maxEpochs: 3, seed: 1)
        let d = t.density([[2, 0], [2, 1]], counts: [3, 2])
        let layer0: [Double] = [0.2, 0.2, 0.6], layer1: [Double] = [0.5, 0.5]
        #expect(d[0] == layer0)
        #expect(d[1] == layer1)
        #expect(TreeParzen.sample([1, 1, 2], 0.0) == 0)
        #expect(TreeParzen.sample([1, 1, 2], 0.3) == 1)
        #expect(TreeParzen.sample([1, 1, 2], 0.5) == 2)
        #expect(TreeParzen.sample([1, 1, 2], 0.999) == 2)
    }

    @Test func refusesBadSettings() {
        #expect(throws: SearchError.self) { try TreeParzen(initial: 1, maxEpochs: 3, seed: 1).run(evaluator: SyntheticLayers()) }
        #expect(throws: SearchError.self) { try TreeParzen(gamma: 1, maxEpochs: 3, seed: 1).run(evaluator: SyntheticLayers()) }
        #expect(throws: SearchError.self) { try TreeParzen(maxEpochs: 3, costLimit: 1, seed: 1).run(evaluator: SyntheticLayers()) }
    }
}
