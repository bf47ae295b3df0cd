import Foundation
import Testing
import Tensors
@testable import Networks

@Suite struct SoftmaxCrossEntropyTests {
    // Logits and labels of the hand example. Per row, ℓ = log Σ exp z − z_t:
    //   [1, 2, 3], t = 2:   log(e + e² + e³) − 3 = log(1 + e⁻¹ + e⁻²) = 0.40760596
    //   [1, 1, 1], t = 0:   log 3                                       = 1.09861229
    //   [0.5, −1, 2], t = 0: log(e^0.5 + e^−1 + e²) − 0.5                = 1.74131130
    // mean = 1.08250985. Correct: row 1 (argmax 2 = t) and row 2 (the three-way tie
    // goes to index 0 = t); row 3's argmax is 2 ≠ 0 — two correct. Gradient (softmax − onehot)/3 from
    // numpy: p = exp(z − lse); p[t] −= 1; p /= 3.
    static let logits = Tensor(shape: [3, 3], data: [1, 2, 3, 1, 1, 1, 0.5, -1, 2])
    static let labels: [Int32] = [2, 0, 0]

    @Test func softmaxCrossEntropy() {
        var g = Tensor(zeros: [0])
        let (loss, correct) = SoftmaxCrossEntropy.lossAndGradient(logits: Self.logits, labels: Self.labels, gradient: &g)
        #expect(abs(loss - 1.082509849923216) < 1e-6)
        #expect(correct == 2)
        #expect(g.shape == [3, 3])
        assertClose(g.data, [0.03001019, 0.08157616, -0.11158635,
                             -0.22222222, 0.11111111, 0.11111111,
                             -0.2749032, 0.01303752, 0.26186568], rtol: 1e-5, atol: 1e-7)
        let (evalLoss, evalCorrect) = SoftmaxCrossEntropy.loss(logits: Self.logits, labels: Self.labels)
        #expect(evalLoss == loss && evalCorrect == correct)
    }

    /// Logits of ±1000 would overflow exp; the log-sum-exp form stays finite.
    @Test func softmaxCrossEntropyIsStable() {
        let z = Tensor(shape: [2, 2], data: [1000, 0, -1000, 0])
        var g = Tensor(zeros: [0])
        let (loss, correct) = SoftmaxCrossEntropy.lossAndGradient(logits: z, labels: [0, 0], gradient: &g)
        // Row 1: log(1 + e⁻¹⁰⁰⁰) ≈ 0; row 2: 1000 + log(1 + e⁻¹⁰⁰⁰) ≈ 1000. Mean 500.
        #expect(abs(loss - 500) < 1e-3)
        #expect(correct == 1)
        assertClose(g.data, [0, 0, -0.5, 0.5], rtol: 0, atol: 1e-7)
    }

    /// ∂L/∂z against central differences of L(z) in Double.
    @Test func softmaxCrossEntropyGradient() {
        let z = randomTensor([4, 5], seed: 71, scale: 2)
        let labels: [Int32] = [3, 0, 4, 1]
        var g = Tensor(zeros: [0])
        _ = SoftmaxCrossEntropy.lossAndGradient(logits: z, labels: labels, gradient: &g)
        let h: Float = 1e-2
        var numeric = [Double](repeating: 0, count: z.count)
        var zv = z
        for i in 0..<z.count {
            zv.data[i] = z.data[i] + h; let plus = zv.data[i]
            let lp = SoftmaxCrossEntropy.loss(logits: zv, labels: labels).loss
            zv.data[i] = z.data[i] - h; let minus = zv.data[i]
            let lm = SoftmaxCrossEntropy.loss(logits: zv, labels: labels).loss
            zv.data[i] = z.data[i]
            numeric[i] = (lp - lm) / (Double(plus) - Double(minus))
        }
        #expect(GradientCheck.error(g.data, numeric) < GradientCheck().tolerance)
        // Each row of (softmax − onehot) sums to 0.
        for r in 0..<4 { #expect(abs(g.data[(r * 5)..<(r * 5 + 5)].reduce(0, +)) < 1e-6) }
    }
}
