import Testing
@testable import Quantization

@Suite struct CostModelTests {
    /// Two layers, by hand:
    ///
    /// conv1: 36 weights (4×1×3×3) w4 per tensor (1 scale), 4 biases, 1000 MACs, fan-in 9, input 8-bit data, a2 after.
    ///   params 40; memory 36·4 + (4 + 1)·32 = 144 + 160 = 304 bits = 38 bytes; compression 40·32/304 = 4.2105
    ///   BOPs 1000·4·8 = 32 000
    ///   multiply at b = max(4, 8) = 8: 0.0029948·64 + 0.0010417·8 = 0.1916672 + 0.0083336 = 0.2000008 pJ
    ///   accumulator 4 + 8 + ⌈log₂ 9⌉ = 16 bits: 16·0.003125 = 0.05 pJ
    ///   energy 1000·0.2500008 + 304·20.3125 = 250.0008 + 6175 = 6425.0008 pJ
    /// dense1: 400 weights (10×40) w32, 10 biases, 400 MACs, fan-in 40, input a2 → 2 bits.
    ///   params 410; memory 410·32 = 13 120 bits = 1640 bytes; compression 1
    ///   BOPs 400·32·2 = 25 600
    ///   float: 400·(3.7 + 0.9) = 1840 pJ; memory 13 120·20.3125 = 266 500 pJ; energy 268 340 pJ
    /// totals: params 450, bits 13 424, bytes 1678, MACs 1400, BOPs 57 600, energy 274 765.0008 pJ
    static let twoLayers: [LayerCostInput] = {
        let precisions = [LayerPrecision("w4a2")!, LayerPrecision("w32a32")!]
        let bits = LayerCostInput.inputBits(precisions)
        return [
            LayerCostInput(name: "conv1", kind: "conv", weights: 36, biases: 4,
                           scales: LayerCostInput.scaleCount(for: .bits(4), options: QuantizerOptions(), outputChannels: 4),
                           macs: 1000, fanIn: 9, weightPrecision: precisions[0].weight, inputBits: bits[0]),
            LayerCostInput(name: "dense1", kind: "dense", weights: 400, biases: 10,
                           scales: LayerCostInput.scaleCount(for: .float, options: QuantizerOptions(), outputChannels: 10),
                           macs: 400, fanIn: 40, weightPrecision: precisions[1].weight, inputBits: bits[1]),
        ]
    }()

    @Test func handComputedTwoLayerExample() {
        let r = CostReport(Self.twoLayers)
        let conv = r.layers[0], dense = r.layers[1]
        #expect(conv.input.inputBits == 8 && dense.input.inputBits == 2)
        #expect(conv.parameters == 40 && conv.memoryBits == 304 && conv.memoryBytes == 38)
        assertClose(conv.compression, 1280.0 / 304.0)
        #expect(conv.bops == 32_000 && conv.accumulatorBits == 16)
        assertClose(conv.multiplyPJ, 0.2000008)
        assertClose(conv.addPJ, 0.05)
        assertClose(conv.energyPJ, 6425.0008)
        #expect(dense.parameters == 410 && dense.memoryBits == 13_120 && dense.memoryBytes == 1640)
        #expect(dense.bops == 25_600 && dense.accumulatorBits == nil && dense.compression == 1)
        assertClose(dense.energyPJ, 268_340)
        #expect(r.parameters == 450 && r.weightBits == 13_424 && r.weightBytes == 1678)
        #expect(r.macs == 1400 && r.bops == 57_600)
        assertClose(r.energyPJ, 274_765.0008)
    }

    /// The total of a pruned network compares with the unpruned float network, as its layers
    /// do: it divided the kept parameters (0.1× under layers of 6–30×, twelfth-pass audit).
    /// conv1 keeps 9 of 36 weights with a 1-bit mask: 9·4 + (4 + 1)·32 + 36 = 232 bits;
    /// dense1 keeps 40 of 400: 40·32 + 10·32 + 400 = 2000 bits. Unpruned float: 450·32 = 14 400.
    @Test func prunedTotalCompressionIsAgainstTheUnprunedFloatNetwork() {
        var inputs = Self.twoLayers
        inputs[0].kept = 9; inputs[0].maskBits = 36
        inputs[1].kept = 40; inputs[1].maskBits = 400
        let r = CostReport(inputs)
        #expect(r.layers[0].memoryBits == 232 && r.layers[1].memoryBits == 2000 && r.weightBits == 2232)
        assertClose(r.layers[0].compression, 1280.0 / 232.0)
        assertClose(r.layers[1].compression, 13_120.0 / 2000.0)
        assertClose(r.compression, 14_400.0 / 2232.0)
        assertClose(CostReport(Self.twoLayers).compression, 14_400.0 / 13_424.0)
    }

    @Test func binaryTimesBinaryIsAnXor() {
        let l = LayerCost(LayerCostInput(name: "d", kind: "dense", weights: 8, biases: 0, scales: 1, macs: 8, fanIn: 8,
                                         weightPrecision: .binary, inputBits: 1))
        #expect(l.multiplier == .xor)
        assertClose(l.multiplyPJ, 0.3 * 0.003125)              // one XOR gate: 0.3 of a 1-bit add
        #expect(l.accumulatorBits == 1 + 1 + 3)
        #expect(l.memoryBits == 8 + 32 && l.bops == 8)
        // The accumulator is capped at 32 bits.
        let wide = LayerCost(LayerCostInput(name: "d", kind: "dense", weights: 1, biases: 0, scales: 1, macs: 1,
                                            fanIn: 1 << 20, weightPrecision: .bits(16), inputBits: 16))
        #expect(wide.accumulatorBits == 32)
    }

    /// Gate counts as in QKeras qtools (`multiplier_factory.py`, `multiplier_impl.py`): a
    /// binary or ternary operand makes the product a multiplexer whose width is the other
    /// operand's bits, priced as gate factor × a b-bit add (0.003125 pJ per bit).
    @Test func binaryAndTernaryAreGatesNotMultipliers() {
        func layer(_ w: Precision, _ a: Int) -> LayerCost {
            LayerCost(LayerCostInput(name: "d", kind: "dense", weights: 16, biases: 0, scales: 1, macs: 16, fanIn: 16,
                                     weightPrecision: w, inputBits: a))
        }
        // binary weight × 8-bit input: multiplexer x / −x, 0.3 · 0.003125 · 8 = 0.0075 pJ (vs 0.2 pJ for an 8-bit multiply)
        #expect(layer(.binary, 8).multiplier == .mux(factor: 0.3, bits: 8))
        assertClose(layer(.binary, 8).multiplyPJ, 0.0075)
        // ternary weight × 4-bit input: multiplexer with zero, 0.6 · 0.003125 · 4 = 0.0075 pJ
        #expect(layer(.ternary, 4).multiplier == .mux(factor: 0.6, bits: 4))
        assertClose(layer(.ternary, 4).multiplyPJ, 0.0075)
        // 4-bit weight × binary (sign) input: multiplexer over the weight's 4 bits, 0.3 · 0.003125 · 4
        assertClose(layer(.bits(4), 1).multiplyPJ, 0.00375)
        // ternary × binary input: 0.6 · 0.003125 · 1
        assertClose(layer(.ternary, 1).multiplyPJ, 0.001875)
        // A float operand keeps the fp32 multiplier; k × k keeps the integer multiplier at max(w, a).
        #expect(layer(.binary, 32).multiplier == .float)
        assertClose(layer(.binary, 32).multiplyPJ, 3.7)
        assertClose(layer(.bits(4), 2).multiplyPJ, 0.0029948 * 16 + 0.0010417 * 4)
        // compute = MACs · (multiply + add): binary × 8-bit, accumulator 1 + 8 + 4 = 13 bits
        let b = layer(.binary, 8)
        #expect(b.accumulatorBits == 13)
        assertClose(b.computePJ, 16 * (0.0075 + 13 * 0.003125))
    }

    /// Memory energy, apart from compute: weights read once from DRAM (20.3125 pJ/bit);
    /// activations read and written through a 16 MiB SRAM, ⌈bits/64⌉ accesses of
    /// 0.02455·27² − 0.2656·27 + 0.8661 = 11.59185 pJ (qtools' sram_rd fit at log₂ 2^27).
    @Test func memoryEnergyIsWeightsPlusActivationTraffic() {
        let perAccess = 0.02455 * 729 - 0.2656 * 27 + 0.8661
        assertClose(perAccess, 11.59185)
        assertClose(EnergyModel.sramAccess(bits: 64), perAccess)
        assertClose(EnergyModel.sramAccess(bits: 65), 2 * perAccess)
        #expect(EnergyModel.sramAccess(bits: 0) == 0)
        // dense 100 → 10, w4, 8-bit input, 2-bit activation after it:
        let l = LayerCost(LayerCostInput(name: "d", kind: "dense", weights: 1000, biases: 10, scales: 1, macs: 1000, fanIn: 100,
                                         weightPrecision: .bits(4), inputBits: 8, inputElements: 100, outputElements: 10,
                                         outputBits: 2))
        // weights: 1000·4 + 11·32 = 4352 bits · 20.3125 = 88 400 pJ
        #expect(l.memoryBits == 4352)
        assertClose(l.weightMemoryPJ, 88_400)
        // read 100·8 = 800 bits → 13 accesses; write 10·2 = 20 bits → 1 access
        #expect(l.activationReadBits == 800 && l.activationWriteBits == 20)
        assertClose(l.activationMemoryPJ, 14 * perAccess)
        assertClose(l.memoryPJ, 88_400 + 14 * perAccess)
        assertClose(l.energyPJ, l.computePJ + l.memoryPJ)
        // At 1 bit the same layer reads 8× fewer activation bits: 100 bits → 2 accesses.
        var binary = l.input
        binary.inputBits = 1
        assertClose(LayerCost(binary).activationMemoryPJ, 3 * perAccess)
    }

    @Test func scaleCounts() {
        var o = QuantizerOptions()
        #expect(LayerCostInput.scaleCount(for: .bits(8), options: o, outputChannels: 16) == 1)
        #expect(LayerCostInput.scaleCount(for: .ternary, options: o, outputChannels: 16) == 1)
        #expect(LayerCostInput.scaleCount(for: .binary, options: o, outputChannels: 16) == 16)
        o.perChannel = true; o.binaryConnect = true
        #expect(LayerCostInput.scaleCount(for: .bits(8), options: o, outputChannels: 16) == 16)
        #expect(LayerCostInput.scaleCount(for: .binary, options: o, outputChannels: 16) == 0)
        #expect(LayerCostInput.inputBits([LayerPrecision("w8a1")!, LayerPrecision("wta4")!, LayerPrecision("w1a32")!]) == [8, 1, 4])
    }

    @Test func renderedTable() {
        let text = CostReport(Self.twoLayers).render()
        // compute conv1 1000·0.2500008 pJ, dense1 400·4.6 pJ; memory = weight bits · 20.3125 (no activation sizes given)
        // In µJ (Formatting.Quantity): 3 decimals from 0.1 µJ up (266.5 nJ memory of dense1: 0.267), 3 significant digits
        // below, so conv1's 250.0008 pJ compute shows as 0.000250 (it printed 0.000 at 3 decimals); 6175 pJ = 0.006175 µJ
        // is 0.0061749999… in binary, hence 0.00617.
        let expected = """
        layer   kind    W  A in  mult  params  weight bits  bytes  compression   MACs    BOPs  compute µJ  memory µJ  energy µJ
        -----------------------------------------------------------------------------------------------------------------------
        conv1   conv    4     8  mul8      40          304     38         4.2×  1,000  32,000    0.000250    0.00617    0.00643
        dense1  dense  32     2  fp32     410       13,120  1,640         1.0×    400  25,600     0.00184      0.267      0.268
        -----------------------------------------------------------------------------------------------------------------------
        total                             450       13,424  1,678         1.1×  1,400  57,600     0.00209      0.273      0.275
        Energy is an estimate per inference: compute (multipliers, XOR/multiplexers for binary and ternary, adds) and memory (one DRAM read of every stored weight bit, activations read and written in SRAM at their bit widths); 45 nm figures from Horowitz (ISSCC 2014) as encoded in QKeras qtools.
        params: weights and biases of conv and dense layers, the ones quantized; batch-norm scales, shifts and running statistics are not counted (model show counts them, and float).
        """
        #expect(text == expected, "\n\(text)")
    }
}
