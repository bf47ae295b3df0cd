import Testing
import Foundation
@testable import Quantization

/// CPT's bit widths, the precision range test, progressive stages and the dual
/// option, against values computed by hand from the definitions in PrecisionSchedule.swift.
struct PrecisionScheduleTests {
    /// B_t = round_half_even(3 + 2.5(1 − cos(π t/4))), T = 4:
    /// t=0: 3; t=1: 3 + 2.5·(1 − 0.70711) = 3.732 → 4; t=2: 5.5 → 6 (tie, even);
    /// t=3: 3 + 2.5·1.70711 = 7.268 → 7; t=4 starts the next cycle: 3.
    @Test func cyclicBitsOverOneCycle() {
        #expect((0..<9).map { PrecisionSchedule.cyclicBits(step: $0, period: 4, low: 3, high: 8) } == [3, 4, 6, 7, 3, 4, 6, 7, 3])
    }

    /// Ties round half to even, also where cos is inexact: cos(π/3) = 0.5000000000000001
    /// makes 2 + 3·(1 − cos(π/3)) = 3.4999999999999996, a tie by definition → 4;
    /// cos(2π/3) gives 6.499999999999999 → 6. low 2, high 7, T = 2, t = 1: 4.5 → 4.
    @Test func tiesRoundHalfToEven() {
        #expect(PrecisionSchedule.cyclicBits(step: 2, period: 6, low: 2, high: 8) == 4)
        #expect(PrecisionSchedule.cyclicBits(step: 4, period: 6, low: 2, high: 8) == 6)
        #expect(PrecisionSchedule.cyclicBits(step: 1, period: 2, low: 2, high: 7) == 4)
        #expect(PrecisionSchedule.cyclicBits(step: 3, period: 6, low: 3, high: 8) == 6)      // 5.5 → 6
        #expect([2.5, 3.5, 2.4, 2.6, 4.4999999999999, 7.0].map(PrecisionSchedule.roundHalfEven) == [2, 4, 2, 3, 4, 7])
        // T = 6, 3…8 (the trainer test's schedule): 3, 3.335, 4.25, 5.5, 6.75, 7.665.
        #expect((0..<6).map { PrecisionSchedule.cyclicBits(step: $0, period: 6, low: 3, high: 8) } == [3, 3, 4, 6, 7, 8])
    }

    @Test func periodIsIterationsOverCycles() {
        #expect(PrecisionSchedule.period(iterations: 282, cycles: 32) == 8)
        #expect(PrecisionSchedule.period(iterations: 10, cycles: 32) == 1)
        #expect(PrecisionSchedule.cyclicBits(step: 5, period: 1, low: 3, high: 8) == 3)
    }

    @Test func parsesAndPrintsTheNotation() throws {
        #expect(try PrecisionSchedule(parsing: "cpt:3-8") == .cyclic(low: 3, high: 8, cycles: 32))
        #expect(try PrecisionSchedule(parsing: "cpt:3-8").description == "cpt:3-8")
        #expect(try PrecisionSchedule(parsing: "cpt:3-8:16").description == "cpt:3-8:16")
        #expect(try PrecisionSchedule(parsing: "cpt:auto-8") == .cyclic(low: nil, high: 8, cycles: 32))
        let p = try PrecisionSchedule(parsing: "w8a8@1,w4a4@3")
        #expect(p.description == "w8a8@1,w4a4@3")
        guard case let .progressive(stages) = p else { Issue.record("not progressive"); return }
        #expect((1...5).map { PrecisionSchedule.stage(of: stages, epoch: $0).description } == ["w8a8", "w8a8", "w4a4", "w4a4", "w4a4"])
        for bad in ["cpt:9-3", "cpt:1-8", "cpt:3-8:0", "cpt:3", "cpt:x-8", "w8a8@2", "w8a8@1,w4a4@1", "wta4@1", "w8a8", "w8a32@1", "cpt:3-8:2:1"] {
            #expect(throws: QuantizationNotationError.self, "\(bad)") { try PrecisionSchedule(parsing: bad) }
        }
        do { _ = try PrecisionSchedule(parsing: "cpt:9-3") } catch let e as QuantizationNotationError {
            #expect(e.message == "schedule=cpt:9-3: LOW 9 is above HIGH 3; expected cpt:LOW-HIGH[:CYCLES] (bits 2…16, e.g. cpt:3-8), cpt:auto-HIGH, or stages like w8a8@1,w4a4@3")
        }
    }

    /// Window 4, threshold 0.05: 2 bits flat (0 gain) → 3; at 3 bits the halves are 0.11 and
    /// 0.135 (gain 0.025) → 4; at 4 bits 0.20 and 0.31 (gain 0.11 > 0.05) → B_min = 4.
    @Test func rangeTestOnASyntheticCurve() {
        var t = PrecisionRangeTest(high: 8, window: 4, threshold: 0.05)
        let curve = [0.1, 0.1, 0.1, 0.1, 0.1, 0.12, 0.13, 0.14, 0.2, 0.2, 0.3, 0.32]
        var trainedAt: [Int] = []
        for a in curve { trainedAt.append(t.bits); t.record(accuracy: a) }
        #expect(trainedAt == [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4])
        #expect(t.result == 4)
        t.record(accuracy: 0.9)                       // decided: later iterations change nothing
        #expect(t.result == 4 && t.accuracies.isEmpty)
        // Never improving: stops at B_max.
        var flat = PrecisionRangeTest(high: 3, window: 2, threshold: 0.05)
        for _ in 0..<10 { flat.record(accuracy: 0.5) }
        #expect(flat.result == 3)
    }

    @Test func dualOption() throws {
        let d = try DualPrecision(parsing: "w2a2")
        #expect(d.low == ScheduledBits(2) && d.jointStart(epochs: 4) == 3 && d.jointStart(epochs: 3) == 2 && d.jointStart(epochs: 1) == 1)
        #expect(try DualPrecision(parsing: "w2a4@2").jointStart(epochs: 10) == 2)
        #expect(try DualPrecision(parsing: "w2a4@2").description == "w2a4@2")
        for bad in ["w2", "w2a2@0", "w1a1", "wta2", "w2a2@x"] {
            #expect(throws: QuantizationNotationError.self, "\(bad)") { try DualPrecision(parsing: bad) }
        }
    }

    @Test func quantizersChangeBitsInPlace() {
        let w = UniformWeightQuantizer(bits: 8)
        let x: [Float] = [-1, -0.3, 0.1, 0.55, 1]
        w.setBits(2)
        #expect(w.quantized(x) == UniformWeightQuantizer(bits: 2).quantized(x))
        w.setBits(8)
        #expect(w.quantized(x) == UniformWeightQuantizer(bits: 8).quantized(x))
        let a = UniformActivationQuantizer(bits: 8)
        _ = a.forward([0, 0.5, 1], training: true)          // clip 1
        a.setBits(2)
        #expect(a.clip == 1)
        #expect(a.forward([0.2, 0.5, 0.9], training: false) == [Float(1) / 3, Float(2) / 3, 1])
    }
}
