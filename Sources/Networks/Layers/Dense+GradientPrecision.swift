import Tensors
import Quantization

// The backward pass of a dense layer with `gbf16` or `g8` gradients (see
// `GradientPrecision` and Conv2D+GradientPrecision.swift). x [N, in], dY [N, out]:
//
//   gbf16:  dQ(W) = bf16(dY)ᵀ · bf16(x)                   dx = bf16(dY) · bf16(Q(W))
//   g8:     dQ(W)ᵀ = s_x·s_g · codes(x)ᵀ · codes(dY)       dx = s_w·s_g · codes(dY) · codes(W)
//           (u8 × s8 and s8 × s8 → s32; float GEMMs over s_g·codes(dY) when x has no
//           codes or Q(W) has per-channel scales)

extension Dense {
    func lowPrecisionBackward(input x: Tensor, gradient dy: Tensor, into dx: inout Tensor, needsInputGradient: Bool) {
        let n = x.shape[0], fin = inputFeatures, fout = outputFeatures
        let gq = gradientQuantizer, precision = gq.precision
        dy.data.withUnsafeBufferPointer { gq.quantize($0.baseAddress!, count: dy.count) }
        let quantized = weightQuantizer.transformsWeights
        if quantized && dq.count != fout * fin { dq = [Float](repeating: 0, count: fout * fin) }
        let wsrc = quantized ? qweight : weight.value.data
        let s = lowPrecision
        if let bias {
            if precision == .int8 {
                var sums = [Int](repeating: 0, count: fout)
                gq.codes.withUnsafeBufferPointer { cp in
                    for i in 0..<n { for o in 0..<fout { sums[o] &+= Int(cp[i * fout + o]) } }
                }
                for o in 0..<fout { bias.grad.data[o] += gq.scale * Float(sums[o]) }
            } else {
                gq.values.withUnsafeBufferPointer { vp in
                    bias.grad.data.withUnsafeMutableBufferPointer { bp in
                        for i in 0..<n { for o in 0..<fout { bp[o] += vp[i * fout + o] } }
                    }
                }
            }
        }
        var inputGrid: ActivationGrid?
        if precision == .int8, lastForwardWasInteger, let grid = lastGrid, codes.count >= n * fin,
           CPUDispatch.int8GEMMIsExact(maxA: grid.maxCode, maxB: 127, k: n) {
            inputGrid = grid
        }
        lastBackwardInteger = (inputGrid != nil, false)
        // Weight gradient into `target` (dq, overwritten, or the weight's gradient, added to).
        var target = quantized ? dq : weight.grad.data
        if !quantized { weight.grad.data = [] }   // hand the buffer to `target` without a copy
        let beta: Float = quantized ? 0 : 1
        target.withUnsafeMutableBufferPointer { tp in
            switch precision {
            case .int8 where inputGrid != nil:
                let scale = inputGrid!.step * gq.scale
                LowPrecisionScratch.reserve(&s.accW, fin * fout)
                codes.withUnsafeBufferPointer { xc in
                gq.codes.withUnsafeBufferPointer { gc in
                s.accW.withUnsafeMutableBufferPointer { ap in
                    gemmU8S8S32(transA: true, m: fin, n: fout, k: n, a: xc.baseAddress!, lda: fin,
                                b: gc.baseAddress!, ldb: fout, c: ap.baseAddress!, ldc: fout)
                    for i in 0..<fin {
                        for o in 0..<fout {
                            let v = Float(ap[i * fout + o]) * scale
                            tp[o * fin + i] = quantized ? v : tp[o * fin + i] + v
                        }
                    }
                } } }
            case .bf16:
                LowPrecisionScratch.reserve(&s.inputBits, n * fin)
                x.data.withUnsafeBufferPointer { xp in
                s.inputBits.withUnsafeMutableBufferPointer { ib in
                gq.bits.withUnsafeBufferPointer { gb in
                    BFloat16.convert(xp.baseAddress!, into: ib.baseAddress!, count: n * fin)
                    BFloat16.gemm(transA: true, m: fout, n: fin, k: n, a: gb.baseAddress!, lda: fout,
                                  b: ib.baseAddress!, ldb: fin, beta: beta, c: tp.baseAddress!, ldc: fin)
                } } }
            default:
                x.data.withUnsafeBufferPointer { xp in
                gq.values.withUnsafeBufferPointer { vp in
                    sgemm(transA: true, m: fout, n: fin, k: n, a: vp.baseAddress!, lda: fout,
                          b: xp.baseAddress!, ldb: fin, beta: beta, c: tp.baseAddress!, ldc: fin)
                } }
            }
        }
        if quantized { dq = target } else { weight.grad.data = target }
        if quantized { addStraightThrough(dq, of: weightQuantizer, into: weight, channels: fout) }
        guard needsInputGradient else { return }
        dx.reshapeForOverwrite(x.shape)
        var weightScale: Float?
        if precision == .int8, CPUDispatch.int8GEMMIsExact(maxA: 255, maxB: 127, k: fout) {
            weightScale = wsrc.withUnsafeBufferPointer {
                s.loadWeightCodes($0.baseAddress!, count: fout * fin, precision: weightQuantizer.precision, scales: weightQuantizer.scales)
            }
        }
        lastBackwardInteger.input = weightScale != nil
        dx.data.withUnsafeMutableBufferPointer { dp in
            switch precision {
            case .int8 where weightScale != nil:
                let scale = weightScale! * gq.scale
                LowPrecisionScratch.reserve(&s.accX, n * fin)
                gq.codes.withUnsafeBufferPointer { gc in
                s.weightCodes.withUnsafeBufferPointer { wc in
                s.accX.withUnsafeMutableBufferPointer { ap in
                    gemmS8S8S32(m: n, n: fin, k: fout, a: gc.baseAddress!, lda: fout, b: wc.baseAddress!, ldb: fin,
                                c: ap.baseAddress!, ldc: fin)
                    for i in 0..<(n * fin) { dp[i] = Float(ap[i]) * scale }
                } } }
            case .bf16:
                LowPrecisionScratch.reserve(&s.weightBits, fout * fin)
                wsrc.withUnsafeBufferPointer { wp in
                s.weightBits.withUnsafeMutableBufferPointer { wb in
                gq.bits.withUnsafeBufferPointer { gb in
                    BFloat16.convert(wp.baseAddress!, into: wb.baseAddress!, count: fout * fin)
                    BFloat16.gemm(m: n, n: fin, k: fout, a: gb.baseAddress!, lda: fout, b: wb.baseAddress!, ldb: fin,
                                  c: dp.baseAddress!, ldc: fin)
                } } }
            default:
                gq.values.withUnsafeBufferPointer { vp in
                wsrc.withUnsafeBufferPointer { wp in
                    sgemm(m: n, n: fin, k: fout, a: vp.baseAddress!, lda: fout, b: wp.baseAddress!, ldb: fin,
                          c: dp.baseAddress!, ldc: fin)
                } }
            }
        }
    }
}
