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

    @Test func binaryTimesBinaryIsAnXnor() {
        let l = LayerCost(LayerCostInput(name: "d", kind: "dense", weights: 8, biases: 0, scales: 1, macs: 8, fanIn: 8,
                                         weightPrecision: .binary, inputBits: 1))
        assertClose(l.multiplyPJ, 0.0029948 + 0.0010417)       // b = 1
        #expect(l.accumulatorBits == 1 + 1 + 3)
        #expect(l.memoryBits == 8 + 32 && l.bops == 8)
        // The accumulator is capped at 32 bits.
        let wide = LayerCost(LayerCostInput(name: "d", kind: "dense", weights: 1, biases: 0, scales: 1, macs: 1,
                                            fanIn: 1 << 20, weightPrecision: .bits(16), inputBits: 16))
        #expect(wide.accumulatorBits == 32)
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
        // Energy in µJ with 3 decimals (6.425 nJ = 0.006 µJ), counts grouped, compression N.N×: Formatting.Quantity.
        let expected = """
        layer   kind    W  A in  params  weight bits  bytes  compression   MACs    BOPs  energy µJ
        ------------------------------------------------------------------------------------------
        conv1   conv    4     8      40          304     38         4.2×  1,000  32,000      0.006
        dense1  dense  32     2     410       13,120  1,640         1.0×    400  25,600      0.268
        ------------------------------------------------------------------------------------------
        total                       450       13,424  1,678         1.1×  1,400  57,600      0.275
        Energy is an estimate per inference (compute + one DRAM read of every stored bit): 45 nm figures from Horowitz (ISSCC 2014) as encoded in QKeras qtools.
        params: weights and biases of conv and dense layers, the ones quantized; batch-norm scales, shifts and running statistics are not counted (model show counts them, and float).
        """
        #expect(text == expected, "\n\(text)")
    }
}
