import Testing
import Random
@testable import Analysis

@Suite struct ParetoTests {
    /// Hand-made: duplicates (1, 2), a cost tie (3 loses to 1), an accuracy tie
    /// (5 loses to 4), plain domination (7 by 0, 8 by 4) and a NaN (9, ignored).
    @Test func frontWithDuplicatesAndTies() {
        let accuracy = [0.90, 0.85, 0.85, 0.80, 0.70, 0.70, 0.92, 0.90, 0.60, .nan]
        let cost: [Double] = [10, 4, 4, 4, 1, 2, 32, 16, 1, 0.5]
        #expect(paretoFront(accuracy: accuracy, cost: cost) == [4, 1, 2, 0, 6])
    }

    @Test func smallCases() {
        #expect(paretoFront(accuracy: [], cost: []) == [])
        #expect(paretoFront(accuracy: [0.5], cost: [3]) == [0])
        // Cheaper and better dominates everything.
        #expect(paretoFront(accuracy: [0.5, 0.9, 0.7], cost: [3, 1, 2]) == [1])
        // A strict trade-off keeps every point, sorted by cost.
        #expect(paretoFront(accuracy: [0.9, 0.5, 0.7], cost: [3, 1, 2]) == [1, 2, 0])
    }

    /// Brute-force check of the sweep against the definition on a grid with many ties.
    @Test func agreesWithDefinition() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<50 {
            let n = 1 + rng.nextInt(below: 12)
            let acc = (0..<n).map { _ in Double(rng.nextInt(below: 4)) / 4 }
            let cost = (0..<n).map { _ in Double(1 + rng.nextInt(below: 4)) }
            let expected = (0..<n).filter { p in
                !(0..<n).contains { q in
                    acc[q] >= acc[p] && cost[q] <= cost[p] && (acc[q] > acc[p] || cost[q] < cost[p])
                }
            }
            #expect(Set(paretoFront(accuracy: acc, cost: cost)) == Set(expected))
        }
    }
}
