import Testing
import Tensors
@testable import Networks

/// The batch-norm formula in Double for x [N, C, …]: per channel over N·(plane),
/// μ, biased σ², y = γ (x − μ)/√(σ² + ε) + β. Returns y, μ and the unbiased variance.
func naiveBatchNorm(_ x: Tensor, gamma: [Float], beta: [Float], eps: Double = 1e-5)
    -> (y: Tensor, mean: [Double], unbiasedVar: [Double]) {
    let n = x.shape[0], c = x.shape[1], inner = x.count / (n * c), m = Double(n * inner)
    var y = x, means: [Double] = [], vars: [Double] = []
    for ch in 0..<c {
        var values: [Double] = []
        for b in 0..<n { for j in 0..<inner { values.append(Double(x.data[(b * c + ch) * inner + j])) } }
        let mean = values.reduce(0, +) / m
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / m
        for b in 0..<n {
            for j in 0..<inner {
                let i = (b * c + ch) * inner + j
                y.data[i] = Float(Double(gamma[ch]) * (Double(x.data[i]) - mean) / (variance + eps).squareRoot() + Double(beta[ch]))
            }
        }
        means.append(mean)
        vars.append(variance * m / (m - 1))
    }
    return (y, means, vars)
}

@Suite struct BatchNormTests {
    func make(_ c: Int) -> BatchNorm {
        BatchNorm(name: "bn", gamma: randomTensor([c], seed: 31, scale: 0.5), beta: randomTensor([c], seed: 32))
    }

    @Test func batchNormDefaults() throws {
        let bn = BatchNorm(features: 3)
        #expect(bn.gamma.value.data == [1, 1, 1] && bn.beta.value.data == [0, 0, 0])
        #expect(bn.runningMean == [0, 0, 0] && bn.runningVar == [1, 1, 1])
        #expect(bn.parameters.allSatisfy { !$0.decays })
        #expect(bn.spec == "bn" && bn.eps == 1e-5 && bn.momentum == 0.1)
        #expect(try bn.outputShape(for: [3, 4, 5]) == [3, 4, 5])
        #expect(try bn.outputShape(for: [3]) == [3])
        #expect(shapeError(bn, [4, 2, 2]) == "bn (bn): has 3 channels, got input 4×2×2")
        #expect(shapeError(bn, [3, 2]) == "bn (bn): expects C×H×W or F features, got 3×2")
    }

    /// Training: batch statistics, and running stats ← 0.9·old + 0.1·batch (unbiased variance).
    @Test(arguments: [[3, 2, 4, 3], [5, 4]])
    func batchNormTraining(shape: [Int]) {
        let bn = make(shape[1])
        bn.runningMean = (0..<shape[1]).map { Float($0) * 0.5 }
        bn.runningVar = (0..<shape[1]).map { 1 + Float($0) }
        let oldMean = bn.runningMean, oldVar = bn.runningVar
        let x = randomTensor(shape, seed: 33, scale: 2)
        let y = run(bn, x, training: true)
        let ref = naiveBatchNorm(x, gamma: bn.gamma.value.data, beta: bn.beta.value.data)
        assertClose(y.data, ref.y.data, rtol: 1e-4, atol: 1e-5)
        assertClose(bn.runningMean, (0..<shape[1]).map { Float(0.9 * Double(oldMean[$0]) + 0.1 * ref.mean[$0]) },
                    rtol: 1e-5, atol: 1e-6, "running mean")
        assertClose(bn.runningVar, (0..<shape[1]).map { Float(0.9 * Double(oldVar[$0]) + 0.1 * ref.unbiasedVar[$0]) },
                    rtol: 1e-5, atol: 1e-6, "running variance")
    }

    /// Evaluation: y = γ (x − running μ)/√(running σ² + ε) + β; running stats untouched.
    @Test func batchNormEvaluation() {
        let bn = make(2)
        bn.runningMean = [0.5, -1]
        bn.runningVar = [4, 0.25]
        let x = randomTensor([2, 2, 3, 2], seed: 34)
        let y = run(bn, x, training: false)
        var expected = x
        for i in 0..<x.count {
            let c = (i / 6) % 2
            expected.data[i] = Float(Double(bn.gamma.value.data[c]) * (Double(x.data[i]) - Double(bn.runningMean[c]))
                                     / (Double(bn.runningVar[c]) + 1e-5).squareRoot() + Double(bn.beta.value.data[c]))
        }
        assertClose(y.data, expected.data, rtol: 1e-5, atol: 1e-6)
        #expect(bn.runningMean == [0.5, -1] && bn.runningVar == [4, 0.25])
    }

    /// Activations far from zero (x = 100 + N(0, 1)): normalising as a·(x − μ) + β
    /// keeps the error near Float's resolution of the O(1) result. The folded form
    /// a·x + (β − a·μ) cancels: emulated in float32 with numpy over 72 values, its
    /// largest error is 6.6e-6 against 4.2e-7 (at x ≈ 1000: 5.5e-5 against 6.9e-6).
    @Test(arguments: [[4, 2, 3, 3], [16, 3]])
    func batchNormLargeMean(shape: [Int]) {
        let bn = make(shape[1])
        var x = randomTensor(shape, seed: 39)
        x.data = x.data.map { $0 + 100 }
        let ref = naiveBatchNorm(x, gamma: bn.gamma.value.data, beta: bn.beta.value.data)
        assertClose(run(bn, x).data, ref.y.data, rtol: 0, atol: 2e-6)
    }

    @Test(arguments: [[3, 2, 4, 3], [6, 3], [2, 3, 1, 5]])
    func batchNormGradient(shape: [Int]) {
        GradientCheck().check(make(shape[1]), input: randomTensor(shape, seed: 35))
    }

    @Test func batchNormGradientInEvaluation() {
        let bn = make(2)
        bn.runningMean = [0.3, -0.2]
        bn.runningVar = [1.5, 0.7]
        GradientCheck().check(bn, input: randomTensor([2, 2, 3, 3], seed: 36), training: false)
    }

    /// Training-mode dx sums to zero over each channel (the mean is subtracted).
    @Test func batchNormInputGradientIsCentred() {
        let bn = make(2)
        let x = randomTensor([4, 2, 3, 3], seed: 37)
        let dx = inputGradient(bn, x, randomTensor(x.shape, seed: 38))
        for c in 0..<2 {
            var s = 0.0
            for b in 0..<4 { for j in 0..<9 { s += Double(dx.data[(b * 2 + c) * 9 + j]) } }
            #expect(abs(s) < 1e-4, "channel \(c): Σ dx = \(s)")
        }
    }
}
