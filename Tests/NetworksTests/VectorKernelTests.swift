import Testing
import Tensors
import Quantization
@testable import Networks

/// The AVX-512 kernels (`CTrainKernels`) must give bit for bit what the portable Swift
/// loops give — replays on machines with and without AVX-512 depend on it — on values
/// that probe every select: NaN, ±0, ±∞, ties, and lengths that leave every kind of tail.
@Suite struct VectorKernelTests {
    /// Values drawn from a small set so that ties and special values are frequent.
    static func awkward(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let special: [Float] = [.nan, 0, -0.0, .infinity, -.infinity, 1, -1, 0.5, 3]
        return (0..<n).map { _ in
            rng.nextInt(below: 3) == 0 ? special[rng.nextInt(below: special.count)] : rng.nextNormal()
        }
    }

    static func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    @Test func elementwiseKernelsEqualPortableLoops() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: only the portable loops run")
        for n in [0, 1, 7, 8, 15, 16, 17, 24, 31, 67, 1000] {
            let x = Self.awkward(n, seed: UInt64(n)), g = Self.awkward(n, seed: UInt64(n) + 100)
            var fast = [Float](repeating: 7, count: n), slow = [Float](repeating: 7, count: n)
            x.withUnsafeBufferPointer { xp in g.withUnsafeBufferPointer { gp in
                fast.withUnsafeMutableBufferPointer { f in slow.withUnsafeMutableBufferPointer { s in
                    guard n > 0 else { return }
                    let xb = xp.baseAddress!, gb = gp.baseAddress!, fb = f.baseAddress!, sb = s.baseAddress!
                    Kernels.relu(xb, fb, count: n); Kernels.Portable.relu(xb, sb, count: n)
                    #expect(Self.bits(Array(f)) == Self.bits(Array(s)), "relu, n = \(n)")
                    Kernels.maskPositive(xb, gb, fb, count: n); Kernels.Portable.maskPositive(xb, gb, sb, count: n)
                    #expect(Self.bits(Array(f)) == Self.bits(Array(s)), "maskPositive, n = \(n)")
                    Kernels.maskInRange(xb, gb, fb, count: n, lo: 0, hi: 1)
                    Kernels.Portable.maskInRange(xb, gb, sb, count: n, lo: 0, hi: 1)
                    #expect(Self.bits(Array(f)) == Self.bits(Array(s)), "maskInRange, n = \(n)")
                } }
            } }
        }
    }

    /// 2×2 pooling: widths with 16-window vector groups, a scalar tail and an odd last
    /// column; inputs after a ReLU (many tied zeros) and with special values.
    @Test(arguments: [45, 64, 13])
    func maxPoolEqualsPortableLoops(width w: Int) throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: only the portable loops run")
        for afterReLU in [true, false] {
            let n = 2, c = 3, h = 7
            var raw = Self.awkward(n * c * h * w, seed: UInt64(w))
            if afterReLU { raw = raw.map { $0.isNaN ? 1 : Swift.max($0, 0) } }
            let x = Tensor(shape: [n, c, h, w], data: raw)
            var ys: [Tensor] = [], dxs: [Tensor] = []
            for vector in [true, false] {
                let pool = MaxPool(window: 2)
                pool.vectorKernels = vector
                var y = Tensor(zeros: [0]), dx = Tensor(repeating: .nan, shape: x.shape)
                pool.forward(x, into: &y, training: true)
                let dy = Tensor(shape: y.shape, data: Self.awkward(y.count, seed: 9).map { $0.isNaN ? 2 : $0 })
                pool.backward(input: x, output: y, gradient: dy, into: &dx, needsInputGradient: true)
                ys.append(y); dxs.append(dx)
            }
            #expect(Self.bits(ys[0].data) == Self.bits(ys[1].data), "forward, width \(w), after ReLU \(afterReLU)")
            #expect(Self.bits(dxs[0].data) == Self.bits(dxs[1].data), "backward, width \(w), after ReLU \(afterReLU)")
        }
    }

    /// g8 stochastic rounding: same codes, values and generator state as the portable loop.
    @Test func stochasticRoundingEqualsPortableLoop() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: only the portable loops run")
        for n in [1, 5, 8, 13, 16, 17, 33, 4099] {
            var g = Self.awkward(n, seed: UInt64(n) + 7).map { $0.isFinite ? $0 : 0.25 }
            if n == 13 { g[3] = .nan }   // a NaN gradient: scale 0 and zero codes everywhere
            let fast = GradientQuantizer(.int8, seed: 11), slow = GradientQuantizer(.int8, seed: 11)
            slow.vectorKernel = false
            for _ in 0..<2 {   // twice: the generator must have advanced alike
                g.withUnsafeBufferPointer { fast.quantize($0.baseAddress!, count: n); slow.quantize($0.baseAddress!, count: n) }
                #expect(fast.codes == slow.codes, "codes, n = \(n)")
                #expect(Self.bits(fast.values) == Self.bits(slow.values), "values, n = \(n)")
                #expect(fast.scale.bitPattern == slow.scale.bitPattern)
            }
        }
    }
}

extension VectorKernelTests {
    /// im2col / col2im, stride 1: kernels 1, 3, 5 with paddings 0…2 on rows shorter and
    /// longer than 16 lanes; col2im accumulates into a non-zero dx (same sums, bit for bit).
    /// "Same" convolutions (output plane = input plane) run in blocks across rows: planes
    /// of whole blocks and with tails, rows of 1 to 32 values, paddings reaching past the plane.
    @Test func im2colAndCol2imEqualPortableLoops() throws {
        try #require(Kernels.hasAVX512, "this CPU has no AVX-512: only the portable loops run")
        for (k, pad, h, w) in [(3, 1, 32, 32), (3, 1, 7, 9), (5, 2, 6, 21), (1, 0, 5, 5), (3, 0, 8, 40), (5, 0, 4, 4), (3, 2, 3, 18),
                               (3, 1, 8, 8), (3, 1, 16, 16), (3, 1, 28, 28), (3, 1, 14, 14), (3, 1, 1, 1), (5, 2, 2, 3), (5, 2, 9, 1)] {
            let g = ConvGeometry(channels: 3, height: h, width: w, kernelH: k, kernelW: k, stride: 1, padding: pad)
            guard g.outHeight >= 1, g.outWidth >= 1 else { continue }
            let n = 2, size = n * 3 * h * w, colSize = g.rows * n * g.outHeight * g.outWidth
            let x = Self.awkward(size, seed: UInt64(h * w)).map { $0.isNaN ? 0.75 : $0 }
            var fast = [Float](repeating: .nan, count: colSize), slow = [Float](repeating: -.nan, count: colSize)
            x.withUnsafeBufferPointer { xp in
                im2col(xp.baseAddress!, batch: n, g, into: &fast)
                portableIm2col(xp.baseAddress!, batch: n, g, into: &slow)
            }
            #expect(Self.bits(fast) == Self.bits(slow), "im2col k\(k) p\(pad) \(h)×\(w)")
            let cols = Self.awkward(colSize, seed: 3).map { $0.isFinite ? $0 : 1e-3 }
            var dFast = x.map { $0.isFinite ? $0 * 0.1 : 0 }, dSlow = dFast
            cols.withUnsafeBufferPointer { cp in
                col2im(cp.baseAddress!, batch: n, g, into: &dFast)
                portableCol2im(cp.baseAddress!, batch: n, g, into: &dSlow)
            }
            #expect(Self.bits(dFast) == Self.bits(dSlow), "col2im k\(k) p\(pad) \(h)×\(w)")
        }
    }
}

extension VectorKernelTests {
    /// col2im with `overwrite` into a dx holding NaN, ±∞ and stale values: the bits of
    /// col2im adding into a zeroed dx (the fill Conv2D's float backward did before), on the
    /// AVX-512 "same" and general stride-1 paths and the portable one (stride 2), finite
    /// columns with −0 (a dx element whose terms are all −0 stays +0, as 0 + −0).
    @Test func col2imOverwriteEqualsZeroedAccumulation() {
        for (k, pad, h, w, s) in [(3, 1, 16, 16, 1), (3, 1, 8, 8, 1), (3, 1, 7, 9, 1), (5, 2, 6, 21, 1), (3, 0, 8, 40, 1),
                                       (1, 0, 5, 5, 1), (3, 1, 9, 7, 2), (3, 0, 6, 5, 2)] {
            let g = ConvGeometry(channels: 3, height: h, width: w, kernelH: k, kernelW: k, stride: s, padding: pad)
            let n = 2, size = n * 3 * h * w, colSize = g.rows * n * g.outHeight * g.outWidth
            var cols = Self.awkward(colSize, seed: UInt64(7 * h + w)).map { $0.isFinite ? $0 : 1e-3 }
            for i in stride(from: 0, to: colSize, by: 5) { cols[i] = -0.0 }
            var zeroed = [Float](repeating: 0, count: size)
            var stale = Self.awkward(size, seed: 11).enumerated().map { $0.offset % 3 == 0 ? Float.nan : $0.element }
            var reference = zeroed
            cols.withUnsafeBufferPointer { cp in
                col2im(cp.baseAddress!, batch: n, g, into: &zeroed)
                col2im(cp.baseAddress!, batch: n, g, into: &stale, overwrite: true)
                portableCol2im(cp.baseAddress!, batch: n, g, into: &reference)
            }
            #expect(Self.bits(stale) == Self.bits(zeroed), "col2im overwrite k\(k) p\(pad) s\(s) \(h)×\(w)")
            #expect(Self.bits(stale) == Self.bits(reference), "col2im overwrite vs portable k\(k) p\(pad) s\(s) \(h)×\(w)")
        }
    }
}
