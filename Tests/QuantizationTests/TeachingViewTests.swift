import Testing
@testable import Quantization

@Suite struct TeachingViewTests {
    @Test func uniformLevels() {
        // k = 3, s = 1 (max 3): levels −3…3, 7 = 2^3 − 1; Q(w) = [0, −2, 3, 2, 0, 1] uses 5 of them.
        let l = levels(UniformWeightQuantizer(bits: 3), weights: [0.5, -1.5, 3.0, 2.5, -0.25, 1.0])
        #expect(l.values == [-3, -2, -1, 0, 1, 2, 3] && l.count == 7)
        #expect(l.used == [-2, 0, 1, 2, 3])
        #expect(l.description == "7 levels: -3 -2 -1 0 1 2 3\n5 of 7 used in this tensor")
    }

    @Test func otherWeightLevels() {
        let w = randomWeights(200, seed: 1)
        #expect(levels(TernaryWeightQuantizer(), weights: w).count == 3)
        let b = levels(BinaryWeightQuantizer(), weights: w, channels: 4)
        #expect(b.count == 2 && b.groups.count == 4 && b.used.count <= 8)
        let f = levels(FloatWeights(), weights: w)
        #expect(f.count == nil && f.used.count == Set(w).count)
        #expect(levels(UniformWeightQuantizer(bits: 8), weights: w).description.hasPrefix("255 levels: "))
    }

    @Test func activationLevels() {
        let a = UniformActivationQuantizer(bits: 2)
        #expect(levels(a) == nil)
        _ = a.forward([0, 3], training: true)
        #expect(levels(a)?.values == [0, 1, 2, 3])
        #expect(levels(BinaryActivationQuantizer())?.values == [-1, 1])
        #expect(levels(FloatActivations())?.count == nil)
    }

    @Test func histogramBeforeAfter() {
        // Range [−1, 1] in 4 bins of 0.5: before has one value per bin but two in the last
        // (1.0 joins the closed last bin); after (k = 2, s = 1) maps to −1, 0, 0, 1, 1.
        let w: [Float] = [-1, -0.4, 0.2, 0.7, 1]
        let h = weightHistogram(name: "conv1.weight", weights: w, channels: 1, quantizer: UniformWeightQuantizer(bits: 2),
                                bins: 4, barWidth: 4)
        #expect(h.before == [1, 1, 1, 2])
        #expect(h.after == [1, 0, 2, 2])
        let expected = """
        conv1.weight: 5 weights, w2 (3 distinct values after)
        bin  from       to         before       after
          1  -1         -0.5            1 ##         1 ##
          2  -0.5       0               1 ##         0
          3  0          0.5             1 ##         2 ####
          4  0.5        1               2 ####       2 ####
        """
        #expect(h.description == expected, "\n\(h.description)")
    }
}

/// Tiny weights (a layer trained with strong weight decay, a late layer of a deep net)
/// print in plain decimals through Formatting.Quantity.value, never `1.234e-05`.
@Suite struct TeachingViewValueFormatTests {
    @Test func tinyWeightsPrintWithoutExponents() {
        // k = 3, max|w| = 3e-5: s = 1e-5, levels −3e-5 … 3e-5.
        let w: [Float] = [0.5e-5, -1.5e-5, 3.0e-5, 2.5e-5, -0.25e-5, 1.0e-5]
        let l = levels(UniformWeightQuantizer(bits: 3), weights: w)
        #expect(l.description == "7 levels: -0.00003 -0.00002 -0.00001 0 0.00001 0.00002 0.00003\n5 of 7 used in this tensor")
        let explanation = QuantizerExplanation.weights(l)
        #expect(explanation.contains("s = max|w|/3 = 0.00001") && explanation.contains("clip ±0.00003"), "\(explanation)")
        let h = weightHistogram(name: "conv1.weight", weights: w, channels: 1, quantizer: UniformWeightQuantizer(bits: 3))
        // Bins centred on the levels, 0.0000025 wide; the edge columns widen to fit the digits.
        #expect(h.description.contains("\n  1  -0.00003125 -0.00002875      0 "), "\(h.description)")
        for text in [l.description, explanation, h.description] {
            #expect(!text.contains("e-0") && !text.contains("e+0"), "\(text)")
        }
    }
}
