import Testing
import Foundation
import Tensors
import Datasets
import Networks
import Quantization
@testable import Trials

/// Training with a precision schedule or dual modes on the tiny synthetic data (96
/// images, batch 16: 6 iterations per epoch): the bits each iteration trains at, what
/// evaluation uses, the trained cost, shared weights, and checkpoints.
@Suite(.serialized) struct PrecisionScheduleTrainingTests {
    init() { BLAS.setThreads(1) }

    func trainer(_ precision: String, schedule: String? = nil, dual: String? = nil, epochs: Int = 2) throws -> Trainer {
        var c = try configuration("c", precision)
        if let schedule { c.options.precisionSchedule = try PrecisionSchedule(parsing: schedule) }
        if let dual { c.options.dual = try DualPrecision(parsing: dual) }
        return try Trainer(configuration: c, settings: settings(epochs: epochs), seed: 11)
    }

    /// The weight and activation bits of the first layer, read during training.
    func bits(_ t: Trainer) -> (Int, Int) {
        let l = t.model.weightedLayers[0]
        return ((l.weightQuantizer as! UniformWeightQuantizer).bits, (l.activationQuantizer as! UniformActivationQuantizer).bits)
    }

    func train(_ t: Trainer, epochs: Int, data: TrialData = syntheticData()) -> (TrialOutcome, [Int]) {
        var seen: [Int] = []
        var o = TrialOutcome(name: "c", status: .done)
        while t.epochsDone < epochs {
            _ = t.trainEpoch(on: data.train, normalization: data.normalization, onBatch: { _ in seen.append(self.bits(t).0) })
        }
        o.trainedCost = t.trainedCost
        return (o, seen)
    }

    /// cpt:3-8:2 over 2 epochs × 6 iterations: T = 6, bits 3, 3, 4, 6, 7, 8 per cycle (see
    /// PrecisionScheduleTests); evaluation and the end of each epoch are back at w8a8.
    @Test func cptTrainsTheCosineBitsAndEvaluatesAtItsOwnPrecision() throws {
        let t = try trainer("w8a8", schedule: "cpt:3-8:2")
        let (o, seen) = train(t, epochs: 2)
        #expect(seen == [3, 3, 4, 6, 7, 8, 3, 3, 4, 6, 7, 8])
        #expect(bits(t) == (8, 8))
        let cost = try #require(o.trainedCost)
        #expect(cost.weightBits == 62.0 / 12 && cost.activationBits == 62.0 / 12)
        // Trained BOPs: the mean over iterations of the cost model at each iteration's bits.
        let perBits = seen.map { Double(t.configuration.driven(at: ScheduledBits($0)).costReport(of: t.model).bops) }
        #expect(abs(cost.bopsPerImage - perBits.reduce(0, +) / 12) < 1e-6)
        #expect(cost.bopsPerImage < Double(t.cost.bops))
    }

    @Test func progressiveSwitchesAtTheGivenEpoch() throws {
        let t = try trainer("w4a4", schedule: "w8a8@1,w4a4@2,w6a6@4", epochs: 4)
        let (o, seen) = train(t, epochs: 4)
        #expect(seen == Array(repeating: 8, count: 6) + Array(repeating: 4, count: 12) + Array(repeating: 6, count: 6))
        #expect(o.trainedCost?.weightBits == 5.5)
        #expect(bits(t) == (4, 4))
    }

    /// Driving the bits in place trains exactly what a model built at those bits trains.
    @Test func aOneStageScheduleTrainsLikeTheFixedPrecision() throws {
        let data = syntheticData()
        let fixed = try trainer("w4a4")
        let driven = try trainer("w8a8", schedule: "w4a4@1")
        let a = TrialRunner.run([TrialJob(trainer: fixed, epochs: 2, evaluateTest: false)], data: data, workers: 1)[0]
        let b = TrialRunner.run([TrialJob(trainer: driven, epochs: 2, evaluateTest: false)], data: data, workers: 1)[0]
        #expect(a.epochs.map(\.trainLoss) == b.epochs.map(\.trainLoss))
        #expect(fixed.model.parameters.flatMap(\.value.data) == driven.model.parameters.flatMap(\.value.data))
    }

    /// The range test trains at 2, 3, … bits (20 iterations each) before cycling, and is
    /// recorded in the trained cost.
    @Test func rangeTestPicksTheLowerBound() throws {
        let t = try trainer("w8a8", schedule: "cpt:auto-8:4", epochs: 8)
        let (o, seen) = train(t, epochs: 8, data: syntheticData(count: 192))
        let low = try #require(o.trainedCost?.lowBits)
        #expect((2...8).contains(low))
        let testIterations = (low - 1) * PrecisionRangeTest.defaultWindow
        #expect(Array(seen.prefix(testIterations)) == (2...low).flatMap { Array(repeating: $0, count: PrecisionRangeTest.defaultWindow) })
        // Then CPT from the chosen bound, at the global iteration index (96 iterations, T = 24).
        #expect(seen.count == 96)
        for i in testIterations..<seen.count {
            #expect(seen[i] == PrecisionSchedule.cyclicBits(step: i, period: 24, low: low, high: 8))
        }
    }

    /// Dual: phase 1 (epochs 1–2 of 4) one pass, phase 2 two; the low mode is the same
    /// weights evaluated at w2a2: a fixed w2a2 model holding this model's state gives
    /// the same loss and accuracy.
    @Test func dualModesShareOneSetOfWeights() throws {
        let data = syntheticData()
        let t = try trainer("w8a8", dual: "w2a2", epochs: 4)
        let o = TrialRunner.run([TrialJob(trainer: t, epochs: 4, evaluateTest: true)], data: data, workers: 1)[0]
        let low = try #require(o.lowMode)
        #expect(low.epochs.count == 4 && low.testAccuracy != nil)
        #expect(low.epochs.map(\.trainLoss) == o.epochs.map(\.trainLoss))
        var state = TrainingState()
        t.model.captureState(into: &state)
        let twin = try trainer("w2a2")
        try twin.model.restoreState(from: state)
        let e = twin.evaluate(on: data.test!, normalization: data.normalization)
        #expect(e.accuracy == low.testAccuracy && e.loss == low.testLoss)
        let high = try trainer("w8a8")
        try high.model.restoreState(from: state)
        #expect(high.evaluate(on: data.test!, normalization: data.normalization).accuracy == o.testAccuracy)
        // Trained cost: 12 iterations of w8a8, then 12 of w8a8 + w2a2.
        let b8 = Double(t.cost.bops), b2 = Double(t.configuration.driven(at: ScheduledBits(2)).costReport(of: t.model).bops)
        #expect(abs(o.trainedCost!.bopsPerImage - (12 * b8 + 12 * (b8 + b2)) / 24) < 1e-6)
        #expect(t.configuration.lowMode?.name == "c@w2a2")
        #expect(t.configuration.lowMode?.canonicalText.hasSuffix("dual=w2a2 mode=low") == true)
        #expect(t.configuration.lowMode?.family == "dual" && t.configuration.family == "dual")
    }

    @Test(arguments: ["cpt:auto-8:4", "w8a8@1,w4a4@3", "dual"])
    func resumedEqualsUninterrupted(_ method: String) throws {
        let data = syntheticData()
        func make() throws -> Trainer {
            method == "dual" ? try trainer("w8a8", dual: "w2a2", epochs: 4) : try trainer("w8a8", schedule: method, epochs: 4)
        }
        let whole = try make()
        let a = TrialRunner.run([TrialJob(trainer: whole, epochs: 4, evaluateTest: true)], data: data, workers: 1)[0]
        let first = try make()
        _ = TrialRunner.run([TrialJob(trainer: first, epochs: 2, evaluateTest: true)], data: data, workers: 1)
        let bytes = TrainerCheckpoint.encode(first.checkpointState())
        let resumed = try make()
        try resumed.restore(try TrainerCheckpoint.decode(bytes, file: "x"))
        let b = TrialRunner.run([TrialJob(trainer: resumed, epochs: 4, evaluateTest: true)], data: data, workers: 1)[0]
        #expect(b.epochs.map(\.trainLoss) == Array(a.epochs.map(\.trainLoss).suffix(2)))
        #expect(b.testAccuracy == a.testAccuracy)
        #expect(b.lowMode?.testAccuracy == a.lowMode?.testAccuracy)
        #expect(b.trainedCost == a.trainedCost)
        #expect(resumed.checkpointState() == whole.checkpointState())
    }

    @Test func methodsNeedKBitLayers() throws {
        #expect(throws: TrialError.self) { try trainer("w1a1", schedule: "cpt:3-8") }
        #expect(throws: TrialError.self) { try Trainer(configuration: try trainer("w8a8", dual: "w2a2").configuration.lowMode!, settings: settings(), seed: 1) }
    }
}
