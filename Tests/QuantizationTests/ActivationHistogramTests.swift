import Foundation
import Testing
@testable import Quantization

/// The activation histogram against the quantizer's definition: levels j·c/L at bin
/// centres, every quantized value in the bin of its level, clipping shares counted.
@Suite struct ActivationHistogramTests {
    /// 2-bit, clip c = 3 (trained, frozen): L = 3, levels 0, 1, 2, 3. Inputs spread over
    /// [−0.505, 4.495]: below 0 → 0, above 3 → 3.
    @Test func twoBitOnKnownValues() {
        let q = UniformActivationQuantizer(bits: 2)
        q.clip = 3
        let inputs: [Float] = (0..<501).map { -0.505 + Float($0) * 0.01 }   // never on a boundary or a half step
        let outputs = q.forward(inputs, training: false)
        // The definition, in Double: (c/L)·round(clamp(x, 0, c)·L/c), half to even.
        for (x, y) in zip(inputs, outputs) {
            let r = (min(max(Double(x), 0), 3) * 3 / 3).rounded(.toNearestOrEven) * 3 / 3
            #expect(abs(Double(y) - r) < 1e-6, "q(\(x)) = \(y), expected \(r)")
        }
        let h = ActivationHistogram(name: "t", inputs: inputs, outputs: outputs, precision: .bits(2), clip: 3)
        #expect(h.clippedBelow == Double(inputs.filter { $0 < 0 }.count) / 501)
        #expect(h.clippedAbove == Double(inputs.filter { $0 > 3 }.count) / 501)
        #expect(h.clippedAbove == 150.0 / 501 && h.clippedBelow == 51.0 / 501)
        let e = h.histogram.edges
        #expect(h.histogram.before.reduce(0, +) == 501 && h.histogram.after.reduce(0, +) == 501)
        // Each level is the centre of a bin, and all its quantized values fall in that bin.
        for level in [0.0, 1, 2, 3] {
            let b = try! #require(e.indices.dropLast().first { e[$0] <= level && level < e[$0 + 1] })
            #expect(abs((e[b] + e[b + 1]) / 2 - level) < 1e-9, "level \(level) is not a bin centre: \(e[b])…\(e[b + 1])")
            #expect(h.histogram.after[b] == outputs.filter { Double($0) == level }.count)
        }
        #expect(h.histogram.after.filter { $0 > 0 }.count == 4, "one spike per level")
        #expect(h.histogram.title.contains("bins centred on the levels") && h.histogram.title.contains("(4 distinct values after)"))
        #expect(h.clippingLine == "clipped: 29.94% of the values above c = 3 (set to c, no gradient), 10.18% below 0 (set to 0).")
    }

    @Test func binaryAndFloat() {
        let inputs: [Float] = [-2, -0.5, 0, 0.5, 1.5, 3]
        let b = ActivationHistogram(name: "b", inputs: inputs, outputs: BinaryActivationQuantizer().forward(inputs, training: false),
                                    precision: .binary, clip: nil)
        #expect(b.clippedAbove + b.clippedBelow == 0.5)            // −2, 1.5, 3
        #expect(b.histogram.after.filter { $0 > 0 }.count == 2)
        let f = ActivationHistogram(name: "f", inputs: inputs, outputs: inputs, precision: .float, clip: nil)
        #expect(f.clippedAbove == 0 && f.clippedBelow == 0 && f.histogram.before.count == 16)
        #expect(f.clippingLine.hasPrefix("float32 activations"))
    }
}
