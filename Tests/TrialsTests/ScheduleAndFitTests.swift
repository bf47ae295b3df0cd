import Foundation
import Testing
import Tensors
import Datasets
import Networks
import Quantization
@testable import Trials

@Suite struct ScheduleAndFitTests {
    /// Issue "Trust", item 16: a search with max=9 and the default epochs=3 used a
    /// cosine over 3 epochs and trained at rate 0 from epoch 3 on. The schedule now
    /// spans the epochs the trainer can reach: lr_e = 0.01 · (1 + cos(π e / 9)) / 2.
    @Test func cosineSpansTheSearchMaximum() throws {
        var s = settings(epochs: 3)
        s.schedule = "cosine"
        let t = try Trainer(configuration: try configuration("a", "w8a8"), settings: s, seed: 1, scheduleEpochs: 9)
        let rates = (0..<9).map { t.learningRate(epoch: $0) }
        let expected: [Float] = (0..<9).map { (e: Int) -> Float in
            let angle: Double = Double.pi * Double(e) / 9
            return Float(0.01 * (1 + cos(angle)) / 2)
        }
        for (r, x) in zip(rates, expected) { #expect(abs(r - x) < 1e-7, "\(rates)") }
        #expect(rates[3] > 0.007 && rates[8] > 0)           // 0.0075 and 0.00030, not 0
    }

    /// Without a search the schedule spans the run: the `epochs` setting after the
    /// configuration's own override (epochs=6 here, not the session's 3).
    @Test func scheduleSpansTheConfigurationsEpochs() throws {
        var s = settings(epochs: 3)
        s.schedule = "step"
        var c = try configuration("a", "w8a8")
        c.overrides = ["epochs": "6"]
        let t = try Trainer(configuration: c, settings: s, seed: 1)
        #expect(t.scheduleEpochs == 6)
        // step every 6/3 = 2 epochs by 0.1: 0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001
        let rates = (0..<6).map { t.learningRate(epoch: $0) }
        let expected: [Float] = [0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001]
        for (r, x) in zip(rates, expected) { #expect(abs(r - x) < 1e-9, "\(rates)") }
    }

    /// Issue "Trust", item 4: a model for 3×32×32 on 1×8×8 data used to corrupt memory.
    @Test func modelThatDoesNotTakeTheSamplesIsRefused() throws {
        let spec = try ModelSpec(parsing: "conv 4 k3 | relu | dense 3")
        let c = Configuration(name: "c", modelName: "m", spec: spec, inputShape: [3, 32, 32],
                              layerNames: ["conv1", "dense1"], precisions: [.float, .float])
        let t = try Trainer(configuration: c, settings: settings(), seed: 1)
        #expect(throws: TrialError.self) { try syntheticData().checkFits(t.model, configuration: c) }
        do { try syntheticData().checkFits(t.model, configuration: c) } catch let e as TrialError {
            #expect(e.message == "configuration c: model m takes 3×32×32 inputs but the data has 1×8×8 samples; define the model for 1×8×8 (or leave out input=)")
        }
    }

    @Test func modelWithTheWrongNumberOfOutputsIsRefused() throws {
        let spec = try ModelSpec(parsing: "conv 4 k3 | relu | dense 10")
        let c = Configuration(name: "c", modelName: "m", spec: spec, inputShape: [1, 8, 8],
                              layerNames: ["conv1", "dense1"], precisions: [.float, .float])
        let t = try Trainer(configuration: c, settings: settings(), seed: 1)
        do {
            try syntheticData().checkFits(t.model, configuration: c)
            Issue.record("no error")
        } catch let e as TrialError {
            #expect(e.message == "configuration c: model m ends in 10 outputs but the data has 3 classes: end with dense 3")
        }
        try syntheticData().checkFits(t.model, configuration: c, classes: 10)   // 10 classes declared, labels 0…2 present
        let good = try Trainer(configuration: try configuration("a", "w8a8"), settings: settings(), seed: 1)
        try syntheticData().checkFits(good.model, configuration: good.configuration)
    }

    /// The cost a run records comes from the trainer's own model and equals the
    /// stand-alone report.
    @Test func trainerCostEqualsTheConfigurationsReport() throws {
        let c = try configuration("a", "w4a4")
        let t = try Trainer(configuration: c, settings: settings(), seed: 5)
        #expect(t.cost == (try c.costReport()))
    }
}
