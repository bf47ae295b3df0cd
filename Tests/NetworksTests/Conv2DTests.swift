import Testing
import Tensors
import Quantization
@testable import Networks

/// Direct convolution, the 7-nested-loop definition, in Double:
///   y[n, k, i, j] = b[k] + Σ_{c, a, e} w[k, c, a, e] · x[n, c, i·S − P + a, j·S − P + e]
func naiveConv2D(_ x: Tensor, weight w: Tensor, bias: Tensor?, stride s: Int, padding p: Int) -> Tensor {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3]
    let k = w.shape[0], kh = w.shape[2], kw = w.shape[3]
    let oh = (h + 2 * p - kh) / s + 1, ow = (wd + 2 * p - kw) / s + 1
    var y = Tensor(zeros: [n, k, oh, ow])
    for b in 0..<n {
        for f in 0..<k {
            for i in 0..<oh {
                for j in 0..<ow {
                    var sum = Double(bias?.data[f] ?? 0)
                    for ch in 0..<c {
                        for a in 0..<kh {
                            for e in 0..<kw {
                                let ih = i * s - p + a, iw = j * s - p + e
                                guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                                sum += Double(w[f, ch, a, e]) * Double(x[b, ch, ih, iw])
                            }
                        }
                    }
                    y[b, f, i, j] = Float(sum)
                }
            }
        }
    }
    return y
}

@Suite struct Conv2DTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var kernel: Int, stride: Int, padding: Int, height: Int, width: Int
        var testDescription: String { "k\(kernel) s\(stride) p\(padding) \(height)×\(width)" }
    }

    static let cases: [Case] = [
        Case(kernel: 3, stride: 1, padding: 0, height: 5, width: 4),
        Case(kernel: 3, stride: 1, padding: 1, height: 5, width: 4),
        Case(kernel: 3, stride: 1, padding: 2, height: 4, width: 5),
        Case(kernel: 3, stride: 2, padding: 0, height: 7, width: 6),
        Case(kernel: 3, stride: 2, padding: 1, height: 5, width: 6),
        Case(kernel: 3, stride: 2, padding: 2, height: 4, width: 5),
        Case(kernel: 2, stride: 2, padding: 1, height: 5, width: 3),
        Case(kernel: 1, stride: 1, padding: 0, height: 3, width: 2),
    ]

    func make(_ c: Case, bias: Bool = true) -> Conv2D {
        let w = randomTensor([3, 2, c.kernel, c.kernel], seed: 11, scale: 0.5)
        let b: Tensor? = bias ? randomTensor([3], seed: 12) : nil
        return Conv2D(name: "conv", weight: w, bias: b, stride: c.stride, padding: c.padding)
    }

    @Test(arguments: cases)
    func conv2D(_ c: Case) throws {
        let conv = make(c)
        let x = randomTensor([2, 2, c.height, c.width], seed: 13)
        let y = run(conv, x)
        let expected = naiveConv2D(x, weight: conv.weight.value, bias: conv.bias?.value, stride: c.stride, padding: c.padding)
        #expect(y.shape == expected.shape)
        #expect(try conv.outputShape(for: [2, c.height, c.width]) == Array(expected.shape.dropFirst()))
        assertClose(y.data, expected.data, rtol: 1e-5, atol: 1e-5)
    }

    @Test(arguments: cases)
    func conv2DGradient(_ c: Case) {
        GradientCheck().check(make(c), input: randomTensor([2, 2, c.height, c.width], seed: 14))
    }

    @Test func conv2DWithoutBias() {
        let c = Case(kernel: 3, stride: 1, padding: 1, height: 4, width: 3)
        let conv = make(c, bias: false)
        let x = randomTensor([1, 2, 4, 3], seed: 15)
        assertClose(run(conv, x).data, naiveConv2D(x, weight: conv.weight.value, bias: nil, stride: 1, padding: 1).data,
                    rtol: 1e-5, atol: 1e-5)
        GradientCheck().check(conv, input: x)
    }

    /// Backward adds into the weight gradient: two backward passes give twice one.
    @Test func conv2DAccumulatesGradients() {
        let conv = make(Case(kernel: 3, stride: 1, padding: 1, height: 4, width: 4))
        let x = randomTensor([2, 2, 4, 4], seed: 16)
        let y = run(conv, x)
        let dy = randomTensor(y.shape, seed: 17)
        conv.zeroGrad()
        var dx = Tensor(zeros: [0])
        conv.backward(input: x, output: y, gradient: dy, into: &dx, needsInputGradient: false)
        let once = conv.weight.grad.data
        _ = run(conv, x)
        conv.backward(input: x, output: y, gradient: dy, into: &dx, needsInputGradient: false)
        assertClose(conv.weight.grad.data, once.map { 2 * $0 }, rtol: 1e-5, atol: 1e-6)
    }

    @Test func conv2DShapeErrors() {
        let conv = make(Case(kernel: 3, stride: 1, padding: 0, height: 4, width: 4))
        #expect(shapeError(conv, [2, 4, 4]) == nil)
        #expect(shapeError(conv, [32])?.contains("expects an image input C×H×W, got 32") == true)
        #expect(shapeError(conv, [3, 4, 4])?.contains("expects 2 input channels") == true)
        #expect(shapeError(conv, [2, 2, 5])?.contains("does not fit input 2×2×5") == true)
    }
}

/// Conv2D's float backward reuses its buffers between steps: dx is only reshaped (each
/// chunk's col2im overwrites its images) and ∂L/∂Q(W) is handed to the GEMMs without a copy.
@Suite struct Conv2DBufferReuseTests {
    static func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    /// A conv (float or w8 weights; 7 images in chunks of 3) whose second backward runs into
    /// the first one's dx, overwritten with NaN: dx and the weight and bias gradients bit
    /// for bit those of a twin that ran only the second backward into a fresh dx, dy with −0.
    @Test(arguments: [false, true])
    func secondBackwardIgnoresStaleBuffers(quantized: Bool) {
        func make() -> Conv2D {
            var rng = SplitMix64(seed: 21)
            let conv = Conv2D(name: "c", inputChannels: 32, filters: 16, kernel: 3, padding: 1, rng: &rng)
            if quantized { conv.weightQuantizer = UniformWeightQuantizer(bits: 8) }
            return conv
        }
        let a = make(), b = make()
        var rng = SplitMix64(seed: 4)
        let n = 7, shape = [n, 32, 9, 9], outCount = n * 16 * 81
        let x = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in rng.nextNormal() })
        let dy1 = Tensor(shape: [n, 16, 9, 9], data: (0..<outCount).map { _ in rng.nextNormal() })
        var dy2Data = (0..<outCount).map { _ in rng.nextNormal() }
        for i in stride(from: 0, to: outCount, by: 13) { dy2Data[i] = -0.0 }
        let dy2 = Tensor(shape: dy1.shape, data: dy2Data)
        var ya = Tensor(zeros: [0]), yb = Tensor(zeros: [0])
        a.forward(x, into: &ya, training: true)
        b.forward(x, into: &yb, training: true)
        var dxa = Tensor(zeros: [0]), dxb = Tensor(zeros: [0])
        a.backward(input: x, output: ya, gradient: dy1, into: &dxa, needsInputGradient: true)
        dxa.fill(.nan)
        a.zeroGrad()
        a.backward(input: x, output: ya, gradient: dy2, into: &dxa, needsInputGradient: true)
        b.backward(input: x, output: yb, gradient: dy2, into: &dxb, needsInputGradient: true)
        #expect(dxa.shape == shape && dxb.shape == shape)
        #expect(Self.bits(dxa.data) == Self.bits(dxb.data))
        #expect(Self.bits(a.weight.grad.data) == Self.bits(b.weight.grad.data))
        #expect(Self.bits(a.bias!.grad.data) == Self.bits(b.bias!.grad.data))
        #expect(a.weight.grad.data.contains { $0 != 0 } && dxa.data.allSatisfy { $0.isFinite })
        #expect(a.dq.count == (quantized ? 16 * 32 * 9 : 0), "∂L/∂Q(W) handed back to the layer")
    }
}
