import GRDB

/// Metrics at the end of one epoch of one run (epochs count from 1).
///
/// Losses and accuracies are optional: a diverged loss is NaN, which SQLite stores
/// as NULL, and a run without a validation split has no validation metrics.
/// Accuracies are fractions in [0, 1]. `seconds` is the epoch's wall time for
/// training alone; `imagesPerSecond` the training throughput; `cpuSeconds` the CPU time
/// of the training thread for the epoch's training (nil in rows recorded before schema v3).
public struct EpochRecord: Codable, Equatable, Sendable {
    public var runID: Int64
    public var epoch: Int
    public var trainLoss: Double?
    public var trainAcc: Double?
    public var valLoss: Double?
    public var valAcc: Double?
    public var seconds: Double
    public var imagesPerSecond: Double
    public var cpuSeconds: Double?

    public init(runID: Int64, epoch: Int, trainLoss: Double?, trainAcc: Double?,
                valLoss: Double?, valAcc: Double?, seconds: Double, imagesPerSecond: Double, cpuSeconds: Double? = nil) {
        self.runID = runID
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAcc = trainAcc
        self.valLoss = valLoss
        self.valAcc = valAcc
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
        self.cpuSeconds = cpuSeconds
    }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case epoch
        case trainLoss = "train_loss"
        case trainAcc = "train_acc"
        case valLoss = "val_loss"
        case valAcc = "val_acc"
        case seconds
        case imagesPerSecond = "images_per_second"
        case cpuSeconds = "cpu_seconds"
    }
}

extension EpochRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "epochs"
}
