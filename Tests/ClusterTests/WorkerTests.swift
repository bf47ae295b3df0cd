import Testing
import Foundation
import Tensors
import Datasets
import Networks
import Quantization
import Trials
@testable import Cluster

/// A folder with a small CSV dataset (4 features, 3 classes, label column `y`).
func csvFolder() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var rng = SplitMix64(seed: 11)
    var text = "a,b,c,d,y\n"
    for i in 0..<90 {
        let c = i % 3
        let f = (0..<4).map { k in String(Double(k == c ? 1 : 0) + 0.5 * rng.nextDouble()) }
        text += f.joined(separator: ",") + ",\(c)\n"
    }
    try text.write(toFile: dir + "/data.csv", atomically: true, encoding: .utf8)
    return dir
}

func tabularConfiguration(_ name: String, _ precision: String) throws -> Configuration {
    let spec = try ModelSpec(parsing: "dense 8 | relu | dense 3")
    return Configuration(name: name, modelName: "mlp", spec: spec, inputShape: [4], layerNames: ["dense1", "dense2"],
                         precisions: [LayerPrecision(precision)!, LayerPrecision("w8a8")!])
}

/// The worker trains exactly what a local run trains, and a task started again
/// continues from its checkpoints to the same numbers.
@Suite(.serialized) struct WorkerTests {
    init() { BLAS.setThreads(1) }

    func setUp(epochs: Int, stopAfter: Int?) throws -> (folder: String, plan: Plan, local: [TrialOutcome]) {
        let dir = try csvFolder()
        let d = try DatasetLoader.load("csv", path: dir + "/data.csv", options: ["label": "y"])
        let (val, rest) = stratifiedIndices(d.train, count: 12, classes: 3, seed: 1)
        let norm = Normalization.compute(d.train.subset(rest))
        let data = TrialData(train: d.train.subset(rest), validation: d.train.subset(val), test: d.test, normalization: norm)
        var s = TrainingSettings()
        s.epochs = epochs; s.batchSize = 8; s.schedule = "cosine"
        let configs = [try tabularConfiguration("a", "w4a4"), try tabularConfiguration("b", "w2a8"), try tabularConfiguration("c", "w32a32")]
        let trainers = try configs.map { try Trainer(configuration: $0, settings: s, seed: 9) }
        let local = TrialRunner.run(trainers.map { TrialJob(trainer: $0, epochs: epochs, evaluateTest: true) }, data: data, workers: 1)
        let planData = PlanData(loader: "csv", path: dir + "/data.csv", options: ["label": "y"], fingerprint: d.fingerprint,
                                train: rest, validation: val, test: true, normalization: norm)
        let fresh = try configs.map { try Trainer(configuration: $0, settings: s, seed: 9) }
        let plan = Plan(id: "test", kind: "final", data: planData,
                        jobs: fresh.map { PlanJob(trainer: $0, epochs: epochs, evaluateTest: true, stopAfterEpochs: stopAfter) },
                        tasks: Plan.pack(jobs: 3, perTask: 2), slurm: SlurmOptions(), executable: "/bin/false")
        for sub in ["results", "checkpoints", "logs"] {
            try FileManager.default.createDirectory(atPath: dir + "/plan/" + sub, withIntermediateDirectories: true)
        }
        try plan.write(folder: dir + "/plan")
        return (dir + "/plan", plan, local)
    }

    func merged(_ folder: String, _ plan: Plan) throws -> [Int: [ResultLine]] {
        var byJob: [Int: [ResultLine]] = [:]
        for t in plan.tasks.indices {
            for line in try ResultReader(path: Plan.resultsPath(folder, task: t)).readNew() { byJob[line.job, default: []].append(line) }
        }
        return byJob
    }

    @Test func workerEpochsAreTheLocalRunsBitForBit() throws {
        let (folder, plan, local) = try setUp(epochs: 3, stopAfter: nil)
        #expect(plan.tasks == [[0, 1], [2]])
        for t in plan.tasks.indices { try Worker.run(folder: folder, task: t) { _ in } }
        let lines = try merged(folder, plan)
        for (j, o) in local.enumerated() {
            let epochs = lines[j]!.compactMap(\.epoch).map(\.metrics)
            #expect(epochs.map(\.trainLoss) == o.epochs.map(\.trainLoss))
            #expect(epochs.map(\.validationAccuracy) == o.epochs.map(\.validationAccuracy))
            #expect(epochs.map(\.validationLoss) == o.epochs.map(\.validationLoss))
            #expect(lines[j]!.last?.type == "finished" && lines[j]!.last?.testAcc == o.testAccuracy)
        }
        // Run again (a requeue after the end): nothing is trained or written twice.
        try Worker.run(folder: folder, task: 0) { _ in }
        #expect(try merged(folder, plan)[0]!.count == 4)
    }

    @Test func taskStartedAgainContinuesFromItsCheckpoints() throws {
        // The first start stops after 1 epoch (as a task killed after its checkpoint);
        // its end lines are dropped, as a killed task never writes them.
        let (folder, plan, local) = try setUp(epochs: 3, stopAfter: 1)
        try Worker.run(folder: folder, task: 0) { _ in }
        let path = Plan.resultsPath(folder, task: 0)
        let kept = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.contains("\"finished\"") }
        try (kept.joined(separator: "\n") + "\n{\"job\":1,\"ty").write(toFile: path, atomically: true, encoding: .utf8)   // and a torn last line
        var again = plan
        for j in again.jobs.indices { again.jobs[j].stopAfterEpochs = nil }
        try again.write(folder: folder)
        var log: [String] = []
        try Worker.run(folder: folder, task: 0) { log.append($0) }
        #expect(log.contains("job 0 a: epochs 2…3"))
        let lines = try merged(folder, plan)
        for j in [0, 1] {
            #expect(lines[j]!.compactMap(\.epoch).map(\.metrics.trainLoss) == local[j].epochs.map(\.trainLoss))
            #expect(lines[j]!.last?.testAcc == local[j].testAccuracy)
        }
    }

    @Test func wrongFingerprintIsRefusedNamingBoth() throws {
        let (folder, plan, _) = try setUp(epochs: 1, stopAfter: nil)
        var bad = plan
        bad.data.fingerprint = "0000000000000000"
        try bad.write(folder: folder)
        #expect { try Worker.run(folder: folder, task: 0) { _ in } } throws: { e in
            "\(e)".contains("expected fingerprint 0000000000000000") && "\(e)".contains("found \(plan.data.fingerprint)")
        }
        #expect { try Worker.run(folder: folder, task: 7) { _ in } } throws: { e in "\(e)".contains("task 7 does not exist") }
    }
}

@Suite struct ResultFileTests {
    @Test func numbersRoundTripExactly() throws {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            let x = Double(bitPattern: rng.next() >> 2) * (rng.nextDouble() < 0.5 ? 1 : -1)
            guard x.isFinite else { continue }
            let m = EpochMetrics(epoch: 1, trainLoss: x, trainAccuracy: rng.nextDouble(), validationAccuracy: rng.nextDouble() / 3,
                                 seconds: rng.nextDouble(), imagesPerSecond: 1e4 * rng.nextDouble())
            let back = try ResultLine.parse(ResultLine.epoch(job: 2, m).text, file: "f", lineNumber: 1)
            #expect(back.epoch?.metrics == m)
        }
        let diverged = EpochMetrics(epoch: 3, trainLoss: .nan, trainAccuracy: 0, seconds: 1, imagesPerSecond: .infinity)
        let back = try ResultLine.parse(ResultLine.epoch(job: 0, diverged).text, file: "f", lineNumber: 1).epoch!.metrics
        #expect(back.trainLoss.isNaN && back.imagesPerSecond == .infinity)
    }

    @Test func readerTakesCompleteLinesOnceAndNamesBadOnes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("r-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let m = EpochMetrics(epoch: 1, trainLoss: 0.5, trainAccuracy: 0.25, seconds: 1, imagesPerSecond: 2)
        let line = ResultLine.epoch(job: 0, m).text
        try (line + "\n" + line + "\n{\"job\":0").write(toFile: path, atomically: true, encoding: .utf8)
        let r = ResultReader(path: path)
        #expect(try r.readNew().count == 1)          // the duplicate once, the torn line not yet
        let h = FileHandle(forWritingAtPath: path)!
        h.seekToEndOfFile(); h.write(Data(",\"status\":\"done\",\"type\":\"finished\"}\nnot json\n".utf8)); try h.close()
        #expect { try r.readNew() } throws: { "\($0)" == "\(path):4: expected a result line (JSON), found 'not json'" }
    }

    @Test func writerCutsATornLastLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("w-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let m = EpochMetrics(epoch: 1, trainLoss: 0.5, trainAccuracy: 0.25, seconds: 1, imagesPerSecond: 2)
        try (ResultLine.epoch(job: 0, m).text + "\n{\"job\":0,\"ep").write(toFile: path, atomically: true, encoding: .utf8)
        try ResultWriter(path: path).append(.finished(job: 0, TrialOutcome(name: "a", status: .done)))
        #expect(try ResultReader(path: path).readNew().map(\.type) == ["epoch", "finished"])
    }

    @Test func sbatchScriptAndPacking() throws {
        #expect(Plan.pack(jobs: 5, perTask: 2) == [[0, 1], [2, 3], [4]])
        #expect(SbatchScript.ranges([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8")
        var o = SlurmOptions()
        o.partition = "gpu"; o.time = "30"; o.arrayLimit = 2; o.cpus = 1
        let plan = Plan(id: "x", kind: "trial", data: PlanData(loader: "csv", path: "/d", options: [:], fingerprint: "f", train: [], validation: nil,
                                                                test: false, normalization: .identity(channels: 1)),
                        jobs: [], tasks: [[0], [1], [2], [3], [4], [5]], slurm: o, executable: "/opt/q l/quantlab")
        let s = SbatchScript.text(plan: plan, folder: "/p")
        #expect(s.contains("#SBATCH --array=0-5%2\n"))
        #expect(s.contains("#SBATCH --partition=gpu\n#") || s.contains("#SBATCH --partition=gpu\n"))
        #expect(s.contains("#SBATCH --time=30\n"))
        #expect(s.contains("#SBATCH --output=/p/logs/task-%a.out\n"))
        #expect(s.hasSuffix("exec '/opt/q l/quantlab' worker '/p' --task \"$SLURM_ARRAY_TASK_ID\"\n"))
        #expect(SbatchScript.text(plan: plan, folder: "/p", only: [1, 4]).contains("#SBATCH --array=1,4%2\n"))
    }
}

/// Result format 2: the fields a local run stores besides its epochs, validated; a bad
/// line names file, line and field, and a read that meets one returns nothing.
@Suite struct ResultFormatTests {
    let m = EpochMetrics(epoch: 2, trainLoss: 0.5, trainAccuracy: 0.25, validationLoss: 0.75, validationAccuracy: 0.5, seconds: 1, imagesPerSecond: 2)

    func file(_ lines: [String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("f-\(UUID().uuidString).jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func error(_ lines: [String], jobs: Set<Int>? = nil, dual: Set<Int> = []) throws -> String {
        let path = try file(lines)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = ResultReader(path: path, jobs: jobs, dual: dual)
        do { _ = try reader.readNew() } catch { return "\(error)".replacingOccurrences(of: path, with: "F") }
        return "no error"
    }

    @Test func newFieldsRoundTripExactly() throws {
        let cost = TrainedCost(bopsPerImage: 123456.78125, weightBits: 5.333333333333333, activationBits: 4.1, lowBits: 3)
        var low = m
        low.validationLoss = 1.25; low.validationAccuracy = 0.125; low.testLoss = 2.5; low.testAccuracy = 0.0625
        let line = ResultLine.epoch(job: 1, m, trainedCost: cost, low: low)
        let back = try ResultLine.parse(line.text, file: "f", lineNumber: 1)
        #expect(back == line && back.version == 2)
        #expect(back.trainedCost?.cost == cost)
        #expect(back.low?.metrics(of: m) == low)
        var o = TrialOutcome(name: "a", status: .done)
        o.trained = "depth dense1=t; params 1 bits 2 bops 3"
        #expect(try ResultLine.parse(ResultLine.finished(job: 0, o).text, file: "f", lineNumber: 1).trained == o.trained)
        // A format 1 line (no "v") reads as before.
        let old = #"{"epoch":{"epoch":1,"images_per_second":2,"seconds":1,"train_acc":0.25,"train_loss":0.5},"job":0,"type":"epoch"}"#
        #expect(try ResultLine.parse(old, file: "f", lineNumber: 1).version == nil)
    }

    @Test func badFieldsAreNamed() throws {
        let good = ResultLine.epoch(job: 0, m, trainedCost: TrainedCost(bopsPerImage: 1, weightBits: 8, activationBits: 8)).text
        func edited(_ from: String, _ to: String) -> String { good.replacingOccurrences(of: from, with: to) }
        #expect(try error([good, edited("\"val_acc\":0.5", "\"val_acc\":\"x\"")]) == "F:2: field 'epoch.val_acc': expected a number, found another kind of value")
        #expect(try error([edited("\"train_loss\":0.5,", "")]) == "F:1: field 'epoch.train_loss': expected it (a complete result line), found none; the line: '" + String(edited("\"train_loss\":0.5,", "").prefix(80)) + "'")
        #expect(try error([edited("\"bops\":1", "\"bops\":-1")]) == "F:1: field 'trained_cost.bops': expected a finite number ≥ 0, found -1.0")
        #expect(try error([edited("\"v\":2", "\"v\":3")]) == "F:1: field 'v': expected a result format 1…2 (this quantlab's), found 3 (written by a newer quantlab)")
        #expect(try error([edited("\"v\":2", "\"v\":1")]) == "F:1: field 'v': expected 2 on a line with trained_cost, low or trained, found 1")
        #expect(try error([edited("\"type\":\"epoch\"", "\"type\":\"epoc\"")]) == "F:1: field 'type': expected epoch or finished, found 'epoc'")
        #expect(try error([#"{"job":0,"status":"don","type":"finished","v":2}"#]) == "F:1: field 'status': expected done, diverged or interrupted, found 'don'")
        #expect(try error([good], jobs: [3, 4]) == "F:1: field 'job': expected one of this task's jobs (3, 4), found 0")
        #expect(try error([good], dual: [0]) == "F:1: field 'low': expected the low mode's evaluation (job 0 trains a dual-precision network), found none")
        #expect(try error([ResultLine.epoch(job: 0, m, low: m).text]) == "F:1: field 'low': expected none (job 0 has one precision mode), found one")
        #expect(try error([good, "{\"job\":0,"]) == "F:2: expected a result line (JSON), found '{\"job\":0,'")
    }

    @Test func aReadThatMeetsABadLineReturnsNothingAndStaysThere() throws {
        let good = ResultLine.epoch(job: 0, m).text
        let path = try file([good, "{\"job\":0,\"type\":\"epoch\",\"v\":2}"])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = ResultReader(path: path)
        for _ in 0..<2 {          // the same error again: the reader did not move past the bad line
            #expect { try reader.readNew() } throws: { "\($0)" == "\(path):2: field 'epoch': expected the epoch's metrics on an epoch line, found none" }
        }
        // Mended, the whole file is read from its first line.
        try (good + "\n" + ResultLine.finished(job: 0, TrialOutcome(name: "a", status: .done)).text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try reader.readNew().map(\.type) == ["epoch", "finished"])
    }
}
