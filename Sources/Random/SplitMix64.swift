/// SplitMix64: a seeded value-type random number generator (Steele, Lea, Flood 2014).
///
/// Every random choice in quantlab (initialisation, shuffling, sampling, dropout,
/// stochastic rounding, bootstrap, random configurations) draws from one of these with
/// an explicit seed, so a run is a function of its seed. `fork(_:)` derives
/// independent streams. It lives in `Random`, the lowest module, so Tensors (and all
/// above it) and Analysis share the one type.
///
/// It deliberately does not conform to `RandomNumberGenerator`: the standard
/// library's `next(upperBound:)`, `random(in:using:)` and `shuffled(using:)` do not
/// promise their algorithms across Swift releases, and a changed algorithm would
/// silently change every replayed session. Every derived draw is written out here.
public struct SplitMix64: Sendable, Equatable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// What each draw adds to the state (the golden-ratio increment).
    public static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The generator `draws` draws on (the state after that many `next()`), in one step:
    /// the vectorised stochastic rounding computes a stretch of the stream itself.
    @inline(__always)
    public func advanced(by draws: Int) -> SplitMix64 {
        SplitMix64(seed: state &+ Self.gamma &* UInt64(draws))
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= Self.gamma
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent generator for a named sub-stream (e.g. one per trial).
    public func fork(_ stream: UInt64) -> SplitMix64 {
        var g = SplitMix64(seed: state ^ (stream &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return SplitMix64(seed: g.next())
    }

    /// Uniform in [0, 1), 24 random bits.
    @inline(__always)
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1), 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform integer in 0..<n, unbiased: Lemire's multiply-shift with rejection
    /// ("Fast random integer generation in an interval", ACM TOMACS 2019).
    ///
    /// The 128-bit product x·n of a 64-bit draw x has its high word in 0..<n; it is
    /// uniform once draws whose low word falls below t = 2^64 mod n are rejected (the
    /// product's low word is < n for every rejected draw, so t is computed only then).
    /// This is the algorithm of Swift 5–6's `next(upperBound:)`, so the streams are
    /// those quantlab always drew; now no Swift release can change them.
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "nextInt(below:) needs n > 0")
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let t = (0 &- bound) % bound
            while m.low < t { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// Standard normal by Box–Muller (one of the pair; simple and reproducible).
    public mutating func nextNormal() -> Float {
        var u1 = nextDouble()
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = nextDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// Fisher–Yates shuffle driven by this generator.
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }

    /// A random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
