import Testing
import Tensors
@testable import Quantization

@Suite struct BinaryTernaryWeightTests {
    @Test func xnorPerChannelMean() {
        // row 0: [0.5, −1.5, 0, 1]: α = (0.5 + 1.5 + 0 + 1)/4 = 0.75; sign(0) = +1 → [0.75, −0.75, 0.75, 0.75]
        // row 1: [−0.25, −0.25, 0.5, 0.5]: α = 1.5/4 = 0.375 → [−0.375, −0.375, 0.375, 0.375]
        let q = BinaryWeightQuantizer(variant: .xnor)
        let w: [Float] = [0.5, -1.5, 0, 1, -0.25, -0.25, 0.5, 0.5]
        #expect(q.quantized(w, channels: 2) == [0.75, -0.75, 0.75, 0.75, -0.375, -0.375, 0.375, 0.375])
        #expect(q.scales == [0.75, 0.375])
        #expect(q.codes(w, channels: 2)?.codes == [1, -1, 1, 1, -1, -1, 1, 1])
        #expect(q.quantized([-0.0, 2], channels: 1) == [1, 1], "sign(−0) = +1")
    }

    @Test func binaryConnect() {
        // α = 1: q = sign(w). Backward passes dq where |w| ≤ 1 only.
        let q = BinaryWeightQuantizer(variant: .binaryConnect)
        let w: [Float] = [0.3, -0.2, 0, 1, -1, 1.5, -3]
        #expect(q.quantized(w, channels: 7) == [1, -1, 1, 1, -1, 1, -1])
        let dq: [Float] = [1, 2, 3, 4, 5, 6, 7]
        #expect(weightBackward(q, w: w, dq: dq, dw0: [1, 1, 1, 1, 1, 1, 1], channels: 7) == [2, 3, 4, 5, 6, 1, 1])
        // The latent-weight clip, and its installation on a parameter.
        let p = Parameter(name: "w", value: Tensor(shape: [7], data: w))
        installLatentWeightUpdate(of: q, on: p)
        p.afterUpdate?(&p.value)
        #expect(p.value.data == [0.3, -0.2, 0, 1, -1, 1, -1])
        installLatentWeightUpdate(of: BinaryWeightQuantizer(variant: .xnor), on: p)
        #expect(p.afterUpdate == nil)
    }

    @Test func xnorBackwardIsStraightThrough() {
        let q = BinaryWeightQuantizer()
        #expect(weightBackward(q, w: [3, -0.5], dq: [1, 2], dw0: [0, 0]) == [1, 2])
    }

    @Test func binaryIdempotentWithTwoLevelsPerChannel() {
        let w = randomWeights(64 * 27, seed: 4)
        for variant in [BinaryWeightQuantizer.Variant.xnor, .binaryConnect] {
            let q = BinaryWeightQuantizer(variant: variant)
            let once = q.quantized(w, channels: 64)
            #expect(q.quantized(once, channels: 64) == once)
            for row in 0..<64 { #expect(distinctCount(Array(once[row * 27..<(row + 1) * 27])) <= 2) }
        }
        #expect(distinctCount(BinaryWeightQuantizer().quantized(w, channels: 1)) == 2)
    }

    @Test func ternaryDefinition() {
        // Σ|w| = 0.1 + 0.5 + 0.9 + 1.3 + 0 + 0.2 = 3.0, mean 0.5, Δ = 0.7 · 0.5 = 0.35.
        // |w| > Δ: 0.5, 0.9, 1.3 → α = 2.7 / 3 = 0.9. q = [0, −0.9, 0.9, −0.9, 0, 0].
        let q = TernaryWeightQuantizer()
        let w: [Float] = [0.1, -0.5, 0.9, -1.3, 0, 0.2]
        assertClose(q.quantized(w), [0, -0.9, 0.9, -0.9, 0, 0], rtol: 1e-6)
        assertClose([q.thresholds[0]], [0.35], rtol: 1e-6)
        #expect(q.codes(w)?.codes == [0, -1, 1, -1, 0, 0])
        #expect(q.quantized([0, 0, 0]) == [0, 0, 0])
        #expect(q.scales == [0])
    }

    @Test func ternaryIdempotentThreeLevels() {
        for seed in 0..<10 as Range<UInt64> {
            let w = randomWeights(999, seed: seed)
            let q = TernaryWeightQuantizer()
            let once = q.quantized(w)
            #expect(q.quantized(once) == once)
            #expect(distinctCount(once) == 3)
            #expect(q.codes(w)!.dequantized() == once)
        }
        let pc = TernaryWeightQuantizer(perChannel: true)
        let w = randomWeights(8 * 50, seed: 1)
        let once = pc.quantized(w, channels: 8)
        #expect(pc.quantized(once, channels: 8) == once)
        #expect(TernaryWeightQuantizer(perChannel: true).quantized(w, channels: 1) == TernaryWeightQuantizer().quantized(w, channels: 1))
    }

    @Test func ternaryBackwardStraightThrough() {
        #expect(weightBackward(TernaryWeightQuantizer(), w: [0.01, 5], dq: [1, -1], dw0: [0.5, 0.5]) == [1.5, -0.5])
    }

    @Test func factoryPicksTheQuantizer() {
        var o = QuantizerOptions()
        #expect(makeWeightQuantizer(.float) is FloatWeights)
        #expect((makeWeightQuantizer(.bits(4)) as? UniformWeightQuantizer)?.bits == 4)
        #expect(makeWeightQuantizer(.ternary) is TernaryWeightQuantizer)
        #expect((makeWeightQuantizer(.binary) as? BinaryWeightQuantizer)?.variant == .xnor)
        o.binaryConnect = true; o.perChannel = true; o.stochastic = true; o.pact = true
        #expect((makeWeightQuantizer(.binary, options: o) as? BinaryWeightQuantizer)?.variant == .binaryConnect)
        let u = makeWeightQuantizer(.bits(8), options: o) as? UniformWeightQuantizer
        #expect(u?.perChannel == true && u?.stochastic == true)
        #expect(makeActivationQuantizer(.float) is FloatActivations)
        #expect(makeActivationQuantizer(.binary) is BinaryActivationQuantizer)
        let a = makeActivationQuantizer(.bits(4), options: o) as? UniformActivationQuantizer
        #expect(a?.bits == 4 && a?.parameters.count == 1)
        #expect(makeActivationQuantizer(.bits(4)).parameters.isEmpty)
        for p in [Precision.float, .bits(3), .ternary, .binary] { #expect(makeWeightQuantizer(p).precision == p) }
    }

    @Test func floatIsIdentity() {
        let w = randomWeights(10, seed: 2)
        #expect(FloatWeights().quantized(w) == w)
        #expect(FloatWeights().codes(w) == nil)
        #expect(weightBackward(FloatWeights(), w: w, dq: w, dw0: w) == w.map { $0 + $0 })
    }
}
