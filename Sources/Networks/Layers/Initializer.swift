import Tensors

/// Weight initialisers, all drawing from a seeded `SplitMix64`.
public enum Initializer {
    /// He (Kaiming) normal: N(0, 2 / fanIn). For ReLU networks.
    public static func heNormal(shape: [Int], fanIn: Int, rng: inout SplitMix64) -> Tensor {
        let std = (2.0 / Float(fanIn)).squareRoot()
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.data[i] = rng.nextNormal() * std }
        return t
    }

    /// Glorot (Xavier) uniform: U(−a, a), a = √(6 / (fanIn + fanOut)).
    public static func glorotUniform(shape: [Int], fanIn: Int, fanOut: Int, rng: inout SplitMix64) -> Tensor {
        let a = (6.0 / Float(fanIn + fanOut)).squareRoot()
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.data[i] = (rng.nextFloat() * 2 - 1) * a }
        return t
    }
}
