import Testing
import Tensors
@testable import Quantization

@Suite struct UniformWeightQuantizerTests {
    @Test func threeBitPerTensorHalfToEven() {
        // k = 3: n = 2² − 1 = 3, max|w| = 3 → s = 3/3 = 1, so codes = round(w):
        //   0.5 → 0 (tie, even), −1.5 → −2 (tie, even), 3 → 3, 2.5 → 2 (tie, even), −0.25 → 0, 1 → 1
        let q = UniformWeightQuantizer(bits: 3)
        let w: [Float] = [0.5, -1.5, 3.0, 2.5, -0.25, 1.0]
        #expect(q.quantized(w) == [0, -2, 3, 2, 0, 1])
        #expect(q.scales == [1])
        #expect(q.codes(w)?.codes == [0, -2, 3, 2, 0, 1])
    }

    @Test func fourBitPerTensor() {
        // k = 4: n = 7, max|w| = 1.75 → s = 0.25. w/s = 7, −2.5, 1.5, 0.5, −4, 0.8
        // → codes 7, −2 (tie → even), 2 (tie → even), 0 (tie → even), −4, 1
        // → q = 1.75, −0.5, 0.5, 0, −1, 0.25
        let q = UniformWeightQuantizer(bits: 4)
        let w: [Float] = [1.75, -0.625, 0.375, 0.125, -1.0, 0.2]
        #expect(q.quantized(w) == [1.75, -0.5, 0.5, 0, -1.0, 0.25])
        #expect(q.scales == [0.25])
    }

    @Test func perChannelScales() {
        // k = 2: n = 1, so codes are −1, 0, 1 and s = max|row|.
        // row 0: [1, −2, 0.5], s = 2: w/s = 0.5 → 0 (tie), −1, 0.25 → 0 → q = [0, −2, 0]
        // row 1: [0.25, −0.125, 0.0625], s = 0.25: 1, −0.5 → −0 (tie), 0.25 → 0 → q = [0.25, 0, 0]
        let q = UniformWeightQuantizer(bits: 2, perChannel: true)
        let w: [Float] = [1, -2, 0.5, 0.25, -0.125, 0.0625]
        #expect(q.quantized(w, channels: 2) == [0, -2, 0, 0.25, 0, 0])
        #expect(q.scales == [2, 0.25])
        // Per tensor, s = 2 for both rows: row 1 all rounds to 0.
        #expect(UniformWeightQuantizer(bits: 2).quantized(w, channels: 2) == [0, -2, 0, 0, 0, 0])
    }

    @Test func perChannelEqualsPerTensorOnOneChannel() {
        let w = randomWeights(1000, seed: 3)
        for k in [2, 3, 4, 8, 16] {
            let a = UniformWeightQuantizer(bits: k, perChannel: true).quantized(w, channels: 1)
            let b = UniformWeightQuantizer(bits: k).quantized(w, channels: 1)
            #expect(a == b, "k = \(k)")
        }
    }

    @Test func allZeroGivesZeroScaleNoNaN() {
        let q = UniformWeightQuantizer(bits: 4, perChannel: true)
        let w: [Float] = [0, 0, 0, 0.5, -0.25, 0]
        let out = q.quantized(w, channels: 2)
        #expect(q.scales[0] == 0)
        #expect(out[0..<3].allSatisfy { $0 == 0 })
        #expect(!out.contains { $0.isNaN })
        #expect(UniformWeightQuantizer(bits: 8).quantized([0, 0, 0]) == [0, 0, 0])
        #expect(UniformWeightQuantizer(bits: 8).codes([0, 0, 0])?.codes == [0, 0, 0])
    }

    @Test func matchesNaiveDefinition() {
        let w = randomWeights(4096, seed: 11)
        for k in 2...16 {
            let q = UniformWeightQuantizer(bits: k, perChannel: true)
            let fast = q.quantized(w, channels: 8)
            let rowLength = w.count / 8
            for g in 0..<8 {
                let row = Array(w[g * rowLength..<(g + 1) * rowLength])
                let s = q.scales[g]
                // The stable scale is max|w|/n moved by at most a few ulps.
                let maxAbs = row.map { abs($0) }.max()!
                assertClose(Double(s), Double(maxAbs) / Double((1 << (k - 1)) - 1), rtol: 1e-6)
                let expected = referenceUniform(row, bits: k, scale: s)
                let wrong = (0..<rowLength).filter { fast[g * rowLength + $0] != expected[$0] }
                #expect(wrong.isEmpty, "k = \(k) row \(g): \(wrong.map { (row[$0], fast[g * rowLength + $0], expected[$0]) })")
            }
        }
    }

    @Test func idempotent() {
        for seed in 0..<20 as Range<UInt64> {
            let w = randomWeights(257 * 4, seed: seed, std: 0.05 + Float(seed) * 0.3)
            for k in 2...16 {
                for perChannel in [false, true] {
                    let q = UniformWeightQuantizer(bits: k, perChannel: perChannel)
                    let once = q.quantized(w, channels: 4)
                    #expect(q.quantized(once, channels: 4) == once, "k = \(k) perChannel = \(perChannel) seed = \(seed)")
                }
            }
        }
    }

    @Test func levelCount() {
        // A dense ramp over [−1, 1] hits every level: exactly 2n + 1 = 2^k − 1.
        let w = linspace(-1, 1, 100_001)
        for k in [2, 3, 4, 6, 8] {
            let out = UniformWeightQuantizer(bits: k).quantized(w)
            #expect(distinctCount(out) == (1 << k) - 1, "k = \(k)")
        }
        // Random weights never exceed it.
        let r = randomWeights(5000, seed: 5)
        for k in 2...10 { #expect(distinctCount(UniformWeightQuantizer(bits: k).quantized(r)) <= (1 << k) - 1) }
    }

    @Test func straightThroughBackward() {
        let q = UniformWeightQuantizer(bits: 4)
        let w: [Float] = [0.3, -2, 5, 0]
        let dq: [Float] = [1, -2, 0.5, 4]
        // dw += dq everywhere (the weights define the range, nothing is clipped).
        #expect(weightBackward(q, w: w, dq: dq, dw0: [10, 10, 10, 10]) == [11, 8, 10.5, 14])
    }

    @Test func stochasticRoundingIsUnbiasedAndSeeded() {
        // k = 2, s = max|w| = 1: 0.3 rounds to 1 with probability 0.3, else 0.
        var w = [Float](repeating: 0.3, count: 20_000)
        w.append(1)
        let q = UniformWeightQuantizer(bits: 2, stochastic: true, seed: 42)
        let out = q.quantized(w, training: true)
        let mean = out.dropLast().reduce(0.0) { $0 + Double($1) } / 20_000
        assertClose(mean, 0.3, atol: 0.015, "E[q] ≈ w")       // σ of the mean = √(0.21/20000) ≈ 0.0032
        #expect(Set(out).isSubset(of: [0, 1]))
        // Same seed, same stream; another seed, another one.
        #expect(UniformWeightQuantizer(bits: 2, stochastic: true, seed: 42).quantized(w, training: true) == out)
        #expect(UniformWeightQuantizer(bits: 2, stochastic: true, seed: 43).quantized(w, training: true) != out)
        // Successive calls draw fresh numbers.
        #expect(q.quantized(w, training: true) != out)
        // Evaluation rounds to nearest.
        #expect(q.quantized(w, training: false) == UniformWeightQuantizer(bits: 2).quantized(w))
        // Exact levels stay put whatever the draw.
        let levels: [Float] = [-1, 0, 1, 1, -1]
        #expect(q.quantized(levels, training: true) == levels)
    }

    @Test func codesRebuildTheQuantizedWeights() {
        let w = randomWeights(600, seed: 9)
        for k in [2, 3, 5, 8, 12, 16] {
            for perChannel in [false, true] {
                let q = UniformWeightQuantizer(bits: k, perChannel: perChannel)
                let c = q.codes(w, channels: 6)!
                #expect(c.scales.count == (perChannel ? 6 : 1))
                #expect(c.dequantized() == q.quantized(w, channels: 6))
                let n = Int32((1 << (k - 1)) - 1)
                #expect(c.codes.allSatisfy { (-n...n).contains($0) })
            }
        }
    }

    @Test func magicRoundingEqualsLibm() {
        var values: [Float] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 65534.5, 65535.5, -32767.5, 0.49999997, 1e-8, 4194303.5]
        var g = SplitMix64(seed: 1)
        for _ in 0..<10_000 { values.append((g.nextFloat() * 2 - 1) * 70_000) }
        for v in values {
            let r = Kernels.roundEven(v), e = v.rounded(.toNearestOrEven)
            #expect(r == e, "\(v): \(r) vs \(e)")
            #expect(Kernels.floorSmall(v) == v.rounded(.down), "\(v)")
        }
    }
}
