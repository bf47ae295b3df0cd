import Foundation
import Testing
@testable import Analysis

/// Curves with known parameters must be recovered and extrapolated.
@Suite struct LearningCurveTests {
    @Test func recoversAPowerLaw() throws {
        let ys = (1...5).map { 0.9 - 0.4 * pow(Double($0), -0.7) }
        let f = try #require(LearningCurve.fit(ys, family: .power))
        assertClose(f.a, 0.9, rtol: 1e-6)
        assertClose(f.b, 0.4, rtol: 1e-6)
        assertClose(f.c, 0.7, rtol: 1e-6)
        assertClose(LearningCurve.predict(ys, at: 30), 0.9 - 0.4 * pow(30, -0.7), rtol: 1e-6)
    }

    @Test func recoversAnExponential() throws {
        let ys = (1...4).map { 0.85 - 0.5 * exp(-0.9 * Double($0)) }
        let f = try #require(LearningCurve.fit(ys, family: .exponential))
        assertClose(f.c, 0.9, rtol: 1e-6)
        assertClose(LearningCurve.predict(ys, at: 10), 0.85 - 0.5 * exp(-9), rtol: 1e-6)
        let p = try #require(LearningCurve.fit(ys, family: .power))
        #expect(f.sse < p.sse)
    }

    @Test func fewPointsFallBackToTheLastValue() {
        #expect(LearningCurve.fit([0.5, 0.6], family: .power) == nil)
        #expect(LearningCurve.predict([0.5, 0.6], at: 10) == 0.6)
        #expect(LearningCurve.predict([0.1, 0.5, 0.9], at: 50, upper: 1) <= 1, "clamped")
    }

    /// A late bloomer overtakes a fast starter in the extrapolation, not in the raw value.
    @Test func extrapolationReordersCrossingCurves() {
        let fast = (1...4).map { 0.80 - 0.10 * exp(-1.5 * Double($0)) }   // → 0.80
        let slow = (1...4).map { 0.90 - 0.40 * pow(Double($0), -0.5) }    // → 0.90, 0.70 at epoch 4
        #expect(fast.last! > slow.last!)
        #expect(LearningCurve.predict(slow, at: 200) > LearningCurve.predict(fast, at: 200))
    }
}
