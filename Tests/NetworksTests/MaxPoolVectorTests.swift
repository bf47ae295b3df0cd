import Testing
import Tensors
@testable import Networks

/// MaxPool 2×2 backward routes four windows at a time with vector selects; it must
/// equal the plain rule (each dy to the first maximum of its window, row-major),
/// including ties (all-zero windows after a ReLU) and odd widths (a scalar tail and
/// an uncovered last column).
@Suite struct MaxPoolVectorTests {
    /// Odd width (uncovered last column, zeroed) and even sizes (every dx written
    /// without a zeroing pass); dx starts as NaN garbage from an earlier step.
    @Test(arguments: [13, 12])
    func vectorPathEqualsNaiveRouting(width w: Int) {
        var rng = SplitMix64(seed: 5)
        let n = 2, c = 3, h = 6                     // ow = 6: one group of 4 and a tail of 2
        var x = Tensor(zeros: [n, c, h, w])
        for i in 0..<x.count { x.data[i] = rng.nextInt(below: 3) == 0 ? 0 : Float(rng.nextInt(below: 4)) }
        let pool = MaxPool(window: 2)
        var y = Tensor(zeros: [0]), dx = Tensor(repeating: .nan, shape: [n, c, h, w])
        pool.forward(x, into: &y, training: true)
        var dy = Tensor(zeros: y.shape)
        for i in 0..<dy.count { dy.data[i] = rng.nextNormal() }
        pool.backward(input: x, output: y, gradient: dy, into: &dx, needsInputGradient: true)

        var expected = [Float](repeating: 0, count: x.count)
        let oh = h / 2, ow = w / 2
        for p in 0..<(n * c) {
            for i in 0..<oh {
                for j in 0..<ow {
                    var best = -1, m = -Float.infinity
                    for a in 0..<2 { for b in 0..<2 {
                        let at = p * h * w + (2 * i + a) * w + 2 * j + b
                        if x.data[at] > m { m = x.data[at]; best = at }
                    } }
                    #expect(y.data[p * oh * ow + i * ow + j] == m)
                    expected[best] += dy.data[p * oh * ow + i * ow + j]
                }
            }
        }
        #expect(dx.data == expected)
    }
}
