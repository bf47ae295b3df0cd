import Testing
import Tensors
import CTrainKernels
@testable import Quantization
@testable import Networks

/// The g8 / gbf16 backward kernels (grad_kernels.c) against their definitions, bit for
/// bit: SplitMix64's own stream, `quantize` followed by the NHWC copy, im2col +
/// `BFloat16.convert`, and the rows of the transposed convolutions.
extension VectorKernelTests {
    /// The vector draws equal `SplitMix64.next()` one by one, and leave the same state.
    @Test func splitMixFillEqualsStream() {
        for count in [0, 1, 7, 8, 9, 16, 1001] {
            var fast = SplitMix64(seed: UInt64(count) &* 0x1234_5678_9ABC), slow = fast
            var out = [UInt64](repeating: 0, count: max(count, 1))
            out.withUnsafeMutableBufferPointer { GradientQuantizer.fillDraws(&fast, $0.baseAddress!, count: count) }
            let expected = (0..<count).map { _ in slow.next() }
            #expect(Array(out.prefix(count)) == expected, "draws, count \(count)")
            #expect(fast == slow, "state after \(count) draws")
        }
    }

    /// `quantizeNHWC` = `quantize` (same seed) rearranged NHWC, with Σ codes per channel;
    /// planes of 1, 7, 49 and 196 values (every kind of 16-lane tail), NaN and ±∞.
    /// Twice in a row: both generators must advance alike. The portable form too.
    @Test func nhwcCodesEqualQuantizeRearranged() {
        for (n, k, p) in [(3, 2, 7), (5, 3, 49), (4, 6, 196), (2, 5, 1), (7, 2, 16)] {
            for vector in [true, false] {
                var g = Self.awkward(n * k * p, seed: UInt64(n * 100 + p)).map { $0.isNaN ? 0.125 : $0 }
                g = g.map { $0.isInfinite ? 2.5 : $0 }
                if n == 5 { g[11] = .nan }
                let fused = GradientQuantizer(.int8, seed: 3), plain = GradientQuantizer(.int8, seed: 3)
                fused.vectorKernel = vector
                for round in 0..<2 {
                    g.withUnsafeBufferPointer {
                        fused.quantizeNHWC($0.baseAddress!, images: n, channels: k, plane: p, values: true)
                        plain.quantize($0.baseAddress!, count: g.count)
                    }
                    #expect(fused.scale.bitPattern == plain.scale.bitPattern)
                    var codes = [Int8](repeating: 0, count: g.count), values = [Float](repeating: 0, count: g.count)
                    var sums = [Int](repeating: 0, count: k)
                    for i in 0..<n {
                        for c in 0..<k {
                            for j in 0..<p {
                                let src = (i * k + c) * p + j, dst = (i * p + j) * k + c
                                codes[dst] = plain.codes[src]; values[dst] = plain.values[src]
                                sums[c] += Int(plain.codes[src])
                            }
                        }
                    }
                    let what = "n \(n) K \(k) P \(p) vector \(vector) round \(round)"
                    #expect(fused.codes == codes, "codes, \(what)")
                    #expect(Self.bits(fused.values) == Self.bits(values), "values, \(what)")
                    #expect(fused.channelSums == sums, "channel sums, \(what)")
                }
            }
        }
    }

    /// The u8 rows of gradient codes (+128, 128 outside) and the bf16 rows (0 outside)
    /// against the definition written out, kernels 1, 3, 5 and paddings 0…4 (a transposed
    /// convolution pads by K − 1 − P).
    @Test func gradientRowsEqualDefinition() {
        // Channel counts past one 64-byte run (the AVX-512 form), and the portable loop.
        for (k, pad, h, w, c) in [(3, 2, 5, 6, 3), (3, 1, 4, 4, 2), (5, 4, 3, 7, 2), (1, 0, 3, 2, 4), (3, 0, 6, 5, 1),
                                  (3, 1, 6, 5, 32), (3, 2, 4, 4, 64), (5, 3, 3, 6, 100), (3, 1, 3, 3, 130)] {
            let n = 2, oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1, r = k * k * c
            var rng = SplitMix64(seed: UInt64(k * 10 + pad))
            let codes = (0..<(n * h * w * c)).map { _ in Int8(truncatingIfNeeded: rng.nextInt(below: 255) - 127) }
            let bits = codes.map { UInt16(bitPattern: Int16($0)) &+ 0x3F00 }
            var u8 = [UInt8](repeating: 7, count: n * oh * ow * r), b16 = [UInt16](repeating: 7, count: n * oh * ow * r)
            var portable = u8
            codes.withUnsafeBufferPointer { im2rowOffset($0.baseAddress!, batch: n, channels: c, height: h, width: w, kernel: k, padding: pad, into: &u8) }
            codes.withUnsafeBufferPointer {
                im2rowOffset($0.baseAddress!, batch: n, channels: c, height: h, width: w, kernel: k, padding: pad, into: &portable, vector: false)
            }
            #expect(portable == u8, "u8 gradient rows, portable loop, k\(k) p\(pad) \(h)×\(w)×\(c)")
            bits.withUnsafeBufferPointer { im2rowBF16($0.baseAddress!, batch: n, channels: c, height: h, width: w, kernel: k, padding: pad, into: &b16) }
            var badU8 = 0, badBF = 0
            for b in 0..<n {
                for i in 0..<oh {
                    for j in 0..<ow {
                        for ki in 0..<k {
                            for kj in 0..<k {
                                for ch in 0..<c {
                                    let ih = i - pad + ki, iw = j - pad + kj
                                    let inside = ih >= 0 && ih < h && iw >= 0 && iw < w
                                    let src = ((b * h + ih) * w + iw) * c + ch
                                    let dst = ((b * oh + i) * ow + j) * r + (ki * k + kj) * c + ch
                                    if u8[dst] != (inside ? UInt8(Int(codes[src]) + 128) : 128) { badU8 += 1 }
                                    if b16[dst] != (inside ? bits[src] : 0) { badBF += 1 }
                                }
                            }
                        }
                    }
                }
            }
            #expect(badU8 == 0, "u8 gradient rows k\(k) p\(pad) \(h)×\(w)×\(c)")
            #expect(badBF == 0, "bf16 gradient rows k\(k) p\(pad) \(h)×\(w)×\(c)")
        }
    }

    /// The u8 activation columns of the g8 weight gradient (im2col order) against the
    /// definition written out and against `im2row` transposed (the rows the weight
    /// gradient read before): the AVX-512 kernel and the portable loop; channels below,
    /// at and past the 16-, 32- (two position blocks a transpose) and 64-channel blocks,
    /// rectangular kernels, strides 1–2, paddings 0–2, output rows narrower and wider than
    /// 16 positions (blocks across rows), planes with 16- and 32-position tails. Stride 1
    /// with OW = W takes the kernel's shifted channel planes (cifar3's and fmnist2's
    /// shapes; KH ≠ KW, taps whose rows all fall outside, 1 × 1, planes of 1–13 blocks
    /// of 64 with tails); batches of 2 and 3 images.
    @Test func activationColumnsEqualDefinition() {
        for (c, h, w, kh, kw, st, pad) in [(32, 16, 16, 3, 3, 1, 1), (64, 8, 8, 3, 3, 1, 1), (5, 7, 9, 3, 2, 2, 1), (17, 20, 19, 5, 3, 1, 2),
                                           (48, 13, 35, 3, 3, 2, 0), (16, 4, 4, 3, 3, 1, 2), (3, 5, 5, 1, 1, 1, 0), (65, 6, 18, 3, 3, 1, 1),
                                           (130, 3, 3, 1, 1, 1, 0), (32, 14, 14, 3, 3, 1, 1), (1, 9, 7, 3, 3, 2, 1), (33, 5, 6, 3, 3, 1, 1),
                                           (40, 7, 7, 3, 3, 1, 1), (1, 28, 28, 3, 3, 1, 1), (24, 3, 10, 3, 5, 1, 2), (8, 4, 6, 1, 3, 1, 1),
                                           (16, 3, 3, 7, 7, 1, 3), (31, 11, 13, 5, 5, 1, 2)] {
            let g = ConvGeometry(channels: c, height: h, width: w, kernelH: kh, kernelW: kw, stride: st, padding: pad)
            let n = 2 + c % 2, oh = g.outHeight, ow = g.outWidth, np = n * oh * ow, r = g.rows
            var rng = SplitMix64(seed: UInt64(c * 31 + h))
            let codes = (0..<(n * h * w * c)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var fast = [UInt8](repeating: 0xAB, count: r * np), slow = [UInt8](repeating: 0xCD, count: r * np)
            var rows = [UInt8](repeating: 0, count: r * np)
            codes.withUnsafeBufferPointer { cp in
                im2colCodes(cp.baseAddress!, batch: n, g, into: &fast)
                portableIm2colCodes(cp.baseAddress!, batch: n, g, into: &slow)
                im2row(cp.baseAddress!, batch: n, g, into: &rows)
            }
            var bad = 0, badRows = 0
            for ch in 0..<c {
                for ki in 0..<kh {
                    for kj in 0..<kw {
                        for b in 0..<n {
                            for i in 0..<oh {
                                for j in 0..<ow {
                                    let ih = i * st - pad + ki, iw = j * st - pad + kj
                                    let inside = ih >= 0 && ih < h && iw >= 0 && iw < w
                                    let position = (b * oh + i) * ow + j
                                    let v = slow[((ch * kh + ki) * kw + kj) * np + position]
                                    if v != (inside ? codes[((b * h + ih) * w + iw) * c + ch] : 0) { bad += 1 }
                                    if v != rows[position * r + (ki * kw + kj) * c + ch] { badRows += 1 }
                                }
                            }
                        }
                    }
                }
            }
            let what = "C \(c) \(h)×\(w) kernel \(kh)×\(kw) stride \(st) padding \(pad)"
            #expect(bad == 0, "portable columns, \(what)")
            #expect(badRows == 0, "columns against im2row, \(what)")
            #expect(fast == slow, "kernel against portable columns, \(what)")
        }
    }

    /// im2col into bf16: the fused kernel against its portable definition, the
    /// geometries of `im2colAndCol2imEqualPortableLoops`.
    @Test func bf16ColumnsEqualDefinition() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: only the portable loops run")
        for (k, pad, h, w) in [(3, 1, 32, 32), (3, 1, 7, 9), (5, 2, 6, 21), (1, 0, 5, 5), (3, 0, 8, 40), (5, 0, 4, 4), (3, 2, 3, 18)] {
            let g = ConvGeometry(channels: 3, height: h, width: w, kernelH: k, kernelW: k, stride: 1, padding: pad)
            guard g.outHeight >= 1, g.outWidth >= 1 else { continue }
            let n = 2, size = n * 3 * h * w, colSize = g.rows * n * g.outHeight * g.outWidth
            // Ties of the bf16 rounding (low half exactly 0x8000, odd and even), NaN, ±∞, ±0.
            var x = Self.awkward(size, seed: UInt64(h * w + 5))
            for i in stride(from: 0, to: size, by: 7) { x[i] = Float(bitPattern: 0x3F80_8000 | (UInt32(i % 2) << 16)) }
            var scratch: [Float] = []
            var fast = [UInt16](repeating: 0xDEAD, count: colSize), slow = [UInt16](repeating: 0xBEEF, count: colSize)
            x.withUnsafeBufferPointer { xp in
                im2colBF16(xp.baseAddress!, batch: n, g, into: &fast, scratch: &scratch)
                portableIm2colBF16(xp.baseAddress!, batch: n, g, into: &slow, scratch: &scratch)
            }
            #expect(fast == slow, "im2col bf16 k\(k) p\(pad) \(h)×\(w)")
        }
    }

    /// The int32 → float epilogues of the g8 backward GEMMs against their portable loops,
    /// bit for bit: transposed (offset per column or none, overwrite or accumulate),
    /// by rows (offset per row), and plain; tails of every length below 16, values that
    /// round in Int32 → Float.
    @Test func int32EpiloguesEqualPortableLoops() {
        var rng = SplitMix64(seed: 17)
        for (rows, cols) in [(1, 1), (15, 3), (16, 32), (17, 5), (49, 64), (196, 32), (3, 129), (33, 40), (64, 17), (31, 1)] {
            let src = (0..<(rows * cols)).map { _ in Int32(truncatingIfNeeded: rng.next() >> 40) - (1 << 23) }
            let colOffsets = (0..<cols).map { _ in Int32(rng.nextInt(below: 20_000)) - 10_000 }
            let rowOffsets = (0..<rows).map { _ in Int32(rng.nextInt(below: 20_000)) - 10_000 }
            let start = (0..<(rows * cols)).map { _ in rng.nextNormal() }
            let scale: Float = 3.7e-4
            for accumulate in [false, true] {
                for useOffset in [false, true] {
                    var fast = start, slow = start, fastRows = start, slowRows = start
                    src.withUnsafeBufferPointer { sp in
                    colOffsets.withUnsafeBufferPointer { cp in
                    rowOffsets.withUnsafeBufferPointer { rp in
                        let co = useOffset ? cp.baseAddress : nil, ro = useOffset ? rp.baseAddress : nil
                        int32TransposedToFloat(sp.baseAddress!, rows: rows, columns: cols, offset: co, scale: scale,
                                               accumulate: accumulate, into: &fast, ld: rows)
                        portableInt32TransposedToFloat(sp.baseAddress!, rows: rows, columns: cols, offset: co, scale: scale,
                                                       accumulate: accumulate, into: &slow, ld: rows)
                        int32RowsToFloat(sp.baseAddress!, rows: rows, columns: cols, rowOffset: ro, scale: scale,
                                         accumulate: accumulate, into: &fastRows)
                        portableInt32RowsToFloat(sp.baseAddress!, rows: rows, columns: cols, rowOffset: ro, scale: scale,
                                                 accumulate: accumulate, into: &slowRows)
                    } } }
                    let what = "\(rows)×\(cols) accumulate \(accumulate) offset \(useOffset)"
                    #expect(Self.bits(fast) == Self.bits(slow), "transposed, \(what)")
                    #expect(Self.bits(fastRows) == Self.bits(slowRows), "rows, \(what)")
                    // The definition itself, one element.
                    let (r, c) = (rows - 1, cols - 1)
                    let v = Float(src[r * cols + c] - (useOffset ? colOffsets[c] : 0)) * scale
                    #expect(slow[c * rows + r] == (accumulate ? start[c * rows + r] + v : v), "definition, \(what)")
                }
            }
            var plain = [Float](repeating: .nan, count: rows * cols)
            src.withUnsafeBufferPointer { int32ToFloat($0.baseAddress!, count: rows * cols, scale: scale, into: &plain) }
            #expect(Self.bits(plain) == Self.bits(src.map { Float($0) * scale }), "plain \(rows)×\(cols)")
        }
    }

    /// The AVX-512 max |g| of the g8 scale equals `Kernels.absMax`: NaN skipped, ±∞ kept,
    /// −0, every tail length, all-NaN input (0).
    @Test func absMaxKernelEqualsDefinition() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: only the portable loop runs")
        for n in [1, 15, 16, 17, 63, 64, 65, 1000] {
            for seed in 0..<UInt64(4) {
                var g = Self.awkward(n, seed: seed &* 31 &+ UInt64(n))
                if seed == 1 { g = g.map { $0.isInfinite ? 0.25 : $0 } }
                if seed == 2 { g = g.map { _ in Float.nan } }
                let fast = g.withUnsafeBufferPointer { ql_abs_max_avx512($0.baseAddress, n) }
                let slow = g.withUnsafeBufferPointer { Quantization.Kernels.absMax($0.baseAddress!, count: n) }
                #expect(fast.bitPattern == slow.bitPattern, "n \(n) seed \(seed): \(fast) vs \(slow)")
            }
        }
    }
}
