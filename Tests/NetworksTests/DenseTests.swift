import Testing
import Tensors
@testable import Networks

/// y[n, o] = b[o] + Σ_i x[n, i] · w[o, i], in Double.
func naiveDense(_ x: Tensor, weight w: Tensor, bias: Tensor?) -> Tensor {
    let n = x.shape[0], out = w.shape[0], inp = w.shape[1]
    var y = Tensor(zeros: [n, out])
    for b in 0..<n {
        for o in 0..<out {
            var s = Double(bias?.data[o] ?? 0)
            for i in 0..<inp { s += Double(w.data[o * inp + i]) * Double(x.data[b * inp + i]) }
            y.data[b * out + o] = Float(s)
        }
    }
    return y
}

@Suite struct DenseTests {
    func make(inputs: Int, outputs: Int, bias: Bool = true) -> Dense {
        Dense(name: "dense", weight: randomTensor([outputs, inputs], seed: 21, scale: 0.5),
              bias: bias ? randomTensor([outputs], seed: 22) : nil)
    }

    @Test(arguments: [true, false])
    func dense(bias: Bool) {
        let layer = make(inputs: 7, outputs: 4, bias: bias)
        let x = randomTensor([3, 7], seed: 23)
        let y = run(layer, x)
        #expect(y.shape == [3, 4])
        assertClose(y.data, naiveDense(x, weight: layer.weight.value, bias: layer.bias?.value).data, rtol: 1e-5, atol: 1e-5)
    }

    @Test(arguments: [true, false])
    func denseGradient(bias: Bool) {
        GradientCheck().check(make(inputs: 7, outputs: 4, bias: bias), input: randomTensor([3, 7], seed: 24))
    }

    /// An image input [N, C, H, W] is read as N flat vectors; dx keeps the image shape.
    @Test func denseOnImageInput() throws {
        let layer = make(inputs: 12, outputs: 5)
        let x = randomTensor([2, 3, 2, 2], seed: 25)
        #expect(try layer.outputShape(for: [3, 2, 2]) == [5])
        assertClose(run(layer, x).data, naiveDense(x.reshaped([2, 12]), weight: layer.weight.value, bias: layer.bias?.value).data,
                    rtol: 1e-5, atol: 1e-5)
        let dx = inputGradient(layer, x, randomTensor([2, 5], seed: 26))
        #expect(dx.shape == [2, 3, 2, 2])
        GradientCheck().check(layer, input: x)
    }

    @Test func denseShapeError() {
        let message = shapeError(make(inputs: 12, outputs: 5), [3, 2, 3])
        #expect(message == "dense (dense 5): expects 12 input features, got 3×2×3 = 18")
    }
}
