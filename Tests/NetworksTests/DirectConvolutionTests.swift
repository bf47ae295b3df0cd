import Testing
import Tensors
@testable import Networks

/// `DirectConvolution` (the packed engine's first-layer kernel, CBitKernels/conv_direct.c)
/// against its definition: per output, acc = fma(x, w, acc) over the taps inside the
/// image in (c, ki, kj) order — computed here with `Float.addingProduct` (IEEE fused
/// multiply-add), so every instruction-set level must match it bit for bit — and against
/// the convolution sum in Double within float rounding. Shapes: odd widths, padding 0…2,
/// stride 1 and 2, filter counts that are not multiples of 16 (and more than one pass of 64),
/// 3-wide stride-1 kernels (their own interior path) with 16-, 32- and 64-filter passes.
@Suite struct DirectConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let c, h, w, k, kh, kw, stride, pad: Int
        var testDescription: String { "C\(c) \(h)×\(w) K\(k) \(kh)×\(kw) s\(stride) p\(pad)" }
    }

    static let cases = [
        Case(c: 1, h: 28, w: 28, k: 32, kh: 3, kw: 3, stride: 1, pad: 1),
        Case(c: 3, h: 9, w: 7, k: 17, kh: 3, kw: 3, stride: 1, pad: 1),
        Case(c: 3, h: 5, w: 11, k: 5, kh: 3, kw: 3, stride: 2, pad: 2),
        Case(c: 2, h: 6, w: 5, k: 70, kh: 2, kw: 3, stride: 1, pad: 0),
        Case(c: 1, h: 3, w: 3, k: 1, kh: 3, kw: 3, stride: 1, pad: 1),
        Case(c: 4, h: 4, w: 6, k: 33, kh: 3, kw: 3, stride: 2, pad: 1),
        Case(c: 3, h: 5, w: 13, k: 40, kh: 3, kw: 3, stride: 1, pad: 1),   // 3-wide stride-1 path, 64-filter pass
    ]

    /// The definition on n random images: per output (b, i, j, f) at ((b·OH + i)·OW + j)·ldo + f,
    /// the fused multiply-add chain, the Double sum and Σ|x·w|.
    static func definition(_ t: Case, n: Int, ldo: Int, rng: inout SplitMix64)
        -> (x: [Float], w: [Float], exact: [Float], wide: [Double], magnitude: [Double]) {
        let g = ConvGeometry(channels: t.c, height: t.h, width: t.w, kernelH: t.kh, kernelW: t.kw, stride: t.stride, padding: t.pad)
        let oh = g.outHeight, ow = g.outWidth, r = g.rows
        let x = (0..<(n * t.c * t.h * t.w)).map { _ in rng.nextNormal() }
        let w = (0..<(t.k * r)).map { _ in rng.nextNormal() }
        let (exact, wide, magnitude) = fmaChain(t, x: x, w: w, n: n, ldo: ldo)
        return (x, w, exact, wide, magnitude)
    }

    /// The definition on the n images x with weights w [K, R]: per output (b, i, j, f) at
    /// ((b·OH + i)·OW + j)·ldo + f, the fused multiply-add chain, the Double sum and Σ|x·w|.
    static func fmaChain(_ t: Case, x: [Float], w: [Float], n: Int, ldo: Int)
        -> (exact: [Float], wide: [Double], magnitude: [Double]) {
        let g = ConvGeometry(channels: t.c, height: t.h, width: t.w, kernelH: t.kh, kernelW: t.kw, stride: t.stride, padding: t.pad)
        let oh = g.outHeight, ow = g.outWidth, r = g.rows
        var exact = [Float](repeating: 0, count: n * oh * ow * ldo), wide = [Double](repeating: 0, count: exact.count)
        var magnitude = wide
        for b in 0..<n {
            for i in 0..<oh {
                for j in 0..<ow {
                    for f in 0..<t.k {
                        var acc: Float = 0, sum = 0.0, mag = 0.0
                        for c in 0..<t.c {
                            for ki in 0..<t.kh {
                                let ih = i * t.stride - t.pad + ki
                                guard ih >= 0 && ih < t.h else { continue }
                                for kj in 0..<t.kw {
                                    let iw = j * t.stride - t.pad + kj
                                    guard iw >= 0 && iw < t.w else { continue }
                                    let xv = x[((b * t.c + c) * t.h + ih) * t.w + iw], wv = w[f * r + (c * t.kh + ki) * t.kw + kj]
                                    acc = acc.addingProduct(xv, wv)
                                    sum += Double(xv) * Double(wv); mag += abs(Double(xv) * Double(wv))
                                }
                            }
                        }
                        let o = ((b * oh + i) * ow + j) * ldo + f
                        exact[o] = acc; wide[o] = sum; magnitude[o] = mag
                    }
                }
            }
        }
        return (exact, wide, magnitude)
    }

    /// Three random images, their fma definition (ldo = K) and random biases, of which one
    /// cancels output 0 of filter 0 exactly and (K > 2) the last is NaN: the fused epilogues' cases.
    static func epilogueCase(_ t: Case, seed: Int)
        -> (g: ConvGeometry, n: Int, x: [Float], w: [Float], exact: [Float], bias: [Float]) {
        var rng = SplitMix64(seed: UInt64(t.c * 1000 + t.k + seed))
        let g = ConvGeometry(channels: t.c, height: t.h, width: t.w, kernelH: t.kh, kernelW: t.kw, stride: t.stride, padding: t.pad)
        let n = 3
        let (x, w, exact, _, _) = definition(t, n: n, ldo: t.k, rng: &rng)
        var bias = (0..<t.k).map { _ in rng.nextNormal() }
        bias[0] = -exact[0]
        if t.k > 2 { bias[t.k - 1] = .nan }
        return (g, n, x, w, exact, bias)
    }

    @Test(arguments: cases)
    func matchesTheDefinitionOnEveryLevel(_ t: Case) {
        var rng = SplitMix64(seed: UInt64(t.c * 1000 + t.k))
        let g = ConvGeometry(channels: t.c, height: t.h, width: t.w, kernelH: t.kh, kernelW: t.kw, stride: t.stride, padding: t.pad)
        let n = 2, oh = g.outHeight, ow = g.outWidth
        let ldo = t.k + 3
        let (x, w, exact, wide, magnitude) = Self.definition(t, n: n, ldo: ldo, rng: &rng)
        let conv = DirectConvolution(weights: w, filters: t.k, geometry: g)
        for level: Int32 in [0, 1, 2] {
            var out = [Float](repeating: -7, count: exact.count)
            x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { conv.run(xp.baseAddress!, batch: n, into: $0.baseAddress!, ldo: ldo, level: level) }
            }
            var mismatches = 0, far = 0, untouched = 0
            for p in 0..<(n * oh * ow) {
                for f in 0..<ldo {
                    let o = p * ldo + f
                    if f >= t.k { if out[o] != -7 { untouched += 1 }; continue }
                    if out[o].bitPattern != exact[o].bitPattern { mismatches += 1 }
                    if abs(Double(out[o]) - wide[o]) > 1e-6 * magnitude[o] + 1e-30 { far += 1 }
                }
            }
            #expect(mismatches == 0, "level \(level): \(mismatches) outputs differ from the fma definition")
            #expect(far == 0, "level \(level): \(far) outputs further than 1e-6·Σ|x·w| from the Double sum")
            #expect(untouched == 0, "level \(level): \(untouched) values past the filters written")
        }
    }

    /// The sign-bit output (the fused epilogue of a layer with no operations before its
    /// sign quantizer): bit f of position p is (exact + bias[f] ≥ 0), with exact the fma
    /// definition, on every level; bits past K and an odd sample's padding word are 0.
    /// Biases include ones that cancel an output exactly (sign(0) = +1) and a NaN (bit 0).
    @Test(arguments: cases)
    func signBitsMatchTheDefinitionOnEveryLevel(_ t: Case) {
        let (g, n, x, w, exact, bias) = Self.epilogueCase(t, seed: 1)
        let positions = g.outHeight * g.outWidth
        let conv = DirectConvolution(weights: w, filters: t.k, geometry: g)
        let bits = BitGeometry([t.k, g.outHeight, g.outWidth])
        for level: Int32 in [0, 1, 2] {
            var out = [UInt32](repeating: 0xDEAD_BEEF, count: n * 2 * bits.wordsPerSample)
            x.withUnsafeBufferPointer { xp in
                bias.withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer {
                        conv.runSigns(xp.baseAddress!, batch: n, bias: bp.baseAddress!, into: $0.baseAddress!, bits: bits, level: level)
                    }
                }
            }
            var wrong = 0
            for b in 0..<n {
                for p in 0..<positions {
                    for word in 0..<bits.wordsPerPosition {
                        var expected: UInt32 = 0
                        for f in (word * 32)..<min(t.k, word * 32 + 32) where exact[(b * positions + p) * t.k + f] + bias[f] >= 0 {
                            expected |= 1 << UInt32(f - word * 32)
                        }
                        if out[b * 2 * bits.wordsPerSample + p * bits.wordsPerPosition + word] != expected { wrong += 1 }
                    }
                }
                if bits.halfWordsPerSample % 2 == 1 {
                    #expect(out[b * 2 * bits.wordsPerSample + bits.halfWordsPerSample] == 0, "level \(level): padding word of sample \(b)")
                }
            }
            #expect(wrong == 0, "level \(level): \(wrong) sign words differ from the definition")
        }
    }

    /// The u8 code output (the fused epilogue of a layer with at most a ReLU before a
    /// uniform quantizer): code of position p, filter f is roundEven(clamp(exact + bias[f],
    /// 0, clip) · inverse), at most top, NaN → 0, with exact the fma definition, on every
    /// level. Biases include one that cancels an output exactly, a NaN, and ones far
    /// past the clip (top) and below 0 (code 0).
    @Test(arguments: cases)
    func codesMatchTheDefinitionOnEveryLevel(_ t: Case) {
        let (g, n, x, w, exact, biases) = Self.epilogueCase(t, seed: 2)
        let positions = g.outHeight * g.outWidth
        var bias = biases
        if t.k > 4 { bias[1] = 100; bias[2] = -100 }
        let clip: Float = 1.7, top: Float = 255, inverse = top / clip
        let conv = DirectConvolution(weights: w, filters: t.k, geometry: g)
        var expected = [UInt8](repeating: 0, count: n * positions * t.k)
        for o in expected.indices {
            let v = exact[o] + bias[o % t.k]
            guard !v.isNaN else { continue }
            expected[o] = UInt8(min(top, (min(max(v, 0), clip) * inverse).rounded(.toNearestOrEven)))
        }
        if t.k > 4 { #expect(expected.contains(255) && expected.contains(0) && expected.contains { $0 != 0 && $0 != 255 }) }
        for level: Int32 in [0, 1, 2] {
            var out = [UInt8](repeating: 0xA5, count: expected.count + 5)
            x.withUnsafeBufferPointer { xp in
                bias.withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer {
                        conv.runCodes(xp.baseAddress!, batch: n, bias: bp.baseAddress!, clip: clip, inverse: inverse, top: top,
                                      into: $0.baseAddress!, level: level)
                    }
                }
            }
            let wrong = zip(out, expected).filter { $0 != $1 }.count
            #expect(wrong == 0, "level \(level): \(wrong) codes differ from the definition")
            #expect(out.suffix(5).allSatisfy { $0 == 0xA5 }, "level \(level): codes written past the batch")
        }
    }

    /// The AVX-512 blocks that quantize straight from their registers (whole 16-, 32- and
    /// 64-filter passes) against the portable C form (level 0, the epilogue through memory)
    /// and the fma definition, bit for bit: codes and sign bits for C = 1 … 4, filter
    /// counts 1, 5, 16, 17, 32, 33, 64, odd sizes, the 3-wide stride-1 path (padded image)
    /// and the general one (stride 2), on images holding NaN, ±∞ and −0.
    @Test(arguments: 1...4)
    func registerEpiloguesMatchThePortableForm(_ channels: Int) {
        let clip: Float = 1.7, top: Float = 255, inverse = top / clip
        for k in [1, 5, 16, 17, 32, 33, 64] {
            for (h, w, stride) in [(7, 13, 1), (5, 11, 2), (3, 17, 1)] {
                let t = Case(c: channels, h: h, w: w, k: k, kh: 3, kw: 3, stride: stride, pad: 1)
                let g = ConvGeometry(channels: channels, height: h, width: w, kernelH: 3, kernelW: 3, stride: stride, padding: 1)
                var rng = SplitMix64(seed: UInt64(channels * 100 + k + w))
                let n = 2, positions = g.outHeight * g.outWidth
                var x = (0..<(n * channels * h * w)).map { _ in rng.nextNormal() }
                for (at, v) in [(3, Float.nan), (w + 4, .infinity), (2 * w + 8, -.infinity), (x.count - 2, -0.0)] { x[at] = v }
                let weights = (0..<(k * g.rows)).map { _ in rng.nextNormal() }
                let bias = (0..<k).map { _ in rng.nextNormal() }
                let exact = Self.fmaChain(t, x: x, w: weights, n: n, ldo: k).exact
                let conv = DirectConvolution(weights: weights, filters: k, geometry: g)
                let bits = BitGeometry([k, g.outHeight, g.outWidth])
                var codes: [[UInt8]] = [], signs: [[UInt32]] = []
                for level: Int32 in [0, 2] {
                    var c = [UInt8](repeating: 0xA5, count: n * positions * k)
                    var s = [UInt32](repeating: 0xDEAD_BEEF, count: n * 2 * bits.wordsPerSample)
                    x.withUnsafeBufferPointer { xp in
                        bias.withUnsafeBufferPointer { bp in
                            c.withUnsafeMutableBufferPointer {
                                conv.runCodes(xp.baseAddress!, batch: n, bias: bp.baseAddress!, clip: clip, inverse: inverse, top: top,
                                              into: $0.baseAddress!, level: level)
                            }
                            s.withUnsafeMutableBufferPointer {
                                conv.runSigns(xp.baseAddress!, batch: n, bias: bp.baseAddress!, into: $0.baseAddress!, bits: bits, level: level)
                            }
                        }
                    }
                    codes.append(c); signs.append(s)
                }
                let expected = exact.indices.map { o -> UInt8 in
                    let v = exact[o] + bias[o % k]
                    return v.isNaN ? 0 : UInt8(min(top, (min(max(v, 0), clip) * inverse).rounded(.toNearestOrEven)))
                }
                var wrongSigns = 0
                for b in 0..<n {
                    for p in 0..<positions {
                        for word in 0..<bits.wordsPerPosition {
                            var e: UInt32 = 0
                            for f in (word * 32)..<min(k, word * 32 + 32) where exact[(b * positions + p) * k + f] + bias[f] >= 0 {
                                e |= 1 << UInt32(f - word * 32)
                            }
                            if signs[1][b * 2 * bits.wordsPerSample + p * bits.wordsPerPosition + word] != e { wrongSigns += 1 }
                        }
                    }
                }
                #expect(exact.contains { $0.isNaN } && exact.contains { $0.isInfinite }, "\(t): the specials reach the sums")
                #expect(codes[1] == codes[0] && codes[1] == expected, "\(t): AVX-512 codes differ from the C form or the definition")
                #expect(signs[1] == signs[0] && wrongSigns == 0, "\(t): AVX-512 sign bits differ from the C form (\(wrongSigns) from the definition)")
            }
        }
    }
}
