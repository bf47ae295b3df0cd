import Testing
import Tensors
import CBitKernels
@testable import Networks

/// The packed engine's kernels on sign bits and codes (CBitKernels: `ql_xnor_conv` through
/// `BinaryConvolution`, `ql_maxpool_bits` and `ql_maxpool_codes` through `PackedMaxPool`,
/// `ql_bits_to_floats` through `ToFloatStep`) against plain definitions written value by
/// value: channel counts 1, 31, 32, 33, 64, 70 (tails of a 32-bit word, one and
/// several words per position, odd and even words per sample), padding 0–2, strides 1–2.
@Suite struct PackedBitKernelTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        let c, h, w, k, stride, pad: Int
        var testDescription: String { "C\(c) \(h)×\(w) k\(k) s\(stride) p\(pad)" }
    }

    static let shapes = [
        Shape(c: 32, h: 6, w: 6, k: 3, stride: 1, pad: 1),
        Shape(c: 1, h: 5, w: 7, k: 3, stride: 1, pad: 1),
        Shape(c: 31, h: 4, w: 5, k: 2, stride: 2, pad: 0),
        Shape(c: 33, h: 7, w: 3, k: 3, stride: 2, pad: 2),
        Shape(c: 64, h: 5, w: 5, k: 3, stride: 1, pad: 1),
        Shape(c: 70, h: 3, w: 4, k: 1, stride: 1, pad: 0),
    ]

    /// n samples of random ±1 values [n][h][w][c] and their NHWC sign bits (zeros past C
    /// and in the padding word).
    static func signs(_ s: Shape, n: Int, rng: inout SplitMix64) -> (values: [Bool], words: [UInt64], geometry: BitGeometry) {
        let g = BitGeometry([s.c, s.h, s.w])
        let values = (0..<(n * s.h * s.w * s.c)).map { _ in rng.next() & 1 == 1 }
        var half = [UInt32](repeating: 0, count: n * 2 * g.wordsPerSample)
        for b in 0..<n {
            for p in 0..<(s.h * s.w) {
                for ch in 0..<s.c where values[(b * s.h * s.w + p) * s.c + ch] {
                    half[b * 2 * g.wordsPerSample + p * g.wordsPerPosition + ch / 32] |= 1 << UInt32(ch % 32)
                }
            }
        }
        let words = (0..<(half.count / 2)).map { UInt64(half[2 * $0]) | UInt64(half[2 * $0 + 1]) << 32 }
        return (values, words, g)
    }

    /// `BinaryConvolution` on every level this CPU runs against the ±1 definition
    /// Σ x·w over the taps inside the image, for its int32 output and for its fused sign
    /// output ((Float)dot · scale + bias ≥ 0; one bias cancels a product exactly, one is
    /// NaN); filter counts 1, 17, 48, 64, 70 and 130 (tails of 16-filter registers and of
    /// 64-filter passes), an odd sample's padding word zeroed.
    @Test(arguments: shapes)
    func binaryConvolutionMatchesTheDefinition(_ s: Shape) {
        var rng = SplitMix64(seed: UInt64(s.c * 31 + s.h))
        let n = 2
        let (values, x, gi) = Self.signs(s, n: n, rng: &rng)
        let g = ConvGeometry(channels: s.c, height: s.h, width: s.w, kernelH: s.k, kernelW: s.k, stride: s.stride, padding: s.pad)
        let k = [48, 1, 17, 130, 64, 70][Self.shapes.firstIndex { $0.c == s.c }!], taps = s.k * s.k, p = g.outHeight * g.outWidth
        let codes = (0..<(k * g.rows)).map { _ in rng.next() & 1 == 1 ? Int32(1) : -1 }
        let conv = BinaryConvolution(codes: codes, filters: k, geometry: g)
        var dots = [Int32](repeating: 0, count: n * p * k)
        for b in 0..<n {
            for i in 0..<g.outHeight {
                for j in 0..<g.outWidth {
                    for f in 0..<k {
                        var dot: Int32 = 0
                        for t in 0..<taps {
                            let ih = i * s.stride - s.pad + t / s.k, iw = j * s.stride - s.pad + t % s.k
                            guard ih >= 0 && ih < s.h && iw >= 0 && iw < s.w else { continue }
                            for ch in 0..<s.c {
                                let xv: Int32 = values[((b * s.h + ih) * s.w + iw) * s.c + ch] ? 1 : -1
                                dot += xv * codes[f * g.rows + ch * taps + t]
                            }
                        }
                        dots[(b * p + i * g.outWidth + j) * k + f] = dot
                    }
                }
            }
        }
        let scale = (0..<k).map { _ in Float(rng.nextInt(below: 1000) + 1) / 300 }
        var bias = (0..<k).map { _ in rng.nextNormal() * 4 }
        bias[0] = -Float(dots[0]) * scale[0]                      // (Float)dot · scale + bias = 0 exactly: bit 1
        if k > 2 { bias[k - 1] = .nan }
        let go = BitGeometry([k, g.outHeight, g.outWidth])
        var expected = [UInt32](repeating: 0, count: n * 2 * go.wordsPerSample)
        for b in 0..<n {
            for q in 0..<p {
                for f in 0..<k where Float(dots[(b * p + q) * k + f]) * scale[f] + bias[f] >= 0 {
                    expected[b * 2 * go.wordsPerSample + q * go.wordsPerPosition + f / 32] |= 1 << UInt32(f % 32)
                }
            }
        }
        for level in XNORLevel.allCases where level.isSupported {
            var out = [Int32](repeating: 77, count: n * p * (k + 2))
            var bits = [UInt32](repeating: 0xDEAD_BEEF, count: expected.count)
            x.withUnsafeBufferPointer { xb in
                UnsafeRawPointer(xb.baseAddress!).withMemoryRebound(to: UInt32.self, capacity: 2 * xb.count) { xp in
                    conv.run(xp, batch: n, input: gi, into: &out, ldo: k + 2, level: level)
                    conv.runSigns(xp, batch: n, input: gi, scale: scale, bias: bias, into: &bits, output: go, level: level)
                }
            }
            var wrong = 0, touched = 0
            for r in 0..<(n * p) {
                for f in 0..<(k + 2) {
                    if f < k { if out[r * (k + 2) + f] != dots[r * k + f] { wrong += 1 } } else if out[r * (k + 2) + f] != 77 { touched += 1 }
                }
            }
            #expect(wrong == 0, "\(level.name): \(wrong) dot products differ from the definition")
            #expect(touched == 0, "\(level.name): \(touched) values past the filters written")
            #expect(bits == expected, "\(level.name): sign bits differ from the definition")
        }
    }

    @Test(arguments: shapes)
    func maxPoolOfBitsIsTheOrOfTheWindow(_ s: Shape) {
        var rng = SplitMix64(seed: UInt64(s.c * 17 + s.w))
        let n = 3
        let (values, x, gi) = Self.signs(s, n: n, rng: &rng)
        for window in [PoolWindow(size: 2, stride: 2), PoolWindow(size: 3, stride: 1)] where window.outSize(s.h) > 0 && window.outSize(s.w) > 0 {
            let oh = window.outSize(s.h), ow = window.outSize(s.w)
            let pool = PackedMaxPool(name: "pool", window: window, input: .bits(shape: [s.c, s.h, s.w]))
            let source = ActivationBuffer(), out = ActivationBuffer()
            source.bits = x
            out.bits = [UInt64](repeating: ~0, count: n * BitGeometry([s.c, oh, ow]).wordsPerSample)
            pool.run(source, batch: n, into: out)
            let go = BitGeometry([s.c, oh, ow])
            var expected = [UInt64](repeating: 0, count: n * go.wordsPerSample)
            for b in 0..<n {
                for y in 0..<oh {
                    for xo in 0..<ow {
                        for ch in 0..<s.c {
                            var any = false
                            for u in 0..<window.size {
                                for v in 0..<window.size { any = any || values[((b * s.h + y * window.stride + u) * s.w + xo * window.stride + v) * s.c + ch] }
                            }
                            let bit = (b * 2 * go.wordsPerSample + (y * ow + xo) * go.wordsPerPosition) * 32 + ch
                            if any { expected[bit / 64] |= UInt64(1) << UInt64(bit % 64) }
                        }
                    }
                }
            }
            #expect(Array(out.bits.prefix(expected.count)) == expected, "window \(window.size) stride \(window.stride)")
        }
    }

    @Test(arguments: shapes)
    func maxPoolOfCodesIsTheWindowMaximum(_ s: Shape) {
        var rng = SplitMix64(seed: UInt64(s.c * 13 + s.h))
        let n = 2
        let codes = (0..<(n * s.h * s.w * s.c)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let window = PoolWindow(size: 2, stride: 2)
        let oh = window.outSize(s.h), ow = window.outSize(s.w)
        guard oh > 0 && ow > 0 else { return }
        let pool = PackedMaxPool(name: "pool", window: window, input: .codes(shape: [s.c, s.h, s.w], grid: ActivationGrid(clip: 1, maxCode: 255)))
        let source = ActivationBuffer(), out = ActivationBuffer()
        source.codes = codes
        pool.run(source, batch: n, into: out)
        var wrong = 0
        for b in 0..<n {
            for y in 0..<oh {
                for xo in 0..<ow {
                    for ch in 0..<s.c {
                        var m: UInt8 = 0
                        for u in 0..<2 { for v in 0..<2 { m = max(m, codes[((b * s.h + 2 * y + u) * s.w + 2 * xo + v) * s.c + ch]) } }
                        if out.codes[((b * oh + y) * ow + xo) * s.c + ch] != m { wrong += 1 }
                    }
                }
            }
        }
        #expect(wrong == 0, "\(wrong) pooled codes differ from the window maximum")
    }

    @Test(arguments: shapes)
    func signBitsToFloatsAreTheirValues(_ s: Shape) {
        var rng = SplitMix64(seed: UInt64(s.c * 7 + s.w))
        let n = 3
        let (values, x, _) = Self.signs(s, n: n, rng: &rng)
        let step = ToFloatStep(from: .bits(shape: [s.c, s.h, s.w]))
        let source = ActivationBuffer(), out = ActivationBuffer()
        source.bits = x
        step.run(source, batch: n, into: out)
        var expected = [Float](repeating: 0, count: n * s.c * s.h * s.w)
        for b in 0..<n {
            for p in 0..<(s.h * s.w) {
                for ch in 0..<s.c { expected[(b * s.c + ch) * s.h * s.w + p] = values[(b * s.h * s.w + p) * s.c + ch] ? 1 : -1 }
            }
        }
        #expect(out.floats.shape == [n, s.c, s.h, s.w])
        #expect(out.floats.data == expected)
    }

    @Test(arguments: shapes)
    func codesToFloatsAreTheirValues(_ s: Shape) {
        var rng = SplitMix64(seed: UInt64(s.c * 5 + s.h))
        let n = 3, positions = s.h * s.w
        let codes = (0..<(n * positions * s.c)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let grid = ActivationGrid(clip: 2.5, maxCode: 255)
        let step = ToFloatStep(from: .codes(shape: [s.c, s.h, s.w], grid: grid))
        let source = ActivationBuffer(), out = ActivationBuffer()
        source.codes = codes
        step.run(source, batch: n, into: out)
        var expected = [Float](repeating: 0, count: n * s.c * positions)
        for b in 0..<n {
            for p in 0..<positions {
                for ch in 0..<s.c { expected[(b * s.c + ch) * positions + p] = grid.step * Float(codes[(b * positions + p) * s.c + ch]) }
            }
        }
        #expect(out.floats.shape == [n, s.c, s.h, s.w])
        #expect(out.floats.data == expected)
    }
}
