import Foundation
import Synchronization
import Tensors
import Datasets

/// What a run reports as it goes; the progress display, the results store and the
/// statistics consume these, never the other way round.
public enum TrialEvent: Sendable {
    case started(job: Int, name: String, epochs: Int)
    case batch(job: Int, BatchProgress)
    case epochEnd(job: Int, EpochMetrics)
    /// A dual-precision network's epoch evaluated in its low mode, just before that
    /// epoch's `epochEnd` (a Slurm worker writes both on one result line).
    case lowModeEpoch(job: Int, EpochMetrics)
    case finished(job: Int, TrialOutcome)
}

public enum TrialStatus: String, Sendable, Equatable {
    case done, diverged, interrupted
}

/// The record of one configuration's run.
public struct TrialOutcome: Sendable {
    public var name: String
    public var status: TrialStatus
    public var divergedEpoch: Int?
    public var epochs: [EpochMetrics]
    public var testLoss: Double?, testAccuracy: Double?
    /// What training methods left (``Trainer/trainedSummary``): STQ depths, DMP's kept weights, trained cost.
    public var trained: String?
    /// A dual-precision network's run in its low mode (same training, evaluated with
    /// the low precision), nil otherwise.
    public var lowMode: LowModeOutcome?
    /// What the run trained (mean BOPs per training image, mean bits); nil when unknown.
    public var trainedCost: TrainedCost?
    /// The data it trained and was evaluated on (``TrialData/provenance``); nil when unknown.
    public var data: DataProvenance?
    public var last: EpochMetrics? { epochs.last }

    public init(name: String, status: TrialStatus, divergedEpoch: Int? = nil, epochs: [EpochMetrics] = [],
                testLoss: Double? = nil, testAccuracy: Double? = nil) {
        self.name = name; self.status = status; self.divergedEpoch = divergedEpoch; self.epochs = epochs
        self.testLoss = testLoss; self.testAccuracy = testAccuracy
    }
}

/// Which data a run's results come from: the dataset with its validation hold-out
/// (validation accuracy is measured there, test accuracy on its test split), and the
/// training images. Results of different data must not be compared as one set.
public struct DataProvenance: Sendable, Equatable, Hashable, Codable {
    /// The dataset and its hold-out, e.g. `csv 8aca04877a2faa9f, validation 24 (seed 42)`.
    public var dataset: String
    /// The training images, e.g. `sample 100 (seed 42)` or `the training split (216)`.
    public var training: String
    /// How many training images (what an epoch costs).
    public var images: Int
    public init(dataset: String, training: String, images: Int) {
        self.dataset = dataset; self.training = training; self.images = images
    }
    public var description: String { "\(dataset), trained on \(training)" }
}

/// The data a run trains and evaluates on.
public struct TrialData: Sendable {
    public var train: Split
    public var validation: Split?
    public var test: Split?
    public var normalization: Normalization
    /// What these splits are, for the outcomes' ``TrialOutcome/data``; nil when unknown.
    public var provenance: DataProvenance?
    public init(train: Split, validation: Split?, test: Split?, normalization: Normalization, provenance: DataProvenance? = nil) {
        self.train = train; self.validation = validation; self.test = test; self.normalization = normalization
        self.provenance = provenance
    }
}

/// One unit of work: bring `trainer` to `epochs` total epochs.
public struct TrialJob {
    public var trainer: Trainer
    public var epochs: Int
    /// Evaluate on the test split after the last epoch (final runs).
    public var evaluateTest: Bool
    /// Stop as interrupted once the trainer has finished this many epochs, before
    /// starting the next one: how a replay reproduces a run that Ctrl-C stopped
    /// (the learning-rate schedule still sees `epochs`).
    public var stopAfterEpochs: Int?
    public init(trainer: Trainer, epochs: Int, evaluateTest: Bool, stopAfterEpochs: Int? = nil) {
        self.trainer = trainer; self.epochs = epochs; self.evaluateTest = evaluateTest; self.stopAfterEpochs = stopAfterEpochs
    }
}

/// Runs jobs side by side, one per worker thread, each with one BLAS thread.
/// Results do not depend on the number of workers or on scheduling.
public enum TrialRunner {
    public static func run(_ jobs: [TrialJob], data: TrialData, workers: Int,
                           shouldStop: @escaping @Sendable () -> Bool = { false },
                           events: @escaping (TrialEvent) -> Void = { _ in }) -> [TrialOutcome] {
        // Checked by the compiler: outcomes and the event serialisation sit in mutexes.
        // Lent (see ForkJoinLoan): the jobs (each trainer is a class, used by one worker)
        // and `events`, which is not @Sendable and is only ever called with `emitLock` held.
        let loan = ForkJoinLoan((jobs: jobs, events: events))
        let emitLock = Mutex(())
        let outcomes = Mutex([TrialOutcome?](repeating: nil, count: jobs.count))
        parallelFor(jobs.count, workers: workers) { j in
            let emit: (TrialEvent) -> Void = { e in emitLock.withLock { _ in loan.value.events(e) } }
            let outcome = runOne(loan.value.jobs[j], index: j, data: data, shouldStop: shouldStop, emit: emit)
            outcomes.withLock { $0[j] = outcome }
        }
        return outcomes.withLock { $0.map { $0! } }
    }

    /// One job on the calling thread: the training loop every run shares (local
    /// runs through `run`, Slurm tasks through `Cluster.Worker`).
    public static func runOne(_ job: TrialJob, index j: Int, data: TrialData, shouldStop: () -> Bool,
                       emit: (TrialEvent) -> Void) -> TrialOutcome {
        let t = job.trainer
        var outcome = TrialOutcome(name: t.configuration.name, status: .done, divergedEpoch: nil, epochs: [])
        BLAS.generateKernels()   // once per process, before any epoch's clock starts
        emit(.started(job: j, name: t.configuration.name, epochs: job.epochs))
        while t.epochsDone < job.epochs {
            if let limit = job.stopAfterEpochs, t.epochsDone >= limit {
                outcome.status = .interrupted
                break
            }
            // A trial owns its thread (one compute thread each), so the thread's CPU
            // time is this configuration's training cost on this machine.
            let cpuStart = threadCPUSeconds()
            guard let r = t.trainEpoch(on: data.train, normalization: data.normalization,
                                       shouldStop: shouldStop, onBatch: { emit(.batch(job: j, $0)) }) else {
                outcome.status = .interrupted
                break
            }
            var m = EpochMetrics(epoch: t.epochsDone, trainLoss: r.loss, trainAccuracy: r.accuracy,
                                 seconds: r.seconds, imagesPerSecond: Double(r.images) / max(r.seconds, 1e-9),
                                 cpuSeconds: threadCPUSeconds() - cpuStart)
            if !r.loss.isFinite {
                outcome.status = .diverged
                outcome.divergedEpoch = t.epochsDone
                outcome.epochs.append(m)
                emit(.epochEnd(job: j, m))
                break
            }
            if let v = data.validation {
                let e = t.evaluate(on: v, normalization: data.normalization)
                m.validationLoss = e.loss; m.validationAccuracy = e.accuracy
            }
            if job.evaluateTest && t.epochsDone == job.epochs, let test = data.test {
                let e = t.evaluate(on: test, normalization: data.normalization)
                m.testLoss = e.loss; m.testAccuracy = e.accuracy
                outcome.testLoss = e.loss; outcome.testAccuracy = e.accuracy
            }
            if let low = t.dualLowMode {
                outcome.lowMode = LowModeOutcome.evaluate(t, at: low, epoch: m, data: data, test: job.evaluateTest && t.epochsDone == job.epochs,
                                                         into: outcome.lowMode)
                if let e = outcome.lowMode?.epochs.last { emit(.lowModeEpoch(job: j, e)) }
            }
            outcome.trainedCost = t.trainedCost
            outcome.epochs.append(m)
            emit(.epochEnd(job: j, m))
        }
        outcome.trained = t.trainedSummary
        emit(.finished(job: j, outcome))
        return outcome
    }
}

/// Runs body(0..<count) on `workers` threads pulling indices in order; returns once
/// every thread has finished (fork-join). `body` runs on several threads at once, so it
/// must be @Sendable: what it captures is checked by the compiler (or lent explicitly
/// through ``ForkJoinLoan``).
public func parallelFor(_ count: Int, workers: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let n = max(1, min(workers, count))
    if n == 1 { for i in 0..<count { body(i) }; return }
    let next = Atomic<Int>(0)   // the shared index, handed out in order
    let group = DispatchGroup()
    for _ in 0..<n {
        group.enter()
        let thread = Thread {
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= count { break }
                body(i)
            }
            group.leave()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
    group.wait()
}

/// Lends a non-Sendable value to the workers of one `parallelFor` call.
///
/// `@unchecked` because Swift cannot express a borrow scoped to threads that are joined
/// before the owner continues. What makes each use safe, audited by hand:
/// - `parallelFor` returns only after every worker has finished (`group.wait()`), so
///   the owner's later reads (a run's trainers' `epochsDone`) happen after the workers'
///   writes;
/// - element `i` of a lent array is touched only by the worker that drew index `i`
///   (each index is drawn once), and elements share no mutable state: every Trainer
///   builds its own model, optimizer and RNGs;
/// - a lent closure (TrialRunner's `events`) is called only with a lock held.
/// Keep this type private to the module and each loan inside one `parallelFor` scope.
struct ForkJoinLoan<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
