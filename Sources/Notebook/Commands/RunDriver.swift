import Foundation
import Formatting
import Tensors
import Datasets
import Store
import Trials
import Cluster

/// Runs trial jobs for a command: side by side on `ws.threads` workers, with live
/// progress frames, every epoch written to the results store as it ends, and
/// Ctrl-C stopping cleanly (finished epochs are kept).
struct RunDriver {
    let ws: Workspace
    let kind: RunKind
    let data: TrialData
    let datasetName: String
    let fingerprint: String

    /// The dataset's class count, for the fit check (nil: the largest label decides).
    var classes: Int? = nil
    /// Each job's seed for the store when they differ (trial run seeds=K); nil: the session seed.
    var jobSeeds: [UInt64]? = nil
    /// Train on Slurm as an array job (`on=slurm`); nil: on this machine.
    var slurm: SlurmRequest? = nil

    func run(_ jobs: [TrialJob], line: Int?) throws -> [TrialOutcome] {
        // Before anything is stored or trained: every model must take these samples
        // and end in one output per class (a mismatch used to corrupt memory).
        for job in jobs {
            do { try data.checkFits(job.trainer.model, configuration: job.trainer.configuration, classes: classes) }
            catch let e as TrialError { throw QuantlabError.runtime(e.message) }
        }
        // Replay of a run Ctrl-C stopped: stop each configuration where it stopped then.
        let jobs = jobs.map { job in
            var job = job
            job.stopAfterEpochs = ws.replayStop?.limit(for: job.trainer.configuration.name)
            return job
        }
        let store = try ws.state.store(ws)
        var runIDs: [Int64] = []
        var lowRuns: [Int: Int64] = [:]     // job → its dual network's low-mode run
        for (j, job) in jobs.enumerated() {
            let seed = jobSeeds.map { $0[j] } ?? ws.seed
            let cid = try ws.state.recordConfiguration(job.trainer, in: store)
            var record = RunRecord(
                configurationID: cid, kind: kind, dataset: datasetName, fingerprint: fingerprint, trainCount: data.train.count,
                settings: job.trainer.settings.text + " schedule_epochs=\(job.trainer.scheduleEpochs)", seed: Int(truncatingIfNeeded: seed), status: .running,
                session: ws.sessionName ?? ws.state.sessionName, sessionLine: ws.sessionLine ?? line)
            let low = job.trainer.configuration.lowMode
            record.mode = low == nil ? nil : "high"
            runIDs.append(try store.beginRun(record))
            if let low {
                record.configurationID = try ws.state.recordConfiguration(low, trainer: nil, in: store)
                record.mode = "low"
                record.parentRun = runIDs[j]
                lowRuns[j] = try store.beginRun(record)
            }
        }
        ws.state.ownRuns[store.path, default: []].formUnion(runIDs + lowRuns.values)
        let outcomes = try execute(names: jobs.map { $0.trainer.configuration.name }, runIDs: runIDs, store: store) { events in
            if let slurm { return try SlurmRun.submit(jobs, request: slurm, driver: self, runIDs: runIDs, lowRunIDs: lowRuns, store: store, events: events) }
            let interrupt = ws.interrupt
            return TrialRunner.run(jobs, data: data, workers: ws.threads, shouldStop: { interrupt.isSet }, events: events)
        }
        try Self.recordLowModes(lowRuns, outcomes, store)
        let stopped = zip(jobs, outcomes).filter { $0.1.status == .interrupted }
        if !stopped.isEmpty {
            ws.runStop = RunStop(epochs: stopped.map { ($0.0.trainer.configuration.name, $0.0.trainer.epochsDone) })
        }
        return outcomes
    }

    /// The progress line of an ended epoch, `fp    epoch 2  train loss 0.3154  val acc 0.8712  1234 img/s`,
    /// the name padded to `width`. A loss or accuracy that is not finite reads `nan` or `inf`
    /// (a diverged run showed `train loss -nan`, printf's text for x86's NaN).
    static func epochLine(_ name: String, width: Int, _ m: EpochMetrics) -> String {
        DisplayWidth.padded(name, to: width)
            + "  epoch \(m.epoch)  train loss \(Quantity.loss.prose(m.trainLoss))"
            + (m.validationAccuracy.map { "  val acc \(Quantity.accuracy.prose($0))" } ?? "")
            + (m.testAccuracy.map { "  test acc \(Quantity.accuracy.prose($0))" } ?? "")
            + "  \(Quantity.throughput.prose(m.imagesPerSecond)) img/s"
    }

    /// Runs the jobs named `names`, whose store runs are `runIDs`, through `body` (on this
    /// machine or on Slurm): the events it reports draw the live progress and write every
    /// epoch and each run's end to the store, the same way wherever the jobs train.
    func execute(names: [String], runIDs: [Int64], store: ResultsStore,
                 _ body: (@escaping (TrialEvent) -> Void) throws -> [TrialOutcome]) throws -> [TrialOutcome] {
        let width = names.map { DisplayWidth.columns($0) }.max() ?? 4   // terminal columns: names line up in CJK too
        // Live lines (redrawn on a terminal) and epoch summaries (final frames: a log
        // gets one line per finished epoch).
        var lines = names.map { DisplayWidth.padded($0, to: width) + "  waiting" }
        var summaries = lines
        var lastDraw = 0.0
        var storeError: Error?
        let progress = ws.progress
        let events: (TrialEvent) -> Void = { e in
            switch e {
            case let .started(j, name, epochs):
                lines[j] = DisplayWidth.padded(name, to: width) + "  starting (\(epochs) epochs)"
            case let .batch(j, b):
                let left = Double(b.batches - b.batch) / max(b.imagesPerSecond, 1) * Double(data.train.count) / Double(max(b.batches, 1))
                lines[j] = DisplayWidth.padded(names[j], to: width)
                    + String(format: "  epoch %d  batch %d/%d  acc %.3f  %.0f img/s  %.0fs left in epoch",
                             b.epoch, b.batch, b.batches, b.runningAccuracy, b.imagesPerSecond, left)
                let now = monotonicSeconds()
                if now - lastDraw > 0.25 { lastDraw = now; progress(ProgressFrame(lines: lines)) }
            case .lowModeEpoch:
                break       // stored with the run's end (recordLowModes), from the outcome
            case let .epochEnd(j, m):
                do {
                    try store.recordEpoch(EpochRecord(runID: runIDs[j], epoch: m.epoch, trainLoss: m.trainLoss, trainAcc: m.trainAccuracy,
                                                      valLoss: m.validationLoss, valAcc: m.validationAccuracy,
                                                      seconds: m.seconds, imagesPerSecond: m.imagesPerSecond,
                                                      cpuSeconds: m.cpuSeconds))
                } catch { storeError = error }
                lines[j] = Self.epochLine(names[j], width: width, m)
                summaries[j] = lines[j]
                progress(ProgressFrame(lines: summaries, final: true))
            case let .finished(j, o):
                do {
                    let status: RunStatus = o.status == .done ? .done : o.status == .diverged ? .diverged : .interrupted
                    try store.finishRun(id: runIDs[j], status: status, divergedEpoch: o.divergedEpoch,
                                        testAcc: o.testAccuracy, testLoss: o.testLoss, trained: o.trained,
                                        trainedBOPs: o.trainedCost?.bopsPerImage)
                } catch { storeError = error }
                if o.status != .done {
                    lines[j] = DisplayWidth.padded(names[j], to: width) + "  \(o.status.rawValue)"
                        + (o.divergedEpoch.map { " at epoch \($0)" } ?? "")
                    summaries[j] = lines[j]
                    progress(ProgressFrame(lines: summaries, final: true))
                }
            }
        }
        // Each outcome says which data it comes from, so analyses never mix data unawares.
        let outcomes = try body(events).map { o in
            var o = o
            o.data = o.data ?? data.provenance
            return o
        }
        if let storeError { throw QuantlabError.runtime("\(storeError)") }
        return outcomes
    }

    /// Stores the low mode of each dual-precision job (`lowRuns`: job → its run): the
    /// shared training's epochs with the low mode's validation, and its test result.
    /// A run whose results carry no low mode (Slurm workers before result format 2) ends
    /// its low-mode run with the trained run's status and no epochs.
    static func recordLowModes(_ lowRuns: [Int: Int64], _ outcomes: [TrialOutcome], _ store: ResultsStore) throws {
        for (j, id) in lowRuns.sorted(by: { $0.key < $1.key }) {
            let o = outcomes[j]
            for m in o.lowMode?.epochs ?? [] {
                try store.recordEpoch(EpochRecord(runID: id, epoch: m.epoch, trainLoss: m.trainLoss, trainAcc: m.trainAccuracy,
                                                  valLoss: m.validationLoss, valAcc: m.validationAccuracy,
                                                  seconds: m.seconds, imagesPerSecond: m.imagesPerSecond, cpuSeconds: m.cpuSeconds))
            }
            let status: RunStatus = o.status == .done ? .done : o.status == .diverged ? .diverged : .interrupted
            try store.finishRun(id: id, status: status, divergedEpoch: o.divergedEpoch, testAcc: o.lowMode?.testAccuracy,
                                testLoss: o.lowMode?.testLoss, trainedBOPs: o.trainedCost?.bopsPerImage)
        }
    }
}

extension DataState {
    /// Trials train on the representative sample and validate on the hold-out.
    var trialData: TrialData {
        TrialData(train: sample, validation: validation.count > 0 ? validation : nil, test: nil, normalization: normalization,
                  provenance: provenance(training: sampleText == "all" ? nil : "sample \(sample.count) (seed \(sampleSeed))", images: sample.count))
    }
    /// Final runs train on the whole training split and are tested on the test split.
    var finalData: TrialData {
        TrialData(train: train, validation: validation.count > 0 ? validation : nil, test: dataset.test, normalization: normalization,
                  provenance: provenance(training: nil, images: train.count))
    }

    /// Results on this data: `training` names a subset of the training split (nil: all of it).
    func provenance(training: String?, images: Int) -> DataProvenance {
        DataProvenance(dataset: heldOut, training: training ?? "the training split (\(train.count))", images: images)
    }

    /// `trial final … train=N`: final runs on a fixed stratified subset of N training
    /// images (stream 0x7F1A1 of the session seed, so not the trial sample's draw).
    func finalData(_ inv: Invocation, seed: UInt64) throws -> TrialData {
        var d = finalData
        if let n = try inv.int("train", in: min(classes, train.count)...train.count), n < train.count {
            d.train = stratifiedSample(train, count: n, classes: classes, seed: SplitMix64(seed: seed).fork(0x7F1A1).state)
            d.provenance = provenance(training: "\(n) of the training split (seed \(seed))", images: n)
        }
        return d
    }
}
