import Testing
import Foundation
import Tensors
import Datasets
import Networks
import Quantization
@testable import Trials

/// A checkpoint between epochs resumes training bit for bit: the definition a Slurm
/// task relies on after preemption or requeue.
@Suite(.serialized) struct CheckpointTests {
    init() { BLAS.setThreads(1) }

    /// Every kind of saved state: batch norm, dropout, a moving-average clip, a PACT
    /// clip, stochastic rounding; Adam and SGD with momentum; augmentation off.
    func trainer(_ optimizer: String, _ options: QuantizerOptions, precision: String = "w4a4") throws -> Trainer {
        let spec = try ModelSpec(parsing: "conv 4 k3 | bn | relu | maxpool 2 | dense 8 | relu | dropout 0.25 | dense 3")
        let c = Configuration(name: "c", modelName: "tiny", spec: spec, inputShape: [1, 8, 8],
                              layerNames: ["conv1", "dense1", "dense2"],
                              precisions: Array(repeating: LayerPrecision(precision)!, count: 3), options: options)
        var s = settings(epochs: 4)
        s.optimizer = optimizer
        s.schedule = "cosine"
        return try Trainer(configuration: c, settings: s, seed: 7)
    }

    @Test(arguments: [("adam", false, false), ("sgd", true, false), ("adam", false, true)])
    func resumedEqualsUninterrupted(optimizer: String, stochastic: Bool, pact: Bool) throws {
        var options = QuantizerOptions()
        options.stochastic = stochastic
        options.pact = pact
        let data = syntheticData()
        let whole = try trainer(optimizer, options)
        let a = TrialRunner.run([TrialJob(trainer: whole, epochs: 4, evaluateTest: true)], data: data, workers: 1)[0]

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try trainer(optimizer, options)
        let b1 = TrialRunner.run([TrialJob(trainer: first, epochs: 2, evaluateTest: true)], data: data, workers: 1)[0]
        try first.saveCheckpoint(to: dir + "/c.ckpt")
        let resumed = try trainer(optimizer, options)
        try resumed.loadCheckpoint(from: dir + "/c.ckpt")
        #expect(resumed.epochsDone == 2)
        let b2 = TrialRunner.run([TrialJob(trainer: resumed, epochs: 4, evaluateTest: true)], data: data, workers: 1)[0]

        let epochs = b1.epochs + b2.epochs
        #expect(epochs.map(\.epoch) == [1, 2, 3, 4])
        #expect(epochs.map(\.trainLoss) == a.epochs.map(\.trainLoss))
        #expect(epochs.map(\.validationAccuracy) == a.epochs.map(\.validationAccuracy))
        #expect(b2.testAccuracy == a.testAccuracy)
        #expect(resumed.model.parameters.flatMap(\.value.data) == whole.model.parameters.flatMap(\.value.data))
        #expect(resumed.checkpointState() == whole.checkpointState())
    }

    @Test func checkpointOfAnotherConfigurationIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try trainer("adam", QuantizerOptions()).saveCheckpoint(to: dir + "/a.ckpt")
        let other = try trainer("adam", QuantizerOptions(), precision: "w8a8")
        #expect(throws: TrialError.self) { try other.loadCheckpoint(from: dir + "/a.ckpt") }
    }

    @Test func damagedCheckpointsNameFileAndOffset() throws {
        let bytes = TrainerCheckpoint.encode(try trainer("adam", QuantizerOptions()).checkpointState())
        #expect(try TrainerCheckpoint.decode(bytes, file: "x") == (try trainer("adam", QuantizerOptions()).checkpointState()))
        for cut in [0, 5, 20, bytes.count / 2, bytes.count - 1] {
            do {
                _ = try TrainerCheckpoint.decode(Array(bytes[0..<cut]), file: "x.ckpt")
                Issue.record("a checkpoint cut at \(cut) bytes was accepted")
            } catch let e as TrialError {
                #expect(e.message.hasPrefix("x.ckpt: offset "))
            }
        }
        var flipped = bytes
        flipped[bytes.count / 2] ^= 1
        #expect(throws: TrialError.self) { try TrainerCheckpoint.decode(flipped, file: "x.ckpt") }
    }
}
