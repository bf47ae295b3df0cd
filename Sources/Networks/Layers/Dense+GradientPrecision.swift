import Tensors
import Quantization

// The backward pass of a dense layer with `gbf16` or `g8` gradients (see
// `GradientPrecision` and Conv2D+GradientPrecision.swift). x [N, in], dY [N, out]:
//
//   gbf16:  dQ(W) = bf16(dY)ᵀ · bf16(x)                   dx = bf16(dY) · bf16(Q(W))
//   g8:     dQ(W) = s_x·s_g · (codes(dY)ᵀ · (codes(x) − 128) + 128·Σₙ codes(dY))
//           dx = s_w·s_g · codes(dY) · codes(W)
//           (s8 × s8 → s32, exact; float GEMMs over s_g·codes(dY) when x has no codes or
//           Q(W) has per-channel scales)
//
// The weight gradient comes out in W's layout [out, in]: the GEMM in the other order,
// dQ(W)ᵀ = codes(x)ᵀ · codes(dY) (u8 × s8, the form oneDNN takes unshifted), needed a
// transposing epilogue, with writes a row of W apart (12.5 KB for fmnist2's dense1,
// 3136 × 128): 3 % of fmnist2 g8 training against < 1 % for the shift and the row pass.

extension Dense {
    func lowPrecisionBackward(input x: Tensor, gradient dy: Tensor, into dx: inout Tensor, needsInputGradient: Bool) {
        let n = x.shape[0], fin = inputFeatures, fout = outputFeatures
        let gq = gradientQuantizer, precision = gq.precision
        dy.data.withUnsafeBufferPointer { gq.quantize($0.baseAddress!, count: dy.count) }
        let quantized = weightQuantizer.transformsWeights
        if quantized && dq.count != fout * fin { dq = [Float](repeating: 0, count: fout * fin) }
        let wsrc = quantized ? qweight : weight.value.data
        let s = lowPrecision
        // Σₙ codes(dY) per output (|Σ| ≤ 127·N): the bias gradient's and the shift's.
        var sums = [Int32](repeating: 0, count: precision == .int8 ? fout : 0)
        if precision == .int8 {
            gq.codes.withUnsafeBufferPointer { cp in
                for i in 0..<n { for o in 0..<fout { sums[o] &+= Int32(cp[i * fout + o]) } }
            }
        }
        if let bias {
            if precision == .int8 {
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
        // The buffer is handed over, not shared: a shared one was copied on the first write
        // (1.6 MB a step for fmnist2's dense1).
        var target: [Float] = []
        if quantized { swap(&target, &dq) } else { swap(&target, &weight.grad.data) }
        let beta: Float = quantized ? 0 : 1
        target.withUnsafeMutableBufferPointer { tp in
            switch precision {
            case .int8 where inputGrid != nil:
                let scale = inputGrid!.step * gq.scale
                LowPrecisionScratch.reserve(&s.accW, fin * fout)
                // (a + 128)·b of oneDNN's shifted s8 × s8 with b = code − 128 ≥ −128: exact
                // in VNNI's int32 sums while N·255·128 < 2³¹.
                if CPUDispatch.hasVNNI && n * 255 * 128 < Int(Int32.max) {
                    LowPrecisionScratch.reserve(&s.shiftedCodes, n * fin)
                    LowPrecisionScratch.reserve(&s.codeOffsets, fout)
                    codes.withUnsafeBufferPointer { xc in
                    s.shiftedCodes.withUnsafeMutableBufferPointer { xs in
                    s.codeOffsets.withUnsafeMutableBufferPointer { off in
                    gq.codes.withUnsafeBufferPointer { gc in
                    s.accW.withUnsafeMutableBufferPointer { ap in
                        for i in 0..<(n * fin) { xs[i] = Int8(bitPattern: xc[i] ^ 0x80) }
                        for o in 0..<fout { off[o] = 128 &* sums[o] }
                        gemmS8S8S32(transA: true, m: fout, n: fin, k: n, a: gc.baseAddress!, lda: fout,
                                    b: xs.baseAddress!, ldb: fin, c: ap.baseAddress!, ldc: fin)
                        int32RowsToFloat(ap.baseAddress!, rows: fout, columns: fin, rowOffset: off.baseAddress!, scale: scale,
                                         accumulate: !quantized, into: tp.baseAddress!)
                    } } } } }
                    break
                }
                codes.withUnsafeBufferPointer { xc in
                gq.codes.withUnsafeBufferPointer { gc in
                s.accW.withUnsafeMutableBufferPointer { ap in
                    gemmU8S8S32(transA: true, m: fin, n: fout, k: n, a: xc.baseAddress!, lda: fin,
                                b: gc.baseAddress!, ldb: fout, c: ap.baseAddress!, ldc: fout)
                    // [in, out] int32 → [out, in] float.
                    int32TransposedToFloat(ap.baseAddress!, rows: fin, columns: fout, scale: scale, accumulate: !quantized,
                                           into: tp.baseAddress!, ld: fin)
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
        // The forward's codes of Q(W) when it ran in integers with one scale (the same
        // codes `loadWeightCodes` derives: a scan of 401,408 weights a step for fmnist2's
        // dense1), else derived here.
        var forwardCodes = false
        if precision == .int8, CPUDispatch.int8GEMMIsExact(maxA: 255, maxB: 127, k: fout) {
            let scales = weightQuantizer.scales
            if lastForwardWasInteger, scales.count == 1, scales[0] > 0, scales[0].isFinite,
               integerWeights.codes.count == fout * fin, integerWeights.rowScales.first == scales[0] {
                weightScale = scales[0]
                forwardCodes = true
            } else {
                weightScale = wsrc.withUnsafeBufferPointer {
                    s.loadWeightCodes($0.baseAddress!, count: fout * fin, precision: weightQuantizer.precision, scales: scales)
                }
            }
        }
        lastBackwardInteger.input = weightScale != nil
        dx.data.withUnsafeMutableBufferPointer { dp in
            switch precision {
            case .int8 where weightScale != nil:
                let scale = weightScale! * gq.scale
                LowPrecisionScratch.reserve(&s.accX, n * fin)
                gq.codes.withUnsafeBufferPointer { gc in
                (forwardCodes ? integerWeights.codes : s.weightCodes).withUnsafeBufferPointer { wc in
                s.accX.withUnsafeMutableBufferPointer { ap in
                    gemmS8S8S32(m: n, n: fin, k: fout, a: gc.baseAddress!, lda: fout, b: wc.baseAddress!, ldb: fin,
                                c: ap.baseAddress!, ldc: fin)
                    int32ToFloat(ap.baseAddress!, count: n * fin, scale: scale, into: dp.baseAddress!)
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
