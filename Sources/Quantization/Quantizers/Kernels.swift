/// The hot loops the quantizers share, over raw pointers, allocation-free.
///
/// Why not `.rounded(.toNearestOrEven)` in the loops: without SSE4.1 (the default
/// x86-64 target) it compiles to a `rintf` call per element, which stops
/// vectorisation; the 1.5·2²³ trick below is two vector adds. Reductions keep eight
/// independent accumulators so they are not bound by the add/max latency.
enum Kernels {
    /// 1.5 · 2²³: adding it leaves no fraction bits for |x| ≤ 2²², so the FPU's
    /// round-to-nearest-even does the rounding.
    static let roundingMagic: Float = 12_582_912

    /// Round half to even; equals `x.rounded(.toNearestOrEven)` for |x| ≤ 2²²
    /// (except that −0.5…−0 gives +0). Codes here stay below 2¹⁶.
    @inline(__always)
    static func roundEven(_ x: Float) -> Float { (x + roundingMagic) - roundingMagic }

    /// ⌊x⌋ for |x| ≤ 2²², without a libm call.
    @inline(__always)
    static func floorSmall(_ x: Float) -> Float {
        let r = roundEven(x)
        return r > x ? r - 1 : r
    }

    // Index arithmetic in these loops wraps (&+): the module is built without
    // -Ounchecked, and i ≤ count can never overflow, so the checks would only cost.

    /// max |p[i]|, 0 for an empty range.
    static func absMax(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var m0: Float = 0, m1: Float = 0, m2: Float = 0, m3: Float = 0
        var m4: Float = 0, m5: Float = 0, m6: Float = 0, m7: Float = 0
        var i = 0
        while i &+ 8 <= count {
            let a0 = abs(p[i]), a1 = abs(p[i &+ 1]), a2 = abs(p[i &+ 2]), a3 = abs(p[i &+ 3])
            let a4 = abs(p[i &+ 4]), a5 = abs(p[i &+ 5]), a6 = abs(p[i &+ 6]), a7 = abs(p[i &+ 7])
            m0 = a0 > m0 ? a0 : m0; m1 = a1 > m1 ? a1 : m1; m2 = a2 > m2 ? a2 : m2; m3 = a3 > m3 ? a3 : m3
            m4 = a4 > m4 ? a4 : m4; m5 = a5 > m5 ? a5 : m5; m6 = a6 > m6 ? a6 : m6; m7 = a7 > m7 ? a7 : m7
            i &+= 8
        }
        while i < count { let a = abs(p[i]); m0 = a > m0 ? a : m0; i &+= 1 }
        return max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    }

    /// Σ |p[i]| in Double (a sum of m equal floats is then exact, which keeps
    /// means of already-quantized weights exact and the quantizers idempotent).
    static func absSum(_ p: UnsafePointer<Float>, count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i &+ 4 <= count {
            s0 += Double(abs(p[i])); s1 += Double(abs(p[i &+ 1]))
            s2 += Double(abs(p[i &+ 2])); s3 += Double(abs(p[i &+ 3]))
            i &+= 4
        }
        while i < count { s0 += Double(abs(p[i])); i &+= 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// dw[i] += dq[i]: the straight-through estimator.
    static func addInto(_ dw: UnsafeMutablePointer<Float>, _ dq: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { dw[i] += dq[i] }
    }

    /// A scale s ≈ m / n with fl(fl(s·n)/n) = s, so that quantizing Q(w) (whose
    /// largest magnitude is fl(s·n)) finds s again: this is what makes k-bit weight
    /// quantization exactly idempotent. Moves m/n by at most a few ulps.
    static func stableScale(maxAbs m: Float, levels n: Float) -> Float {
        var s = m / n
        for _ in 0..<8 {
            let next = (s * n) / n
            if next == s { break }
            s = next
        }
        return s
    }
}
