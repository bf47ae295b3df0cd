/// SplitMix64 (Steele, Lea, Flood 2014), the seeded generator for the bootstrap.
///
/// The same recurrence as `Tensors.SplitMix64`, repeated here because Analysis has
/// no dependencies; internal so the two never clash for a module importing both.
struct SplitMix64: RandomNumberGenerator {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform integer in 0..<n by Lemire's multiply-and-reject, written out so the
    /// stream does not depend on the standard library's choice of algorithm.
    mutating func index(below n: Int) -> Int {
        precondition(n > 0, "index(below:) needs n > 0")
        let bound = UInt64(n)
        let threshold = (0 &- bound) % bound
        while true {
            let product = next().multipliedFullWidth(by: bound)
            if product.low >= threshold { return Int(product.high) }
        }
    }
}
