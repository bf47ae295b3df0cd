import Testing
import Tensors
@testable import Networks

/// Direct pooling over x [N, C, H, W]: max (with the flat input index of the first
/// maximum) or mean of each k×k window at stride s, floor-sized output.
func naivePool(_ x: Tensor, window k: Int, stride s: Int, max: Bool) -> (y: Tensor, argmax: [Int]) {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    let oh = (h - k) / s + 1, ow = (w - k) / s + 1
    var y = Tensor(zeros: [n, c, oh, ow]), argmax: [Int] = []
    for b in 0..<n { for ch in 0..<c { for i in 0..<oh { for j in 0..<ow {
        var best = -Float.infinity, at = -1, sum = 0.0
        for a in 0..<k { for e in 0..<k {
            let v = x[b, ch, i * s + a, j * s + e]
            sum += Double(v)
            if v > best { best = v; at = ((b * c + ch) * h + i * s + a) * w + j * s + e }
        } }
        y[b, ch, i, j] = max ? best : Float(sum / Double(k * k))
        argmax.append(at)
    } } } }
    return (y, argmax)
}

@Suite struct PoolingTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var window: Int, stride: Int?, height: Int, width: Int
        var testDescription: String { "window \(window) stride \(stride.map(String.init) ?? "=") \(height)×\(width)" }
    }

    static let cases: [Case] = [
        Case(window: 2, stride: nil, height: 4, width: 6),
        Case(window: 2, stride: nil, height: 5, width: 7),   // not divisible: floor to 2×3
        Case(window: 3, stride: 2, height: 7, width: 6),     // overlapping windows
        Case(window: 2, stride: 1, height: 3, width: 4),
        Case(window: 3, stride: nil, height: 3, width: 3),
    ]

    @Test(arguments: cases)
    func maxPool(_ c: Case) throws {
        let layer = MaxPool(window: c.window, stride: c.stride)
        let x = distinctTensor([2, 3, c.height, c.width], seed: 51)
        let y = run(layer, x)
        let ref = naivePool(x, window: c.window, stride: c.stride ?? c.window, max: true)
        #expect(y.shape == ref.y.shape)
        #expect(try layer.outputShape(for: [3, c.height, c.width]) == Array(ref.y.shape.dropFirst()))
        assertClose(y.data, ref.y.data, rtol: 0, atol: 0)
    }

    /// Backward sends each dy to its window's argmax and nowhere else.
    @Test(arguments: cases)
    func maxPoolRoutesGradientToArgmax(_ c: Case) {
        let layer = MaxPool(window: c.window, stride: c.stride)
        let x = distinctTensor([2, 3, c.height, c.width], seed: 52)
        let ref = naivePool(x, window: c.window, stride: c.stride ?? c.window, max: true)
        let dy = randomTensor(ref.y.shape, seed: 53)
        var expected = [Float](repeating: 0, count: x.count)
        for (q, at) in ref.argmax.enumerated() { expected[at] += dy.data[q] }
        assertClose(inputGradient(layer, x, dy).data, expected, rtol: 1e-6, atol: 0)
    }

    @Test(arguments: cases)
    func maxPoolGradient(_ c: Case) {
        // Distinct values 0.1 apart: a step of h = 0.01 cannot change a window's argmax.
        GradientCheck().check(MaxPool(window: c.window, stride: c.stride), input: distinctTensor([2, 2, c.height, c.width], seed: 54))
    }

    /// Ties go to the first maximum in row-major window order (as PyTorch), in both
    /// the 2×2 fast path and the general path.
    @Test(arguments: [(2, 2), (2, 1), (3, 1)])
    func maxPoolTiesGoToFirstMaximum(window: Int, stride: Int) {
        let layer = MaxPool(window: window, stride: stride)
        var x = Tensor(zeros: [1, 1, 4, 4])
        x.data = [1, 5, 0, 0,
                  5, 2, 5, 0,
                  0, 0, 0, 0,
                  0, 0, 0, 0]
        let y = run(layer, x)
        let dy = Tensor(repeating: 1, shape: y.shape)
        let dx = inputGradient(layer, x, dy)
        // Windows holding several 5s (or only zeros) send their gradient to the first.
        let ref = naivePool(x, window: window, stride: stride, max: true)
        var expected = [Float](repeating: 0, count: x.count)
        for at in ref.argmax { expected[at] += 1 }
        #expect(y.data == ref.y.data)
        #expect(dx.data == expected)
    }

    @Test(arguments: cases)
    func avgPool(_ c: Case) {
        let layer = AvgPool(window: c.window, stride: c.stride)
        let x = randomTensor([2, 3, c.height, c.width], seed: 55)
        assertClose(run(layer, x).data, naivePool(x, window: c.window, stride: c.stride ?? c.window, max: false).y.data,
                    rtol: 1e-5, atol: 1e-6)
    }

    @Test(arguments: cases)
    func avgPoolGradient(_ c: Case) {
        GradientCheck().check(AvgPool(window: c.window, stride: c.stride), input: randomTensor([2, 2, c.height, c.width], seed: 56))
    }

    @Test func poolingSpecsAndShapeErrors() {
        #expect(MaxPool(window: 2).spec == "maxpool 2")
        #expect(MaxPool(window: 3, stride: 2).spec == "maxpool 3 s2")
        #expect(AvgPool(window: 2).spec == "avgpool 2")
        #expect(AvgPool(window: 2, stride: 1).spec == "avgpool 2 s1")
        let pool = MaxPool(name: "maxpool1", window: 2)
        #expect(shapeError(pool, [128]) == "maxpool1 (maxpool 2): expects an image input C×H×W, got 128")
        #expect(shapeError(pool, [4, 1, 6]) == "maxpool1 (maxpool 2): window 2 does not fit input 4×1×6")
        #expect(shapeError(AvgPool(name: "avgpool1", window: 3), [2, 8]) == "avgpool1 (avgpool 3): expects an image input C×H×W, got 2×8")
    }
}
