import Testing
import Random

/// The standard library's bounded draw, for comparison only (quantlab never uses it).
private struct StandardLibraryDraws: RandomNumberGenerator {
    var inner: SplitMix64
    mutating func next() -> UInt64 { inner.next() }
}

@Suite struct SplitMix64Tests {
    /// First two outputs for seed 1234567, from a Python transcription of Vigna's
    /// splitmix64.c (masking to 64 bits).
    @Test func referenceOutputs() {
        var g = SplitMix64(seed: 1234567)
        #expect(g.next() == 6457827717110365317)
        #expect(g.next() == 3203168211198807973)
    }

    /// Golden values from this Python transcription of Lemire's method over splitmix64:
    ///     t = (2**64 - n) % n
    ///     while True: x = next() * n; if x & (2**64 - 1) >= t: return x >> 64
    /// `advanced(by:)` stands where that many `next()` calls leave the generator.
    @Test func advancedEqualsRepeatedDraws() {
        for (seed, draws) in [(UInt64(0), 0), (42, 1), (0xFFFF_FFFF_FFFF_FFFF, 7), (12345, 1000)] {
            var g = SplitMix64(seed: seed)
            for _ in 0..<draws { _ = g.next() }
            #expect(SplitMix64(seed: seed).advanced(by: draws) == g)
        }
    }

    @Test func boundedIntegersMatchLemireReference() {
        var g = SplitMix64(seed: 42)
        #expect((0..<12).map { _ in g.nextInt(below: 10) } == [7, 1, 2, 3, 0, 8, 2, 8, 3, 6, 2, 4])
    }

    /// n = 2^62 + 1 rejects about a quarter of the draws: 6 values took 8 draws.
    @Test func boundedIntegersRejectBiasedDraws() {
        var g = SplitMix64(seed: 7)
        let values = (0..<6).map { _ in g.nextInt(below: (1 << 62) + 1) }
        #expect(values == [4154025436703902337, 2688291482075368051, 2086519961375180918,
                           1150299863866387076, 2158052326855717949, 1512986910920847295])
        var count = SplitMix64(seed: 7)
        for _ in 0..<8 { _ = count.next() }
        #expect(g == count, "6 values consumed exactly 8 draws")
    }

    /// The streams quantlab drew before it owned the algorithm (Swift's
    /// `next(upperBound:)` on this toolchain) are the streams it draws now, so no
    /// recorded session changes.
    @Test func boundedIntegersEqualThePreviousStandardLibraryStreams() {
        var ours = SplitMix64(seed: 2024)
        var theirs = StandardLibraryDraws(inner: SplitMix64(seed: 2024))
        for n in [1, 2, 3, 7, 10, 100, 1000, 60_000, 1 << 31, (1 << 62) + 1, Int.max] {
            for _ in 0..<200 {
                #expect(ours.nextInt(below: n) == Int(theirs.next(upperBound: UInt64(n))))
            }
        }
    }

    @Test func boundedIntegersStayInRange() {
        var h = SplitMix64(seed: 9)
        for _ in 0..<1000 { #expect((0..<7).contains(h.nextInt(below: 7))) }
    }
}
