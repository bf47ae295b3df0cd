import Tensors
import Quantization

// The backward pass of a convolution with `gbf16` or `g8` gradients (see
// `GradientPrecision`). Legend as in Conv2D.swift; per chunk of m images, np = m·P:
//
//   gbf16:  dQ(W) += bf16(dY)[K, np] · bf16(cols)ᵀ       dcols = bf16(Q(W))ᵀ · bf16(dY)
//   g8:     dQ(W) += s_x·s_g · rows(codes x)ᵀ · codes(dY)ᵀ   (u8 × s8 → s32; when the
//             forward ran in integers, else a float GEMM over s_g·codes(dY))
//           dcols  = s_w·s_g · codes(W)ᵀ · codes(dY)         (s8 × s8 → s32; when Q(W)
//             has one scale, else a float GEMM over Q(W))
//
// Every use of dY, the bias gradient included, reads Q(dY): the result equals the
// float backward applied to Q(dY) (and, for bf16, to the bf16-rounded operands) up to
// float summation order. Tests check that, and the float path against finite differences.

extension Conv2D {
    func lowPrecisionBackward(input x: Tensor, gradient dy: Tensor, into dx: inout Tensor, needsInputGradient: Bool) {
        let n = x.shape[0]
        let g = geometry(Array(x.shape.dropFirst()))
        let p = g.outHeight * g.outWidth, r = g.rows, kk = filters
        let chunk = chunkSize(batch: n, rows: r, plane: p)
        let inSize = g.channels * g.height * g.width
        let gq = gradientQuantizer, precision = gq.precision
        dy.data.withUnsafeBufferPointer { gq.quantize($0.baseAddress!, count: dy.count) }
        let quantized = weightQuantizer.transformsWeights
        if quantized && dq.count != kk * r { dq = [Float](repeating: 0, count: kk * r) }
        if quantized { dq.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        if cols.count < r * chunk * p { cols = [Float](repeating: 0, count: r * chunk * p) }
        if kmajor.count < kk * chunk * p { kmajor = [Float](repeating: 0, count: kk * chunk * p) }
        if needsInputGradient {
            dx.reshapeForOverwrite(x.shape)
            dx.fill(0)
        }
        let wsrc = quantized ? qweight : weight.value.data
        let s = lowPrecision
        // Which GEMMs run in integers (g8).
        var weightScale: Float?
        if precision == .int8 && needsInputGradient {
            weightScale = wsrc.withUnsafeBufferPointer {
                s.loadWeightCodes($0.baseAddress!, count: kk * r, precision: weightQuantizer.precision, scales: weightQuantizer.scales)
            }
            if !CPUDispatch.int8GEMMIsExact(maxA: 255, maxB: 127, k: kk) { weightScale = nil }
        }
        var inputGrid: ActivationGrid?
        if precision == .int8, lastForwardWasInteger, let grid = lastGrid, codes.count >= n * inSize,
           CPUDispatch.int8GEMMIsExact(maxA: grid.maxCode, maxB: 127, k: chunk * p) {
            inputGrid = grid
        }
        lastBackwardInteger = (inputGrid != nil, weightScale != nil)
        let floatGradient = precision == .int8 && (inputGrid == nil || (needsInputGradient && weightScale == nil))
        switch precision {
        case .bf16:
            LowPrecisionScratch.reserve(&s.gradBits, kk * chunk * p)
            LowPrecisionScratch.reserve(&s.inputBits, r * chunk * p)
            LowPrecisionScratch.reserve(&s.weightBits, kk * r)
            wsrc.withUnsafeBufferPointer { wp in
                s.weightBits.withUnsafeMutableBufferPointer { BFloat16.convert(wp.baseAddress!, into: $0.baseAddress!, count: kk * r) }
            }
        case .int8:
            LowPrecisionScratch.reserve(&s.gradCodes, kk * chunk * p)
            if inputGrid != nil {
                LowPrecisionScratch.reserve(&rowsU8, chunk * p * r)
                LowPrecisionScratch.reserve(&s.accW, r * kk)
            }
            if weightScale != nil { LowPrecisionScratch.reserve(&s.accX, r * chunk * p) }
        case .float: break
        }
        // Bias gradient: Σ Q(dY) per channel (s_g · Σ codes for g8, exact in integers).
        var biasGrad = [Float](repeating: 0, count: kk)
        if bias != nil {
            for k in 0..<kk {
                if precision == .int8 {
                    var sum = 0
                    gq.codes.withUnsafeBufferPointer { cp in
                        for i in 0..<n { let row = cp.baseAddress! + (i * kk + k) * p; for j in 0..<p { sum &+= Int(row[j]) } }
                    }
                    biasGrad[k] = gq.scale * Float(sum)
                } else {
                    gq.values.withUnsafeBufferPointer { vp in
                        for i in 0..<n { biasGrad[k] += LayerBuffers.sum(vp.baseAddress! + (i * kk + k) * p, count: p) }
                    }
                }
            }
        }
        var target = quantized ? dq : weight.grad.data
        if !quantized { weight.grad.data = [] }   // hand the buffer to `target` without a copy
        var dxData = needsInputGradient ? dx.data : []
        if needsInputGradient { dx.data = [] }
        let codeScale = inputGrid.map { $0.step * gq.scale } ?? 0
        let dxScale = (weightScale ?? 0) * gq.scale
        let taps = g.kernelH * g.kernelW, channels = g.channels
        x.data.withUnsafeBufferPointer { xp in
        wsrc.withUnsafeBufferPointer { wp in
        gq.values.withUnsafeBufferPointer { vp in
        cols.withUnsafeMutableBufferPointer { cp in
        kmajor.withUnsafeMutableBufferPointer { kp in
        target.withUnsafeMutableBufferPointer { tp in
        dxData.withUnsafeMutableBufferPointer { dxp in
            var start = 0
            while start < n {
                let m = min(chunk, n - start), np = m * p
                if floatGradient || precision == .bf16 {
                    kMajorChunk(vp.baseAddress!, start: start, images: m, channels: kk, plane: p, into: kp.baseAddress!)
                }
                switch precision {
                case .bf16:
                    im2col(xp.baseAddress! + start * inSize, batch: m, g, into: cp.baseAddress!)
                    s.gradBits.withUnsafeMutableBufferPointer { gb in
                    s.inputBits.withUnsafeMutableBufferPointer { ib in
                    s.weightBits.withUnsafeBufferPointer { wb in
                        gq.bits.withUnsafeBufferPointer { kMajorChunk($0.baseAddress!, start: start, images: m, channels: kk, plane: p, into: gb.baseAddress!) }
                        BFloat16.convert(cp.baseAddress!, into: ib.baseAddress!, count: r * np)
                        BFloat16.gemm(transB: true, m: kk, n: r, k: np, a: gb.baseAddress!, lda: np,
                                      b: ib.baseAddress!, ldb: np, beta: 1, c: tp.baseAddress!, ldc: r)
                        if needsInputGradient {
                            BFloat16.gemm(transA: true, m: r, n: np, k: kk, a: wb.baseAddress!, lda: r,
                                          b: gb.baseAddress!, ldb: np, c: cp.baseAddress!, ldc: np)
                            col2im(cp.baseAddress!, batch: m, g, into: dxp.baseAddress! + start * inSize)
                        }
                    } } }
                case .int8:
                    s.gradCodes.withUnsafeMutableBufferPointer { gc in
                        gq.codes.withUnsafeBufferPointer { kMajorChunk($0.baseAddress!, start: start, images: m, channels: kk, plane: p, into: gc.baseAddress!) }
                        if inputGrid != nil {
                            // dQ(W)ᵀ[(ki,kj,c), K] = rowsᵀ · codes(dY)ᵀ, scattered to [K, (c,ki,kj)].
                            codes.withUnsafeBufferPointer { xc in
                            rowsU8.withUnsafeMutableBufferPointer { rp in
                            s.accW.withUnsafeMutableBufferPointer { ap in
                                im2row(xc.baseAddress! + start * inSize, batch: m, g, into: rp.baseAddress!)
                                gemmU8S8S32(transA: true, transB: true, m: r, n: kk, k: np, a: rp.baseAddress!, lda: r,
                                            b: gc.baseAddress!, ldb: np, c: ap.baseAddress!, ldc: kk)
                                for t in 0..<taps {
                                    for c in 0..<channels {
                                        let src = ap.baseAddress! + (t * channels + c) * kk
                                        let dst = tp.baseAddress! + c * taps + t
                                        for k in 0..<kk { dst[k * r] += Float(src[k]) * codeScale }
                                    }
                                }
                            } } }
                        } else {
                            im2col(xp.baseAddress! + start * inSize, batch: m, g, into: cp.baseAddress!)
                            sgemm(transB: true, m: kk, n: r, k: np, a: kp.baseAddress!, lda: np,
                                  b: cp.baseAddress!, ldb: np, beta: 1, c: tp.baseAddress!, ldc: r)
                        }
                        guard needsInputGradient else { return }
                        if weightScale != nil {
                            s.weightCodes.withUnsafeBufferPointer { wc in
                            s.accX.withUnsafeMutableBufferPointer { ap in
                                gemmS8S8S32(transA: true, m: r, n: np, k: kk, a: wc.baseAddress!, lda: r,
                                            b: gc.baseAddress!, ldb: np, c: ap.baseAddress!, ldc: np)
                                for i in 0..<(r * np) { cp[i] = Float(ap[i]) * dxScale }
                            } }
                        } else {
                            sgemm(transA: true, m: r, n: np, k: kk, a: wp.baseAddress!, lda: r,
                                  b: kp.baseAddress!, ldb: np, c: cp.baseAddress!, ldc: np)
                        }
                        col2im(cp.baseAddress!, batch: m, g, into: dxp.baseAddress! + start * inSize)
                    }
                case .float: preconditionFailure("lowPrecisionBackward: float gradients take the float path")
                }
                start += m
            }
        } } } } } } }
        if quantized { dq = target } else { weight.grad.data = target }
        if needsInputGradient { dx.data = dxData }
        if let bias { for k in 0..<kk { bias.grad.data[k] += biasGrad[k] } }
        if quantized { addStraightThrough(dq, of: weightQuantizer, into: weight, channels: kk) }
    }
}
