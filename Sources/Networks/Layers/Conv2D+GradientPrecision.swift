import Tensors
import Quantization

// The backward pass of a convolution with `gbf16` or `g8` gradients (see
// `GradientPrecision`). Legend as in Conv2D.swift; per chunk of m images, np = m·P:
//
//   gbf16:  dQ(W) += bf16(dY)[K, np] · bf16(cols)ᵀ       dcols = bf16(Q(W))ᵀ · bf16(dY)
//   g8:     dQ(W) += s_x·s_g · rows(codes x)ᵀ · codes(dY)     (u8 × s8 → s32; when the
//             forward ran in integers, else a float GEMM over s_g·codes(dY))
//           dx = s_w·s_g · (rows(codes dY) ⊛ flipped codes(W))  (stride 1: the transposed
//             convolution, u8 × s8 → s32 over K·KH·KW, straight into the input's shape)
//           or dcols = s_w·s_g · codes(W)ᵀ · codes(dY) and col2im (other strides), or a
//             float GEMM over Q(W) (per-channel scales)
//
// g8 quantizes dY once, straight into NHWC codes (`GradientQuantizer.quantizeNHWC`):
// the layout both integer GEMMs read, with the bias gradient's code sums on the way.
// From pooling routes it does so a chunk at a time, just before the chunk's GEMMs read
// the codes (the same codes: each value's draw is fixed by its position in the batch).
// The transposed convolution replaced dcols = codes(W)ᵀ · codes(dY) (inner dimension
// only K: oneDNN ran it at 20–45 GOP/s against 130–290 for the transposed convolution,
// cifar3 conv2/conv3 shapes, one thread) and its col2im over R × np int32 columns.
//
// Every use of dY, the bias gradient included, reads Q(dY): the result equals the
// float backward applied to Q(dY) (and, for bf16, to the bf16-rounded operands) up to
// float summation order. Tests check that, and the float path against finite differences.

extension Conv2D {
    /// The g8 backward from the pooled gradient and routes of a fused [relu →] quantize →
    /// maxpool 2 run above this conv (`Sequential.backward`): the codes of dY come straight
    /// from them (`GradientQuantizer.quantizeNHWC(pooled:)`), dY itself is never written.
    func backwardFromRoutesG8(input x: Tensor, routes: [UInt8], pooledGradient dy: Tensor, into dx: inout Tensor,
                              needsInputGradient: Bool) {
        lowPrecisionBackward(input: x, gradient: dy, routes: routes, into: &dx, needsInputGradient: needsInputGradient)
    }

    /// `routes` (g8 only): dy is the pooled gradient [n, K, OH/2, OW/2] of a 2×2 stride-2
    /// pooling whose routes spread it over the output (`backwardFromRoutesG8`).
    func lowPrecisionBackward(input x: Tensor, gradient dy: Tensor, routes: [UInt8]? = nil, into dx: inout Tensor,
                              needsInputGradient: Bool) {
        let n = x.shape[0]
        let g = geometry(Array(x.shape.dropFirst()))
        let p = g.outHeight * g.outWidth, r = g.rows, kk = filters
        let chunk = chunkSize(batch: n, rows: r, plane: p)
        let inSize = g.channels * g.height * g.width
        let gq = gradientQuantizer, precision = gq.precision
        let quantized = weightQuantizer.transformsWeights
        if quantized && dq.count != kk * r { dq = [Float](repeating: 0, count: kk * r) }
        if quantized { dq.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        if cols.count < r * chunk * p { cols = [Float](repeating: 0, count: r * chunk * p) }
        let wsrc = quantized ? qweight : weight.value.data
        let s = lowPrecision
        let taps = g.kernelH * g.kernelW, channels = g.channels
        // Which GEMMs run in integers (g8).
        var weightScale: Float?
        if precision == .int8 && needsInputGradient {
            weightScale = wsrc.withUnsafeBufferPointer {
                s.loadWeightCodes($0.baseAddress!, count: kk * r, precision: weightQuantizer.precision, scales: weightQuantizer.scales)
            }
            if !CPUDispatch.int8GEMMIsExact(maxA: 255, maxB: 127, k: kk) { weightScale = nil }
        }
        // The input gradient as a transposed convolution (stride 1, padding < kernel).
        let transposable = needsInputGradient && g.stride == 1 && g.padding < g.kernelH
        let transposed = transposable && (precision == .bf16 || (weightScale != nil
            && CPUDispatch.int8GEMMIsExact(maxA: 255, maxB: 127, k: kk * taps)))
        var inputGrid: ActivationGrid?
        if precision == .int8, lastForwardWasInteger, let grid = lastGrid, codes.count >= n * inSize,
           CPUDispatch.int8GEMMIsExact(maxA: grid.maxCode, maxB: 127, k: chunk * p) {
            inputGrid = grid
        }
        lastBackwardInteger = (inputGrid != nil, weightScale != nil)
        let floatGradient = precision == .int8 && (inputGrid == nil || (needsInputGradient && weightScale == nil))
        // The float weight gradient (input not in codes) of a first layer: the direct form.
        let direct = precision == .int8 && inputGrid == nil && usesDirectWeightGradient(g)
        lastWeightGradientWasDirect = direct
        if needsInputGradient {
            dx.reshapeForOverwrite(x.shape)
            if !transposed { dx.fill(0) }   // the transposed convolution writes every element
        }
        dy.data.withUnsafeBufferPointer { dp in
            if precision == .int8 {
                // s_g·codes for the float GEMMs come per chunk (below), into a buffer that
                // stays in cache: written whole here they were a pass of 4 bytes a value
                // through memory (cifar3's conv1: 8 MB a step).
                // From pooling routes the codes come chunk by chunk, in the loop below.
                if let routes {
                    precondition(dy.count * 4 == n * kk * p && routes.count == dy.count,
                                 "\(name): pooled gradient \(dy.shape) does not match the last fused forward")
                } else {
                    gq.quantizeNHWC(dp.baseAddress!, images: n, channels: kk, plane: p, values: false)
                }
            } else {
                precondition(routes == nil, "\(name): only g8 takes its gradient from pooling routes")
                gq.quantize(dp.baseAddress!, count: dy.count)
            }
        }
        switch precision {
        case .bf16:
            LowPrecisionScratch.reserve(&s.gradBits, kk * chunk * p)
            LowPrecisionScratch.reserve(&s.inputBits, r * chunk * p)
            LowPrecisionScratch.reserve(&s.weightBits, kk * r)
            wsrc.withUnsafeBufferPointer { wp in
                s.weightBits.withUnsafeMutableBufferPointer { BFloat16.convert(wp.baseAddress!, into: $0.baseAddress!, count: kk * r) }
            }
            if transposed {
                LowPrecisionScratch.reserve(&s.flippedBits, channels * taps * kk)
                s.weightBits.withUnsafeBufferPointer { wb in
                    s.flippedBits.withUnsafeMutableBufferPointer {
                        flippedFilters(wb.baseAddress!, filters: kk, channels: channels, kernel: kernel, into: $0.baseAddress!)
                    }
                }
            }
        case .int8:
            if inputGrid != nil {
                LowPrecisionScratch.reserve(&rowsU8, chunk * p * r)
                LowPrecisionScratch.reserve(&s.accW, r * kk)
                LowPrecisionScratch.reserve(&s.accWTotal, r * kk)
            }
            if transposed {
                LowPrecisionScratch.reserve(&s.gradRows, chunk * g.height * g.width * taps * kk)
                LowPrecisionScratch.reserve(&s.accX, chunk * inSize)
                loadFlippedCodes(channels: channels, taps: taps)
            } else if weightScale != nil {
                LowPrecisionScratch.reserve(&s.accX, r * chunk * p)
            }
            if floatGradient && s.floatColumns.count < chunk * p * kk {
                s.floatColumns = [Float](repeating: 0, count: chunk * p * kk)
            }
            if direct { reserveDirectScratch(g, nhwc: false) }
        case .float: break
        }
        // The buffer is handed over, not shared (a shared one was copied on the first write).
        var target: [Float] = []
        if quantized { swap(&target, &dq) } else { swap(&target, &weight.grad.data) }
        var dxData = needsInputGradient ? dx.data : []
        if needsInputGradient { dx.data = [] }
        // The integer weight gradient sums the chunks' GEMMs in int32 (exact while
        // maxCode·127·(positions summed) < 2³¹; else it is flushed to float first).
        var summedPositions = 0
        let maxPositions = inputGrid.map { Int(Int32.max) / max(1, $0.maxCode * 127) } ?? 0
        x.data.withUnsafeBufferPointer { xp in
        wsrc.withUnsafeBufferPointer { wp in
        cols.withUnsafeMutableBufferPointer { cp in
        target.withUnsafeMutableBufferPointer { tp in
        dxData.withUnsafeMutableBufferPointer { dxp in
            // The g8 passes of images start ..< start + m from their codes of Q(dY), NHWC [m·P, K]
            // (and s_g·codes where float GEMMs read them).
            func int8Chunk(_ start: Int, _ m: Int, _ gc: UnsafePointer<Int8>) {
                let np = m * p
                let dxChunk = needsInputGradient ? dxp.baseAddress! + start * inSize : nil
                let codeScale = inputGrid.map { $0.step * gq.scale } ?? 0, dxScale = (weightScale ?? 0) * gq.scale
                s.floatColumns.withUnsafeMutableBufferPointer { values in
                    let gv = values.baseAddress!
                    if floatGradient { gradientValues(gc, count: np * kk, scale: gq.scale, into: gv) }
                    if inputGrid != nil {
                        // dQ(W)ᵀ[(c,ki,kj), K] = cols · codes(dY), transposed to [K, (c,ki,kj)].
                        codes.withUnsafeBufferPointer { xc in
                        rowsU8.withUnsafeMutableBufferPointer { rp in
                        s.accW.withUnsafeMutableBufferPointer { ap in
                        s.accWTotal.withUnsafeMutableBufferPointer { total in
                            im2colCodes(xc.baseAddress! + start * inSize, batch: m, g, into: rp.baseAddress!)
                            if summedPositions > 0 && summedPositions + np > maxPositions {
                                addWeightGradient(total.baseAddress!, scale: codeScale, rows: r, into: tp.baseAddress!)
                                summedPositions = 0
                            }
                            // The first chunk of a sum writes it; the others add to it.
                            let fresh = summedPositions == 0
                            gemmU8S8S32(m: r, n: kk, k: np, a: rp.baseAddress!, lda: np,
                                        b: gc, ldb: kk, c: fresh ? total.baseAddress! : ap.baseAddress!, ldc: kk)
                            if !fresh { for i in 0..<(r * kk) { total[i] &+= ap[i] } }
                            summedPositions += np
                            if start + m == n {
                                addWeightGradient(total.baseAddress!, scale: codeScale, rows: r, into: tp.baseAddress!)
                            }
                        } } } }
                    } else if direct {
                        directWeightGradient(xp.baseAddress! + start * inSize, images: m, g, dy: gv, into: tp.baseAddress!)
                    } else {
                        im2col(xp.baseAddress! + start * inSize, batch: m, g, into: cp.baseAddress!)
                        sgemm(transA: true, transB: true, m: kk, n: r, k: np, a: gv, lda: kk,
                              b: cp.baseAddress!, ldb: np, beta: 1, c: tp.baseAddress!, ldc: r)
                    }
                    guard let dxChunk else { return }
                    if transposed {
                        transposedInputGradient(gc, images: m, g, scale: dxScale, into: dxChunk)
                    } else if weightScale != nil {
                        s.weightCodes.withUnsafeBufferPointer { wc in
                        s.accX.withUnsafeMutableBufferPointer { ap in
                            gemmS8S8S32(transA: true, transB: true, m: r, n: np, k: kk, a: wc.baseAddress!, lda: r,
                                        b: gc, ldb: kk, c: ap.baseAddress!, ldc: np)
                            int32ToFloat(ap.baseAddress!, count: r * np, scale: dxScale, into: cp.baseAddress!)
                        } }
                        col2im(cp.baseAddress!, batch: m, g, into: dxChunk)
                    } else {
                        sgemm(transA: true, transB: true, m: r, n: np, k: kk, a: wp.baseAddress!, lda: r,
                              b: gv, ldb: kk, c: cp.baseAddress!, ldc: np)
                        col2im(cp.baseAddress!, batch: m, g, into: dxChunk)
                    }
                }
            }
            if precision == .int8, let routes {
                dy.data.withUnsafeBufferPointer { dp in
                    routes.withUnsafeBufferPointer { rp in
                        gq.quantizeNHWC(pooled: dp.baseAddress!, routes: rp.baseAddress!, images: n, channels: kk,
                                        height: g.outHeight, width: g.outWidth, chunk: chunk, int8Chunk)
                    }
                }
                return
            }
            var start = 0
            while start < n {
                let m = min(chunk, n - start), np = m * p
                let dxChunk = needsInputGradient ? dxp.baseAddress! + start * inSize : nil
                switch precision {
                case .bf16:
                    s.gradBits.withUnsafeMutableBufferPointer { gb in
                    s.inputBits.withUnsafeMutableBufferPointer { ib in
                    s.weightBits.withUnsafeBufferPointer { wb in
                        gq.bits.withUnsafeBufferPointer { kMajorChunk($0.baseAddress!, start: start, images: m, channels: kk, plane: p, into: gb.baseAddress!) }
                        im2colBF16(xp.baseAddress! + start * inSize, batch: m, g, into: ib.baseAddress!, scratch: &s.floatColumns)
                        BFloat16.gemm(transB: true, m: kk, n: r, k: np, a: gb.baseAddress!, lda: np,
                                      b: ib.baseAddress!, ldb: np, beta: 1, c: tp.baseAddress!, ldc: r)
                        if let dxChunk, transposed {
                            gq.bits.withUnsafeBufferPointer {
                                transposedInputGradientBF16($0.baseAddress!, start: start, images: m, g, into: dxChunk)
                            }
                        } else if let dxChunk {
                            BFloat16.gemm(transA: true, m: r, n: np, k: kk, a: wb.baseAddress!, lda: r,
                                          b: gb.baseAddress!, ldb: np, c: cp.baseAddress!, ldc: np)
                            col2im(cp.baseAddress!, batch: m, g, into: dxChunk)
                        }
                    } } }
                case .int8:
                    gq.codes.withUnsafeBufferPointer { int8Chunk(start, m, $0.baseAddress! + start * p * kk) }
                case .float: preconditionFailure("lowPrecisionBackward: float gradients take the float path")
                }
                start += m
            }
        } } } } }
        if quantized { dq = target } else { weight.grad.data = target }
        if needsInputGradient { dx.data = dxData }
        // Bias gradient: Σ Q(dY) per channel (s_g · Σ codes for g8, exact in integers).
        if let bias {
            for k in 0..<kk {
                var sum: Float = 0
                if precision == .int8 {
                    sum = gq.scale * Float(gq.channelSums[k])
                } else {
                    gq.values.withUnsafeBufferPointer { vp in
                        for i in 0..<n { sum += LayerBuffers.sum(vp.baseAddress! + (i * kk + k) * p, count: p) }
                    }
                }
                bias.grad.data[k] += sum
            }
        }
        if quantized { addStraightThrough(dq, of: weightQuantizer, into: weight, channels: kk) }
    }

    /// dQ(W)[k, (c, ki, kj)] += scale · acc[(c, ki, kj), k]: the integer weight gradient
    /// of the chunks summed so far, in the weights' layout (the next chunk's GEMM then
    /// overwrites acc: no zeroing pass).
    private func addWeightGradient(_ acc: UnsafePointer<Int32>, scale: Float, rows r: Int,
                                   into dst: UnsafeMutablePointer<Float>) {
        int32TransposedToFloat(acc, rows: r, columns: filters, scale: scale, accumulate: true, into: dst, ld: r)
    }

    /// The flipped weight codes of the transposed convolution (`flippedFilters` of
    /// `weightCodes`) and compensation[c] = 128 · Σ flipped[c, ·] (the + 128 of the u8
    /// gradient rows).
    private func loadFlippedCodes(channels: Int, taps: Int) {
        let s = lowPrecision, kk = filters, row = taps * kk
        LowPrecisionScratch.reserve(&s.flippedCodes, channels * row)
        LowPrecisionScratch.reserve(&s.compensation, channels)
        s.weightCodes.withUnsafeBufferPointer { wc in
        s.flippedCodes.withUnsafeMutableBufferPointer { fp in
        s.compensation.withUnsafeMutableBufferPointer { comp in
            flippedFilters(wc.baseAddress!, filters: kk, channels: channels, kernel: kernel, into: fp.baseAddress!)
            for c in 0..<channels {
                var sum: Int32 = 0
                for i in 0..<row { sum &+= Int32(fp[c * row + i]) }
                comp[c] = 128 &* sum
            }
        } } }
    }

    /// gbf16 dx of m images (NCHW, overwritten) = the transposed convolution of bf16(dY)
    /// (chunk images start..<start + m of the NCHW bits) with the flipped bf16(Q(W)):
    /// one bf16 GEMM [m·H·W, KH·KW·K] × [KH·KW·K, C], fp32 accumulation, then to NCHW.
    /// (The dcols GEMM it replaces, inner dimension K, ran 2.7–4× slower: cifar3 conv2
    /// and conv3 shapes, oneDNN, one thread; and it saves the col2im.)
    private func transposedInputGradientBF16(_ bits: UnsafePointer<UInt16>, start: Int, images m: Int, _ g: ConvGeometry,
                                             into dx: UnsafeMutablePointer<Float>) {
        let s = lowPrecision, kk = filters, c = g.channels, hw = g.height * g.width, p = g.outHeight * g.outWidth
        let row = g.kernelH * g.kernelW * kk
        LowPrecisionScratch.reserve(&s.gradBitsNHWC, m * p * kk)
        LowPrecisionScratch.reserve(&s.gradRowBits, m * hw * row)
        if s.transposedOut.count < m * hw * c { s.transposedOut = [Float](repeating: 0, count: m * hw * c) }
        s.gradBitsNHWC.withUnsafeMutableBufferPointer { gn in
        s.gradRowBits.withUnsafeMutableBufferPointer { rp in
        s.flippedBits.withUnsafeBufferPointer { fp in
        s.transposedOut.withUnsafeMutableBufferPointer { op in
            nhwcChunk(bits, start: start, images: m, channels: kk, plane: p, into: gn.baseAddress!)
            im2rowBF16(gn.baseAddress!, batch: m, channels: kk, height: g.outHeight, width: g.outWidth,
                       kernel: g.kernelH, padding: g.kernelH - 1 - g.padding, into: rp.baseAddress!)
            BFloat16.gemm(transB: true, m: m * hw, n: c, k: row, a: rp.baseAddress!, lda: row,
                          b: fp.baseAddress!, ldb: row, c: op.baseAddress!, ldc: c)
            for i in 0..<m {
                let src = op.baseAddress! + i * hw * c, dst = dx + i * c * hw
                for ch in 0..<c {
                    let d = dst + ch * hw
                    for j in 0..<hw { d[j] = src[j * c + ch] }
                }
            }
        } } } }
    }

    /// dx of m images (NCHW, overwritten) = scale · Σ over (ki, kj, k) of
    /// codes(dY)[i + ki − P', j + kj − P', k] · flipped[c, (ki, kj, k)], P' = KH − 1 − P:
    /// one u8 × s8 GEMM [m·H·W, KH·KW·K] × [KH·KW·K, C] on the + 128 rows, less the
    /// compensation, then the scale on the way to NCHW. Exact in integers.
    private func transposedInputGradient(_ gc: UnsafePointer<Int8>, images m: Int, _ g: ConvGeometry, scale: Float,
                                         into dx: UnsafeMutablePointer<Float>) {
        let s = lowPrecision, kk = filters, c = g.channels, hw = g.height * g.width
        let row = g.kernelH * g.kernelW * kk
        s.gradRows.withUnsafeMutableBufferPointer { rp in
        s.flippedCodes.withUnsafeBufferPointer { fp in
        s.compensation.withUnsafeBufferPointer { comp in
        s.accX.withUnsafeMutableBufferPointer { ap in
            im2rowOffset(gc, batch: m, channels: kk, height: g.outHeight, width: g.outWidth,
                         kernel: g.kernelH, padding: g.kernelH - 1 - g.padding, into: rp.baseAddress!)
            gemmU8S8S32(transB: true, m: m * hw, n: c, k: row, a: rp.baseAddress!, lda: row,
                        b: fp.baseAddress!, ldb: row, c: ap.baseAddress!, ldc: c)
            // [m, H·W, C] → [m, C, H·W].
            for i in 0..<m {
                int32TransposedToFloat(ap.baseAddress! + i * hw * c, rows: hw, columns: c, offset: comp.baseAddress!,
                                       scale: scale, accumulate: false, into: dx + i * c * hw, ld: hw)
            }
        } } } }
    }
}
