import Tensors
import Quantization
import CTrainKernels

// The integer forward of a convolution (see IntegerForward.swift), and the
// [relu →] quantize → maxpool 2 run above it taken into its epilogue (issue 11).
//
// Unfused, the int32 result became the float output y (scale, bias, the batch maximum
// for the clip), which the quantize-pool pass read back, and the next integer layer
// turned the pooled floats into its u8 codes. Fused:
//   uniform (after a ReLU): pass 1 keeps the whole batch's int32 accumulators and their
//     per-channel maximum; max y = max over channels of s·(max acc − offset) + b (the
//     epilogue's float operations, monotone in acc for a finite scale s > 0 and a finite
//     bias: the same float), which sets the clip; pass 2 (`QuantKernels.int32QuantizePool2`)
//     computes each y from its accumulator as the epilogue does, quantizes and pools it.
//   sign: no clip, one pass, chunk by chunk while the accumulators are in cache.
// Either way y is never written (the backward reads the routes and this layer's input,
// not its output), and the pass also writes the next conv's input codes when it takes
// them (`receiveInputCodes`). A zero maximum (its sign depends on the order the
// unfused pass met the values) writes y and leaves the run to the unfused path.

/// A [relu →] quantize → maxpool 2 run above a Conv2D that `Sequential` offers its forward,
/// and the conv after the run (nil if none), which may take its input codes from it.
struct IntegerQuantPool {
    let quantize: QuantizeActivation, pool: MaxPool, afterReLU: Bool
    let next: Conv2D?
}

extension Conv2D {
    /// y = (s_x·s_w[k]) · (codes(x) ⊛ codes(W) − offset[k]) + b through `gemmU8S8S32`
    /// (offset: the row sums of codes(W) for sign inputs, else 0; see IntegerForward.swift).
    /// Nil when an input or weight value is off its grid: nothing is written beyond y's
    /// shape. Else whether `quantPool` ran (true: its pooled output into `pooled`,
    /// `pool.routes`, perhaps the next conv's codes; y not written) or y was written
    /// (false; `maximum`, nil: skipped, becomes the largest of itself and every y, NaN
    /// ignored). `preloaded`: what the codes the layer below left in `codes` stand for.
    func integerForward(_ x: Tensor, into y: inout Tensor, input: IntegerInput, preloaded: IntegerInput?,
                        _ g: ConvGeometry, maximum: UnsafeMutablePointer<Float>?, quantPool: IntegerQuantPool?,
                        pooled: inout Tensor, training: Bool) -> Bool? {
        let n = x.shape[0], p = g.outHeight * g.outWidth, r = g.rows, k = filters
        let loaded = qweight.withUnsafeBufferPointer {
            integerWeights.load($0.baseAddress!, rows: filters, channels: g.channels, kernel: kernel, scales: weightQuantizer.scales,
                                rowSums: input.isSign)
        }
        guard loaded else { return nil }
        let inSize = g.channels * g.height * g.width
        if codes.count < n * inSize { codes = [UInt8](repeating: 0, count: n * inSize) }
        lastInputCodesPreloaded = preloaded == input
        if !lastInputCodesPreloaded {
            let onGrid = x.data.withUnsafeBufferPointer { xp in
                codes.withUnsafeMutableBufferPointer { cp in
                    input.codesNHWC(xp.baseAddress!, batch: n, channels: g.channels, plane: g.height * g.width,
                                    into: cp.baseAddress!)
                }
            }
            guard onGrid else { return nil }
        }
        integerWeights.setScales(step: input.step, bias: bias?.value.data)
        let fused = quantPool.flatMap { fusedQuantizer($0, batch: n, g) }
        // Images per GEMM: the u8 row matrix within ~256 KiB. `bench layers`, conv2 int8
        // forward: 4.5 ms at 256 KiB, 4.8 at 128 KiB, 5.0 at 512 KiB, 5.5–6.1 at 2 MiB.
        let chunk = max(1, min(n, (1 << 18) / max(1, r * p)))
        // A uniform run needs the clip before any value is quantized: the whole batch's
        // accumulators, copied after the chunk's (the GEMM writing them in place, out of
        // cache, ran 1.3–1.5× slower: QUANTLAB_GEMM_PROFILE, cifar3 w8a8).
        let wholeBatch = fused is UniformActivationQuantizer
        let chunkSize = chunk * p * k, batchAt = chunkSize
        if rowsU8.count < chunk * p * r { rowsU8 = [UInt8](repeating: 0, count: chunk * p * r) }
        if acc.count < chunkSize + (wholeBatch ? n * p * k : 0) {
            acc = [Int32](repeating: 0, count: chunkSize + (wholeBatch ? n * p * k : 0))
        }
        var columnMax = [Int32](repeating: .min, count: wholeBatch ? k : 0)
        let sign = input.isSign
        guard let run = quantPool, let fused else {
            accumulate(batch: n, chunk: chunk, g, pad: input.padCode) { ap, start, m in
                // [m, P, K] int32 → [m, K, P] float, less the sign offset, scaled, plus bias.
                epilogue(sign: sign) { sp, bp, op in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        QuantKernels.epilogueTranspose(ap, batch: m, plane: p, channels: k, scale: sp, bias: bp,
                                                       offset: op, into: yp.baseAddress! + start * k * p,
                                                       maximum: maximum)
                    }
                }
            }
            return false
        }
        let oh = g.outHeight, ow = g.outWidth, poolPlane = (oh / 2) * (ow / 2)
        pooled.reshapeForOverwrite([n, k, oh / 2, ow / 2])
        if run.pool.routes.count != n * k * poolPlane { run.pool.routes = [UInt8](repeating: 4, count: n * k * poolPlane) }
        run.quantize.lastForwardAfterReLU = false
        let next = run.next?.takesInputCodes(from: fused) == true ? run.next : nil
        // One pass: a chunk's accumulators into pooled values, routes, codes.
        func pool(_ ap: UnsafePointer<Int32>, start: Int, images m: Int, _ q: Pool2Quantizer,
                  codes: UnsafeMutablePointer<UInt8>?) -> Bool {
            let at = start * k * poolPlane
            return epilogue(sign: sign) { sp, bp, op in
                pooled.data.withUnsafeMutableBufferPointer { yp in
                    run.pool.routes.withUnsafeMutableBufferPointer { rp in
                        QuantKernels.int32QuantizePool2(ap, images: m, height: oh, width: ow, channels: k, scale: sp, bias: bp,
                                                        offset: op, q, into: yp.baseAddress! + at,
                                                        routes: rp.baseAddress! + at, codes: codes.map { $0 + at })
                    }
                }
            }
        }
        guard let uniform = fused as? UniformActivationQuantizer else {
            // Sign activations: chunk by chunk.
            func signPass(_ codes: UnsafeMutablePointer<UInt8>?) -> Bool {
                var coded = true
                accumulate(batch: n, chunk: chunk, g, pad: input.padCode) { ap, start, m in
                    coded = pool(ap, start: start, images: m, .sign, codes: codes) && coded
                }
                return coded
            }
            if let next {
                next.receiveInputCodes(count: n * k * poolPlane) { signPass($0) ? .sign : nil }
            } else {
                _ = signPass(nil)
            }
            return true
        }
        accumulate(batch: n, chunk: chunk, g, pad: input.padCode) { ap, start, m in
            columnMax.withUnsafeMutableBufferPointer {
                QuantKernels.columnMaximum(ap, rows: m * p, columns: k, into: $0.baseAddress!, copy: ap + batchAt + start * p * k)
            }
        }
        // max y from the per-channel maxima (the epilogue's operations; the scales were checked finite and > 0).
        var top = -Float.infinity
        for o in 0..<k {
            let v = Float(columnMax[o] &- (sign ? integerWeights.rowSums[o] : 0)) * integerWeights.scaled[o] + integerWeights.bias[o]
            top = v > top ? v : top
        }
        guard top != 0 else {
            acc.withUnsafeBufferPointer { ap in
                epilogue(sign: sign) { sp, bp, op in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        QuantKernels.epilogueTranspose(ap.baseAddress! + batchAt, batch: n, plane: p, channels: k, scale: sp, bias: bp,
                                                       offset: op, into: yp.baseAddress!, maximum: maximum)
                    }
                }
            }
            return false
        }
        // The ReLU's output maximum: a negative one is 0 (`batchMaximum(…, afterReLU: true)`).
        guard let q = uniform.pool2Quantizer(training: training, maximum: { top < 0 ? 0 : top }) else {
            pooled.data.withUnsafeMutableBufferPointer { yp in
                run.pool.routes.withUnsafeMutableBufferPointer { rp in
                    UniformActivationQuantizer.writeNothingPasses(pooled: yp.baseAddress!, routes: rp.baseAddress!, count: yp.count)
                }
            }
            return true
        }
        let grid = ActivationGrid(clip: uniform.lastClip, maxCode: uniform.maxCode)
        acc.withUnsafeBufferPointer { ap in
            if let next {
                next.receiveInputCodes(count: n * k * poolPlane) {
                    pool(ap.baseAddress! + batchAt, start: 0, images: n, q, codes: $0) ? .grid(grid) : nil
                }
            } else {
                _ = pool(ap.baseAddress! + batchAt, start: 0, images: n, q, codes: nil)
            }
        }
        return true
    }

    /// The quantizer of `run` when this layer's integer forward may run it: the node accepts
    /// the fusion (`QuantizeActivation.fusablePool2`), the int32 gather indices fit, and for
    /// a uniform quantizer every output scale is finite and > 0 and every bias finite (y is
    /// then monotone in the accumulator, and never NaN).
    private func fusedQuantizer(_ run: IntegerQuantPool, batch n: Int, _ g: ConvGeometry) -> ActivationQuantizer? {
        guard g.outHeight * g.outWidth * filters < Int(Int32.max),
              let q = run.quantize.fusablePool2(afterReLU: run.afterReLU, pool: run.pool,
                                                shape: [n, filters, g.outHeight, g.outWidth]) else { return nil }
        if q is UniformActivationQuantizer {
            guard integerWeights.scaled.allSatisfy({ $0 > 0 && $0.isFinite }),
                  integerWeights.bias.allSatisfy({ $0.isFinite }) else { return nil }
        }
        return q
    }

    /// im2row and the u8 × s8 GEMM over `codes`, `chunk` images at a time; `body(acc, first
    /// image, images)` gets each chunk's [m, P, K] accumulators, at the start of `acc`.
    private func accumulate(batch n: Int, chunk: Int, _ g: ConvGeometry, pad: UInt8,
                            _ body: (UnsafeMutablePointer<Int32>, Int, Int) -> Void) {
        let p = g.outHeight * g.outWidth, r = g.rows, k = filters
        let inSize = g.channels * g.height * g.width
        codes.withUnsafeBufferPointer { cp in
        integerWeights.codes.withUnsafeBufferPointer { wp in
        rowsU8.withUnsafeMutableBufferPointer { rp in
        acc.withUnsafeMutableBufferPointer { ap in
            var start = 0
            while start < n {
                let m = min(chunk, n - start)
                im2row(cp.baseAddress! + start * inSize, batch: m, g, pad: pad, into: rp.baseAddress!)
                gemmU8S8S32(transB: true, m: m * p, n: k, k: r, a: rp.baseAddress!, lda: r,
                            b: wp.baseAddress!, ldb: r, c: ap.baseAddress!, ldc: k)
                body(ap.baseAddress!, start, m)
                start += m
            }
        } } } }
    }

    /// `body(scale, bias, offset)` with the epilogue's per-channel operands (offset: the
    /// weights' row sums for sign inputs, else nil).
    private func epilogue<R>(sign: Bool, _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Int32>?) -> R) -> R {
        integerWeights.scaled.withUnsafeBufferPointer { sp in
        integerWeights.bias.withUnsafeBufferPointer { bp in
        integerWeights.rowSums.withUnsafeBufferPointer { op in
            body(sp.baseAddress!, bp.baseAddress!, sign ? op.baseAddress! : nil)
        } } }
    }

    /// Whether this layer may take its input codes from a fused quantize-pool pass of
    /// `quantizer` (the one its input carries, with ≤ 8-bit quantized weights).
    func takesInputCodes(from quantizer: ActivationQuantizer) -> Bool {
        integerForward && IntegerForward.enabled && integerInput === quantizer && weightQuantizer.transformsWeights
            && IntegerWeights.maxCode(of: weightQuantizer.precision) != nil
    }

    /// Lets the layer below write this layer's input codes (NHWC) for its next forward:
    /// `write` gets room for `count` codes and returns what they stand for (nil: unusable).
    /// The next forward uses them when its input codes would stand for the same, else
    /// recomputes them; either way only once.
    func receiveInputCodes(count: Int, _ write: (UnsafeMutablePointer<UInt8>) -> IntegerInput?) {
        if codes.count < count { codes = [UInt8](repeating: 0, count: count) }
        preloadedCodes = codes.withUnsafeMutableBufferPointer { write($0.baseAddress!) }
    }
}
