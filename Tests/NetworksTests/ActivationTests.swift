import Testing
import Tensors
@testable import Networks

@Suite struct ActivationTests {
    @Test func relu() throws {
        let layer = ReLU()
        let x = Tensor(shape: [2, 3], data: [-2, -0.5, 0, 0.25, 3, -1e-3])
        #expect(run(layer, x).data == [0, 0, 0, 0.25, 3, 0])
        #expect(inputGradient(layer, x, Tensor(repeating: 2, shape: [2, 3])).data == [0, 0, 0, 2, 2, 0])
        #expect(layer.spec == "relu")
        #expect(try layer.outputShape(for: [3, 4, 4]) == [3, 4, 4])
    }

    @Test func reluGradient() {
        // Distinct values 0.1 apart, none at 0: no kink within h = 0.01.
        GradientCheck().check(ReLU(), input: distinctTensor([2, 2, 3, 3], seed: 41))
    }

    @Test func hardTanh() {
        let layer = HardTanh()
        let x = Tensor(shape: [6], data: [-3, -1, -0.5, 0.5, 1, 2])
        #expect(run(layer, x).data == [-1, -1, -0.5, 0.5, 1, 1])
        // Gradient passes only strictly inside (−1, 1), as PyTorch's hardtanh_backward.
        #expect(inputGradient(layer, x, Tensor(repeating: 3, shape: [6])).data == [0, 0, 3, 3, 0, 0])
        #expect(layer.spec == "htanh")
    }

    @Test func hardTanhGradient() {
        // Values 0.15 apart centred on 0 avoid ±1 by more than h; some lie outside.
        var x = distinctTensor([2, 13], seed: 42, gap: 0.15)
        x.data = x.data.map { $0 + 0.05 }
        GradientCheck().check(HardTanh(), input: x)
    }
}
