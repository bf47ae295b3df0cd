import Testing
import Tensors
@testable import Networks

/// Conv2D runs its GEMMs over batch chunks sized to stay in L2 (a 3×64×64 input
/// gives chunks of 2 images). The batch result must equal image-by-image results,
/// for outputs, input gradients and accumulated weight and bias gradients.
@Suite struct ConvChunkTests {
    @Test func chunkedBatchEqualsImageByImage() {
        var rng = SplitMix64(seed: 11)
        let n = 5, c = 3, h = 64, w = 64
        let conv = Conv2D(name: "c", inputChannels: c, filters: 4, kernel: 3, stride: 1, padding: 1, rng: &rng)
        #expect(conv.chunkSize(batch: n, rows: c * 9, plane: h * w) == 2)   // 3 chunks: 2, 2, 1
        var x = Tensor(zeros: [n, c, h, w])
        for i in 0..<x.count { x.data[i] = rng.nextNormal() }
        var dy = Tensor(zeros: [n, 4, h, w])
        for i in 0..<dy.count { dy.data[i] = rng.nextNormal() }

        var y = Tensor(zeros: [0]), dx = Tensor(zeros: [0])
        conv.zeroGrad()
        conv.forward(x, into: &y, training: true)
        conv.backward(input: x, output: y, gradient: dy, into: &dx, needsInputGradient: true)
        let batchW = conv.weight.grad.data, batchB = conv.bias!.grad.data

        conv.zeroGrad()
        let per = x.count / n, perOut = dy.count / n
        for i in 0..<n {
            let xi = Tensor(shape: [1, c, h, w], data: Array(x.data[(i * per)..<((i + 1) * per)]))
            let dyi = Tensor(shape: [1, 4, h, w], data: Array(dy.data[(i * perOut)..<((i + 1) * perOut)]))
            var yi = Tensor(zeros: [0]), dxi = Tensor(zeros: [0])
            conv.forward(xi, into: &yi, training: true)
            conv.backward(input: xi, output: yi, gradient: dyi, into: &dxi, needsInputGradient: true)
            assertClose(Array(y.data[(i * perOut)..<((i + 1) * perOut)]), yi.data, rtol: 1e-5, atol: 1e-5)
            assertClose(Array(dx.data[(i * per)..<((i + 1) * per)]), dxi.data, rtol: 1e-5, atol: 1e-5)
        }
        assertClose(batchW, conv.weight.grad.data, rtol: 1e-4, atol: 1e-3)
        assertClose(batchB, conv.bias!.grad.data, rtol: 1e-4, atol: 1e-3)
    }
}
