import Testing
import Tensors
@testable import Networks

/// w = [1, −2] and a second parameter b = [1, −2] that does not decay.
private func parameters(grad: [Float]) -> (w: Parameter, b: Parameter) {
    let w = Parameter(name: "w", value: Tensor(shape: [2], data: [1, -2]))
    let b = Parameter(name: "b", value: Tensor(shape: [2], data: [1, -2]), decays: false)
    w.grad = Tensor(shape: [2], data: grad)
    b.grad = Tensor(shape: [2], data: grad)
    return (w, b)
}

@Suite struct SGDTests {
    /// Plain SGD: w ← w − η (g + λ w) for the decaying parameter, w − η g otherwise.
    ///   w: [1 − 0.1·(0.5 + 0.01·1), −2 − 0.1·(0.5 + 0.01·(−2))] = [0.949, −2.048]
    ///   b: [1 − 0.05, −2 − 0.05] = [0.95, −2.05]
    @Test func sgdStep() {
        let (w, b) = parameters(grad: [0.5, 0.5])
        SGD(weightDecay: 0.01).step([w, b], learningRate: 0.1)
        assertClose(w.value.data, [0.949, -2.048], rtol: 1e-6)
        assertClose(b.value.data, [0.95, -2.05], rtol: 1e-6)
    }

    /// Momentum 0.9, λ = 0.01, η = 0.1, g = [0.5, 0.5] both steps:
    ///   step 1: g′ = [0.51, 0.48], buf = g′, w = [0.949, −2.048]
    ///   step 2: g′ = [0.5 + 0.00949, 0.5 − 0.02048] = [0.50949, 0.47952]
    ///           buf = 0.9·[0.51, 0.48] + g′ = [0.96849, 0.91152]
    ///           w = [0.949 − 0.096849, −2.048 − 0.091152] = [0.852151, −2.139152]
    ///   non-decaying b: buf = [0.5, 0.5] then [0.95, 0.95]; b = [0.95, −2.05] then [0.855, −2.145]
    @Test func sgdMomentumTwoSteps() {
        let (w, b) = parameters(grad: [0.5, 0.5])
        let sgd = SGD(momentum: 0.9, weightDecay: 0.01)
        sgd.step([w, b], learningRate: 0.1)
        assertClose(w.value.data, [0.949, -2.048], rtol: 1e-6)
        sgd.step([w, b], learningRate: 0.1)
        assertClose(w.value.data, [0.852151, -2.139152], rtol: 1e-6)
        assertClose(b.value.data, [0.855, -2.145], rtol: 1e-6)
    }

    /// Nesterov, step 1: d = g′ + 0.9·buf = 1.9·[0.51, 0.48] = [0.969, 0.912];
    /// w = [1 − 0.0969, −2 − 0.0912] = [0.9031, −2.0912].
    @Test func sgdNesterov() {
        let (w, _) = parameters(grad: [0.5, 0.5])
        SGD(momentum: 0.9, weightDecay: 0.01, nesterov: true).step([w], learningRate: 0.1)
        assertClose(w.value.data, [0.9031, -2.0912], rtol: 1e-6)
    }

    @Test func sgdCallsAfterUpdate() {
        let (w, _) = parameters(grad: [-20, 20])
        w.afterUpdate = { t in for i in 0..<t.count { t.data[i] = min(max(t.data[i], -1), 1) } }
        SGD().step([w], learningRate: 1)
        #expect(w.value.data == [1, -1])   // [21, −22] clipped
    }
}

@Suite struct AdamTests {
    /// η = 0.1, β = (0.9, 0.999), ε = 1e-8; g = [0.5, −0.25] then [0.1, 0.3].
    ///   step 1: m = 0.1 g, v = 0.001 g², m̂ = g, v̂ = g² → w −= 0.1·sign(g): w = [0.9, −1.9]
    ///   step 2 (first element): m = 0.9·0.05 + 0.1·0.1 = 0.055, v = 0.999·0.00025 + 0.001·0.01
    ///           = 0.00025975, m̂ = 0.055/0.19 = 0.289474, v̂ = 0.00025975/0.001999 = 0.129940,
    ///           w = 0.9 − 0.1·0.289474/√0.129940 = 0.9 − 0.080304 = 0.819696
    ///   numpy (same formulas in float64): w = [0.81969591, −1.91429448].
    @Test func adamTwoSteps() {
        let (w, b) = parameters(grad: [0.5, -0.25])
        let adam = Adam(weightDecay: 0.1)
        adam.step([b], learningRate: 0.1)
        assertClose(b.value.data, [0.9, -1.9], rtol: 1e-6)
        b.grad = Tensor(shape: [2], data: [0.1, 0.3])
        adam.step([b], learningRate: 0.1)
        assertClose(b.value.data, [0.81969591, -1.91429448], rtol: 1e-5)
        #expect(adam.steps == 2)
        _ = w
    }

    /// With λ = 0.1 on a decaying parameter g′ = g + 0.1 w: step 1 g′ = [0.6, −0.45]
    /// (w still moves by 0.1·sign), step 2 g′ = [0.1 + 0.09, 0.3 − 0.19] = [0.19, 0.11];
    /// numpy: w = [0.81364835, −1.85259055]. The non-decaying b follows adamTwoSteps.
    @Test func adamWeightDecayOnlyOnDecayingParameters() {
        let (w, b) = parameters(grad: [0.5, -0.25])
        let adam = Adam(weightDecay: 0.1)
        adam.step([w, b], learningRate: 0.1)
        assertClose(w.value.data, [0.9, -1.9], rtol: 1e-6)
        w.grad = Tensor(shape: [2], data: [0.1, 0.3])
        b.grad = Tensor(shape: [2], data: [0.1, 0.3])
        adam.step([w, b], learningRate: 0.1)
        assertClose(w.value.data, [0.81364835, -1.85259055], rtol: 1e-5)
        assertClose(b.value.data, [0.81969591, -1.91429448], rtol: 1e-5)
    }

    @Test func adamCallsAfterUpdate() {
        let (w, _) = parameters(grad: [1, 1])
        var calls = 0
        w.afterUpdate = { _ in calls += 1 }
        let adam = Adam()
        adam.step([w], learningRate: 0.1)
        adam.step([w], learningRate: 0.1)
        #expect(calls == 2)
    }
}

@Suite struct LRScheduleTests {
    @Test func schedules() {
        #expect(LRSchedule.constant.rate(base: 0.1, epoch: 7, totalEpochs: 10) == 0.1)
        // η·γ^⌊e/every⌋: epochs 0–2 at 0.1, 3–5 at 0.05, 6 at 0.025.
        let step = LRSchedule.step(every: 3, gamma: 0.5)
        #expect([0, 2, 3, 5, 6].map { step.rate(base: 0.1, epoch: $0, totalEpochs: 10) } == [0.1, 0.1, 0.05, 0.05, 0.025])
        // Cosine over 4 epochs to 0: (1 + cos(π e/4))/2 = 1, 0.853553, 0.5, 0.146447, 0.
        let cosine = LRSchedule.cosine(total: 4, minLR: 0)
        assertClose((0...4).map { cosine.rate(base: 1, epoch: $0, totalEpochs: 99) }, [1, 0.8535534, 0.5, 0.1464466, 0],
                    rtol: 1e-6, atol: 1e-7)
        // With a floor, and with total 0 meaning the run's epoch count.
        #expect(abs(LRSchedule.cosine(total: 4, minLR: 0.1).rate(base: 1, epoch: 2, totalEpochs: 0) - 0.55) < 1e-6)
        #expect(abs(LRSchedule.cosine(total: 0).rate(base: 1, epoch: 1, totalEpochs: 2) - 0.5) < 1e-6)
        #expect(LRSchedule.step(every: 10, gamma: 0.5).description == "step 10 0.5")
    }
}
