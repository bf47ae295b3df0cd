import Testing
@testable import Analysis

@Suite struct PredictorComparisonTests {
    /// Four configurations; "good" orders them as the final values, "bad" reverses them.
    @Test func ranksPredictorsByRhoAndReportsRegret() {
        let final = [0.70, 0.80, 0.90, 0.60]
        let good: [[Double]] = [[0.3], [0.4], [0.5], [0.2]]
        let bad: [[Double]] = [[0.5], [0.4], [0.3], [0.6]]
        let c = PredictorComparison(predictors: [("bad", bad), ("good", good)], final: final)
        #expect(c.rows.map(\.predictor) == ["good", "bad"])
        #expect(c.rows[0].rho == 1 && c.rows[0].tau == 1 && c.rows[0].regret == 0 && c.rows[0].picked == 2)
        #expect(c.rows[1].rho == -1 && c.rows[1].picked == 3)
        #expect(abs(c.rows[1].regret - 0.30) < 1e-12)
    }

    /// A tie at the top is broken to the lowest index and shown; a regret under the
    /// noise floor is marked as a tie in selection.
    @Test func tiesAndNoiseFloor() {
        let final = [0.895, 0.90, 0.50]
        let tied: [[Double]] = [[0.8], [0.8], [0.1]]
        let c = PredictorComparison(predictors: [("tied", tied)], final: final, noiseFloor: 0.01)
        #expect(c.rows[0].picked == 0 && c.rows[0].tiedAtTop == 2 && c.rows[0].withinNoise)
        let text = c.table(names: ["a", "b", "c"]).render()
        #expect(text.contains("a (tie of 2)") && text.contains("(within noise)"))
    }
}
