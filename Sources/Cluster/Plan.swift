import Foundation
import Datasets
import Networks
import Quantization
import Trials

/// A run handed to Slurm: what every array task needs to train its configurations
/// exactly as a local run would, written as `plan.json` in a folder the nodes share.
///
/// The folder holds `plan.json`, `job.sbatch` (the array job), `results/task-N.jsonl`
/// (one per task, appended by the worker), `checkpoints/job-J.ckpt` (one per
/// configuration, replaced after every epoch), `logs/task-N.out` and `head.json` (the
/// head's bookkeeping: store path, run ids, job ids). Workers read the plan and write
/// only their own results, checkpoints and log; the head alone writes the store.
public struct Plan: Codable, Sendable {
    public static let formatVersion = 1
    public var version = Plan.formatVersion
    /// Folder name, unique per submission (`20261201-093012-trial-1a2b`).
    public var id: String
    /// `trial`, `final` or `search` (the store's run kind).
    public var kind: String
    public var data: PlanData
    public var jobs: [PlanJob]
    /// Job indices each array task trains, one after the other.
    public var tasks: [[Int]]
    public var slurm: SlurmOptions
    /// The quantlab binary the tasks run (an absolute path on the shared filesystem).
    public var executable: String

    public init(id: String, kind: String, data: PlanData, jobs: [PlanJob], tasks: [[Int]], slurm: SlurmOptions, executable: String) {
        self.id = id; self.kind = kind; self.data = data; self.jobs = jobs; self.tasks = tasks; self.slurm = slurm; self.executable = executable
    }

    /// Packs `jobs` configurations into tasks of at most `perTask`, in order.
    public static func pack(jobs: Int, perTask: Int) -> [[Int]] {
        stride(from: 0, to: jobs, by: max(1, perTask)).map { Array($0..<min(jobs, $0 + max(1, perTask))) }
    }
}

/// Where a plan's data comes from: the loader call, the files' fingerprint, and the
/// indices of the loaded training split that make this run's splits (so the worker
/// trains on the same samples in the same order, whatever sampling code it has).
public struct PlanData: Codable, Sendable {
    public var loader: String
    public var path: String?
    public var options: [String: String]
    public var fingerprint: String
    /// The run's training samples: indices into the loaded training split.
    public var train: [Int]
    /// The validation samples (indices into the loaded training split), nil for none.
    public var validation: [Int]?
    /// Evaluate on the loaded test split after the last epoch's of final runs.
    public var test: Bool
    /// The input normalisation, as Float bit patterns (exact).
    public var mean: [UInt32]
    public var std: [UInt32]
    /// What the head's session calls this data (``DataProvenance``), so results merged by a
    /// later `trial resume` say which data they came from; nil in plans written before it.
    public var provenance: DataProvenance?

    public init(loader: String, path: String?, options: [String: String], fingerprint: String, train: [Int], validation: [Int]?,
                test: Bool, normalization: Normalization, provenance: DataProvenance? = nil) {
        self.loader = loader; self.path = path; self.options = options; self.fingerprint = fingerprint
        self.train = train; self.validation = validation; self.test = test; self.provenance = provenance
        mean = normalization.mean.map(\.bitPattern); std = normalization.std.map(\.bitPattern)
    }

    public var normalization: Normalization {
        Normalization(mean: mean.map(Float.init(bitPattern:)), std: std.map(Float.init(bitPattern:)))
    }

    /// Loads the dataset, checks its fingerprint and builds the run's splits.
    public func load() throws -> TrialData {
        let d = try DatasetLoader.load(loader, path: path, options: options)
        guard d.fingerprint == fingerprint else {
            throw TrialError("dataset \(loader) at \(path ?? "its default path"): expected fingerprint \(fingerprint) (the plan's), found \(d.fingerprint); the files differ from the ones the head loaded")
        }
        for (what, indices) in [("train", train), ("validation", validation ?? [])] {
            if let bad = indices.first(where: { $0 < 0 || $0 >= d.train.count }) {
                throw TrialError("plan: \(what) index \(bad) outside the training split of \(d.train.count) samples")
            }
        }
        return TrialData(train: d.train.subset(train), validation: validation.map { d.train.subset($0) },
                         test: test ? d.test : nil, normalization: normalization)
    }
}

/// One configuration to bring to `epochs` total epochs.
public struct PlanJob: Codable, Sendable {
    public var configuration: PlanConfiguration
    /// The trainer's settings (configuration overrides applied).
    public var settings: TrainingSettings
    public var seed: UInt64
    public var scheduleEpochs: Int
    public var epochs: Int
    public var evaluateTest: Bool
    /// Epochs the trainer had when planned (a search's next rung); its state is then
    /// the job's checkpoint as the plan was written.
    public var startEpochs: Int
    /// Stop after this many epochs (replay of a run Ctrl-C stopped).
    public var stopAfterEpochs: Int?

    public init(trainer: Trainer, epochs: Int, evaluateTest: Bool, stopAfterEpochs: Int?) {
        configuration = PlanConfiguration(trainer.configuration)
        settings = trainer.settings; seed = trainer.seed; scheduleEpochs = trainer.scheduleEpochs
        self.epochs = epochs; self.evaluateTest = evaluateTest; startEpochs = trainer.epochsDone; self.stopAfterEpochs = stopAfterEpochs
    }

    /// A fresh trainer for this job (the worker's, and the same as the head's).
    public func makeTrainer() throws -> Trainer {
        try Trainer(configuration: try configuration.configuration(), settings: settings, seed: seed, scheduleEpochs: scheduleEpochs)
    }

    public var name: String { configuration.name }
}

/// A configuration as text that rebuilds it; `definition` checks the rebuild.
public struct PlanConfiguration: Codable, Sendable {
    public var name: String
    public var modelName: String
    public var spec: String
    public var inputShape: [Int]
    public var layerNames: [String]
    public var precisions: [String]
    public var options: QuantizerOptions
    public var overrides: [String: String]
    public var definition: String

    public init(_ c: Configuration) {
        name = c.name; modelName = c.modelName; spec = c.spec.text; inputShape = c.inputShape; layerNames = c.layerNames
        precisions = c.precisions.map(\.description); options = c.options; overrides = c.overrides; definition = c.definition
    }

    public func configuration() throws -> Configuration {
        let precisions = try self.precisions.map { p in
            guard let lp = LayerPrecision(p) else { throw TrialError("plan: configuration \(name): bad precision '\(p)'") }
            return lp
        }
        guard precisions.count == layerNames.count else {
            throw TrialError("plan: configuration \(name): \(precisions.count) precisions for \(layerNames.count) layers")
        }
        let c = Configuration(name: name, modelName: modelName, spec: try ModelSpec(parsing: spec), inputShape: inputShape,
                              layerNames: layerNames, precisions: precisions, options: options, overrides: overrides)
        guard c.definition == definition else {
            throw TrialError("plan: configuration \(name) rebuilds as '\(c.definition)', expected '\(definition)'")
        }
        return c
    }
}

/// How the array job is submitted.
public struct SlurmOptions: Codable, Sendable, Equatable {
    public var partition: String?
    /// Time limit per task, as sbatch takes it (`30`, `1:00:00`, `1-0`).
    public var time = "1:00:00"
    public var cpus = 1
    /// At most this many tasks run at once (`--array=0-N%K`).
    public var arrayLimit = 32
    /// Configurations per task (pack small ones).
    public var pack = 1
    /// Where plan folders go (on a filesystem the nodes share).
    public var plans = "slurm-plans"

    public init() {}

    /// `partition=… time=… cpus=… array-limit=… pack=… plans=…`
    public var text: String {
        "partition=\(partition ?? "default") time=\(time) cpus=\(cpus) array-limit=\(arrayLimit) pack=\(pack) plans=\(plans)"
    }
}

extension Plan {
    public static func read(folder: String) throws -> Plan {
        let path = folder + "/plan.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw TrialError("\(path): cannot read the plan") }
        let plan: Plan
        do { plan = try JSONDecoder().decode(Plan.self, from: data) }
        catch { throw TrialError("\(path): not a quantlab plan (\(error))") }
        guard plan.version == Plan.formatVersion else {
            throw TrialError("\(path): plan format \(plan.version), this quantlab reads \(Plan.formatVersion)")
        }
        return plan
    }

    public func write(folder: String) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        try writeFileAtomically(Array(try e.encode(self)), to: folder + "/plan.json")
    }

    public static func resultsPath(_ folder: String, task: Int) -> String { folder + "/results/task-\(task).jsonl" }
    public static func checkpointPath(_ folder: String, job: Int) -> String { folder + "/checkpoints/job-\(job).ckpt" }
    public static func logPath(_ folder: String, task: Int) -> String { folder + "/logs/task-\(task).out" }
}
