import GRDB

/// What a run is for: a short `trial`, a `final` run to the end, or a run a `search` drives.
public enum RunKind: String, Codable, Sendable, CaseIterable {
    case trial, final, search
}

/// Where a run stands. A run is `running` from ``ResultsStore/beginRun(_:)`` until
/// ``ResultsStore/finishRun(id:status:divergedEpoch:testAcc:testLoss:)``; a process
/// that dies in between leaves it `running`, and
/// ``ResultsStore/markInterrupted()`` turns such rows into `interrupted`.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running, done, diverged, interrupted
}

/// One training run of one configuration.
///
/// `settings` is the training settings as the trainer wrote them (`epochs=3 batch=64 …
/// schedule_epochs=9`, the last being the epochs the learning-rate schedule spans); `fingerprint` identifies the exact data the run saw; `session` and
/// `sessionLine` point at the command in `sessions/NAME.qlab` that started it
/// (nil when nothing was recording). `seed` is stored as a signed 64-bit integer:
/// pass a `UInt64` seed as `Int(truncatingIfNeeded:)`.
public struct RunRecord: Codable, Equatable, Sendable {
    public var id: Int64?
    public var configurationID: Int64
    public var kind: RunKind
    public var dataset: String
    public var fingerprint: String
    public var trainCount: Int
    public var settings: String
    public var seed: Int
    public var status: RunStatus
    public var divergedEpoch: Int?
    public var session: String?
    public var sessionLine: Int?
    public var started: String
    public var finished: String?
    public var testAcc: Double?
    public var testLoss: Double?
    /// `high` or `low` for a dual-precision network's modes, nil otherwise (schema v4).
    public var mode: String?
    /// The run that trained a low-mode run's weights.
    public var parentRun: Int64?
    /// Forward BOPs per training image at the precision trained, averaged over iterations.
    public var trainedBOPs: Double?

    public init(id: Int64? = nil, configurationID: Int64, kind: RunKind, dataset: String,
                fingerprint: String, trainCount: Int, settings: String = "{}", seed: Int,
                status: RunStatus = .running, divergedEpoch: Int? = nil,
                session: String? = nil, sessionLine: Int? = nil,
                started: String = Timestamp.now(), finished: String? = nil,
                testAcc: Double? = nil, testLoss: Double? = nil,
                mode: String? = nil, parentRun: Int64? = nil, trainedBOPs: Double? = nil) {
        self.id = id
        self.configurationID = configurationID
        self.kind = kind
        self.dataset = dataset
        self.fingerprint = fingerprint
        self.trainCount = trainCount
        self.settings = settings
        self.seed = seed
        self.status = status
        self.divergedEpoch = divergedEpoch
        self.session = session
        self.sessionLine = sessionLine
        self.started = started
        self.finished = finished
        self.testAcc = testAcc
        self.testLoss = testLoss
        self.mode = mode
        self.parentRun = parentRun
        self.trainedBOPs = trainedBOPs
    }

    enum CodingKeys: String, CodingKey {
        case id
        case configurationID = "configuration_id"
        case kind, dataset, fingerprint
        case trainCount = "train_count"
        case settings, seed, status
        case divergedEpoch = "diverged_epoch"
        case session
        case sessionLine = "session_line"
        case started, finished
        case testAcc = "test_acc"
        case testLoss = "test_loss"
        case mode
        case parentRun = "parent_run"
        case trainedBOPs = "trained_bops"
    }
}

extension RunRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "runs"

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
