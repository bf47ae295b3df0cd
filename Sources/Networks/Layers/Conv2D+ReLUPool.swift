import Tensors
import CTrainKernels

// Dimension legend: as Conv2D.swift; OH×OW the convolution's output (both even),
// Q = OH/2 · OW/2 the pooled plane.
//
// conv → relu → maxpool 2 (a float conv, the pool masking the ReLU: `MaxPool.masksReLU`)
// as one pass each way, which `Sequential` runs in place of the three layers:
//   forward:  y[m, K, Q] = maxpool(relu(W · cols + b)) straight from the GEMM's K-major
//             output, and the pool's routes (which corner of each window takes its
//             gradient; `MaxPool.routes`); the conv's and the ReLU's full-size outputs
//             are never written (nor read back by the ReLU, the pool, and the pool's
//             backward: 4 passes over cifar3's largest activation forward, 2 backward).
//   backward: dY[K, m·P] = the pooled gradient routed to its corners, the bias sums on
//             the way, then the conv's GEMMs as before.
// Bit-identical to the three layers (FusedPassTests): the same additions, the ReLU's
// selection, Swift.max in the pool's order, its routing (the first corner equal to a
// positive maximum), and the bias sums in the same serial order.

extension Conv2D {
    /// Whether `forwardReLUPool` may stand for this layer, the ReLU after it and `pool`
    /// on input `x`: float GEMMs both ways (no integer forward, float gradients), a 2×2
    /// stride-2 pool masking the ReLU on an even output plane, AVX-512 (the kernels),
    /// and a batch whose output count is a multiple of 8 (the ReLU kernel's scalar tail,
    /// `0 ≥ x ? 0 : x`, differs from its vector form on −0).
    func fusesReLUPool(_ pool: MaxPool, input x: Tensor) -> Bool {
        guard Kernels.hasAVX512, pool.vectorKernels, pool.masksReLU, pool.window.size == 2, pool.window.stride == 2,
              gradientQuantizer.precision == .float, !(weightQuantizer.transformsWeights && integerInput != nil),
              x.rank == 4, x.shape[1] == inputChannels else { return false }
        let g = geometry(Array(x.shape.dropFirst()))
        return g.outHeight % 2 == 0 && g.outWidth % 2 == 0 && (x.shape[0] * filters * g.outHeight * g.outWidth) % 8 == 0
    }

    /// y = maxpool2(relu(conv(x))) [N, K, OH/2, OW/2], and `pool.routes` for the backward.
    func forwardReLUPool(_ x: Tensor, pool: MaxPool, into y: inout Tensor, training: Bool) {
        let n = x.shape[0]
        let g = geometry(Array(x.shape.dropFirst()))
        let oh = g.outHeight, ow = g.outWidth, pooled = filters * (oh / 2) * (ow / 2)
        reserveColumns(batch: n, g)
        y.reshapeForOverwrite([n, filters, oh / 2, ow / 2])
        let quantized = quantizeWeights(weight, with: weightQuantizer, channels: filters, training: training, into: &qweight)
        lastForwardWasInteger = false
        if pool.routes.count != n * pooled { pool.routes = [UInt8](repeating: 4, count: n * pooled) }
        let biasData = bias?.value.data ?? []
        biasData.withUnsafeBufferPointer { bp in
        y.data.withUnsafeMutableBufferPointer { yp in
        pool.routes.withUnsafeMutableBufferPointer { rp in
            floatForwardChunks(x, weights: quantized ? qweight : weight.value.data, g) { kmajor, start, m in
                ql_conv_relu_pool2_avx512(kmajor, m, filters, oh, ow, bias == nil ? nil : bp.baseAddress,
                                          yp.baseAddress! + start * pooled, rp.baseAddress! + start * pooled)
            }
        } } }
    }

    /// The backward of the three layers from the pooled gradient dy [N, K, OH/2, OW/2]
    /// and the routes of the last `forwardReLUPool` (or of `QuantizeActivation.forwardPool2`
    /// on this layer's output, whose routes carry the quantizer's mask: the float-gradient
    /// backward of conv → [relu →] quantize → maxpool 2): parameter gradients added, dx
    /// written when `needsInputGradient`.
    func backwardFromRoutes(input x: Tensor, pool: MaxPool, pooledGradient dy: Tensor, into dx: inout Tensor,
                          needsInputGradient: Bool) {
        let g = geometry(Array(x.shape.dropFirst()))
        let oh = g.outHeight, ow = g.outWidth, pooled = filters * (oh / 2) * (ow / 2)
        precondition(dy.count == x.shape[0] * pooled && pool.routes.count == dy.count,
                     "\(name): pooled gradient \(dy.shape) does not match the last fused forward")
        dy.data.withUnsafeBufferPointer { dp in
        pool.routes.withUnsafeBufferPointer { rp in
            floatBackward(input: x, into: &dx, needsInputGradient: needsInputGradient) { kmajor, start, m, biasGrad in
                ql_conv_unpool2_dy_avx512(dp.baseAddress! + start * pooled, rp.baseAddress! + start * pooled,
                                          m, filters, oh, ow, kmajor, biasGrad)
            }
        } }
    }
}
