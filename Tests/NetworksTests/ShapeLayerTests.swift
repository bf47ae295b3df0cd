import Testing
import Tensors
@testable import Networks

@Suite struct FlattenTests {
    @Test func flatten() throws {
        let layer = Flatten()
        let x = randomTensor([2, 3, 2, 2], seed: 61)
        let y = run(layer, x)
        #expect(y.shape == [2, 12] && y.data == x.data)
        #expect(try layer.outputShape(for: [3, 2, 2]) == [12])
        #expect(try layer.outputShape(for: [7]) == [7])
        #expect(shapeError(layer, []) != nil)
        let dy = randomTensor([2, 12], seed: 62)
        let dx = inputGradient(layer, x, dy)
        #expect(dx.shape == [2, 3, 2, 2] && dx.data == dy.data)
        #expect(layer.spec == "flatten")
    }
}

@Suite struct DropoutTests {
    @Test func dropoutIsDeterministicForASeed() {
        let x = randomTensor([4, 50], seed: 63)
        let a = run(Dropout(rate: 0.5, seed: 7), x), b = run(Dropout(rate: 0.5, seed: 7), x)
        let c = run(Dropout(rate: 0.5, seed: 8), x)
        #expect(a.data == b.data)
        #expect(a.data != c.data)
        // Successive batches draw fresh masks.
        let layer = Dropout(rate: 0.5, seed: 7)
        #expect(run(layer, x).data != run(layer, x).data)
    }

    /// About p of the elements are zeroed; the rest are scaled by 1/(1 − p).
    @Test(arguments: [Float(0.1), 0.3, 0.5, 0.8])
    func dropoutRateAndScale(p: Float) {
        let n = 20_000
        let x = Tensor(repeating: 2, shape: [4, n / 4])
        let y = run(Dropout(rate: p, seed: 9), x)
        let dropped = y.data.filter { $0 == 0 }.count
        // Binomial standard deviation √(n p (1 − p)) ≤ 71; allow 5σ.
        #expect(abs(Double(dropped) - Double(n) * Double(p)) < 5 * (Double(n) * Double(p * (1 - p))).squareRoot())
        let kept = Set(y.data.filter { $0 != 0 })
        #expect(kept == [2 / (1 - p)])
    }

    @Test func dropoutBackwardUsesTheMask() {
        let layer = Dropout(rate: 0.4, seed: 10)
        let x = Tensor(repeating: 1, shape: [3, 20])
        let y = run(layer, x)
        let dy = randomTensor([3, 20], seed: 64)
        var dx = Tensor(zeros: [0])
        layer.backward(input: x, output: y, gradient: dy, into: &dx, needsInputGradient: true)
        for i in 0..<x.count { #expect(dx.data[i] == dy.data[i] * y.data[i]) }   // y = mask here
        // With the mask held fixed (generator reseeded before each forward) the
        // layer is linear and the finite-difference check applies.
        GradientCheck().check(layer, input: randomTensor([3, 20], seed: 65), prepare: { layer.rng = SplitMix64(seed: 11) })
    }

    @Test func dropoutIsIdentityInEvaluation() {
        let layer = Dropout(rate: 0.5, seed: 12)
        let x = randomTensor([3, 10], seed: 66)
        let state = layer.rng
        #expect(run(layer, x, training: false).data == x.data)
        #expect(layer.rng == state, "evaluation must not draw from the generator")
        let dy = randomTensor([3, 10], seed: 67)
        #expect(inputGradient(layer, x, dy, training: false).data == dy.data)
        #expect(run(Dropout(rate: 0), x, training: true).data == x.data)
    }

    @Test func dropoutSpec() {
        #expect(Dropout(rate: 0.5).spec == "dropout 0.5")
        #expect(Dropout(rate: 0.25).spec == "dropout 0.25")
        #expect(Dropout(rate: 0).spec == "dropout 0")
    }
}
