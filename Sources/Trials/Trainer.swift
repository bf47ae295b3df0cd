import Tensors
import Networks
import Datasets
import Quantization

/// Metrics of one epoch.
public struct EpochMetrics: Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double, trainAccuracy: Double
    public var validationLoss: Double?, validationAccuracy: Double?
    public var testLoss: Double?, testAccuracy: Double?
    public var seconds: Double
    public var imagesPerSecond: Double
    /// CPU time of the training thread for the epoch's training (measured; differs
    /// between runs, so never part of a recorded result).
    public var cpuSeconds: Double = 0

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, validationLoss: Double? = nil, validationAccuracy: Double? = nil,
                testLoss: Double? = nil, testAccuracy: Double? = nil, seconds: Double, imagesPerSecond: Double, cpuSeconds: Double = 0) {
        self.epoch = epoch; self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss; self.validationAccuracy = validationAccuracy
        self.testLoss = testLoss; self.testAccuracy = testAccuracy; self.seconds = seconds; self.imagesPerSecond = imagesPerSecond
        self.cpuSeconds = cpuSeconds
    }
}

/// Progress inside an epoch, for the live display.
public struct BatchProgress: Sendable {
    public var epoch: Int, batch: Int, batches: Int
    public var runningAccuracy: Double
    public var imagesPerSecond: Double
}

/// Trains one configuration: owns its model, optimizer and seeded random streams,
/// so a trial is a function of (configuration, data, settings, seed) alone — the
/// same whichever thread runs it, and whatever runs beside it.
public final class Trainer {
    public let configuration: Configuration
    public let settings: TrainingSettings
    public let model: Sequential
    let optimizer: Optimizer          // internal: Trainer+Checkpoint saves its state
    private let schedule: LRSchedule
    /// The number of epochs the learning-rate schedule spans (see ``init(configuration:settings:seed:scheduleEpochs:)``).
    public let scheduleEpochs: Int
    var orderRNG: SplitMix64          // internal (with augmentRNG, epochsDone): Trainer+Checkpoint
    var augmentRNG: SplitMix64
    public internal(set) var epochsDone = 0
    /// The seed the weights and streams come from.
    public let seed: UInt64
    var labels: [Int32] = []           // internal: the training step (Trainer+PrecisionSchedule) reads it
    /// ProxConnect, STQ, DMP and CoNNTrA (`Methods/MethodHooks.swift`).
    let methods: MethodHooks
    /// Precision schedule or dual modes (`schedule=`, `dual=`); nil at fixed precision.
    let precisionControl: PrecisionController?

    /// Weights come from `seed` alone (not from the configuration), so every
    /// configuration of an architecture starts from the same weights and sees the
    /// same batches: differences between trials are the precision's.
    ///
    /// The schedule (`cosine`, `step`) spans the epochs this trainer will train:
    /// `scheduleEpochs`, by default the `epochs` setting (after the configuration's
    /// overrides). A search passes the most epochs a configuration can reach (its
    /// `max`), so its rungs continue one schedule instead of decaying to rate 0 at
    /// the `epochs` setting and training on at 0.
    public init(configuration: Configuration, settings: TrainingSettings, seed: UInt64,
                scheduleEpochs: Int? = nil) throws {
        self.configuration = configuration
        self.seed = seed
        var s = settings
        try s.apply(configuration.overrides)
        self.settings = s
        let root = SplitMix64(seed: seed)
        model = try configuration.buildModel(seed: root.fork(1).state)
        orderRNG = root.fork(2)
        augmentRNG = root.fork(3)
        methods = try MethodHooks(model: model, configuration: configuration)
        precisionControl = try PrecisionController(configuration: configuration, model: model)
        switch s.optimizer {
        case "sgd": optimizer = SGD(momentum: s.momentum, weightDecay: s.weightDecay)
        default: optimizer = Adam(weightDecay: s.weightDecay)
        }
        let span = max(1, scheduleEpochs ?? s.epochs)
        self.scheduleEpochs = span
        switch s.schedule {
        case "cosine": schedule = .cosine(total: span, minLR: 0)
        case "step": schedule = .step(every: max(1, span / 3), gamma: 0.1)
        default: schedule = .constant
        }
    }

    /// The learning rate of epoch `epoch` (counted from 0).
    public func learningRate(epoch: Int) -> Float {
        schedule.rate(base: settings.learningRate, epoch: epoch, totalEpochs: scheduleEpochs)
    }

    /// The cost report of the configuration, from this trainer's own model.
    public private(set) lazy var cost: CostReport = configuration.costReport(of: model)

    /// One epoch over `split` in a seeded random order. Returns nil when
    /// `shouldStop` interrupted it (the epoch is then not counted). `images` is how
    /// many it trained on: `split.count`, fewer when a non-finite loss ended it early.
    public func trainEpoch(on split: Split, normalization: Normalization,
                           shouldStop: () -> Bool = { false },
                           onBatch: (BatchProgress) -> Void = { _ in }) -> (loss: Double, accuracy: Double, seconds: Double, images: Int)? {
        let epoch = epochsDone + 1
        let order = orderRNG.permutation(split.count)
        let batch = settings.batchSize
        let batches = (split.count + batch - 1) / batch
        let lr = learningRate(epoch: epochsDone)
        let params = model.parameters
        let augmentation: Augmentation? = settings.augment && split.sampleShape.count == 3 && split.sampleShape[1] == 32
            ? Augmentation(cropPadding: 4, flip: true) : nil
        var lossSum = 0.0, correct = 0, seen = 0
        let start = monotonicSeconds()
        defer { precisionControl?.restoreDeployed() }     // evaluation runs at the configuration's precision
        for b in 0..<batches {
            if shouldStop() { return nil }
            let lo = b * batch, hi = min(split.count, lo + batch)
            model.withInput { x in
                fillBatch(split, indices: order[lo..<hi], normalization: normalization, augmentation: augmentation,
                          rng: &augmentRNG, x: &x, labels: &labels)
            }
            methods.beforeBatch(step: epochsDone * batches + b)
            model.zeroGrad()
            let (loss, right) = forwardBackward(iteration: epochsDone * batches + b, iterations: scheduleEpochs * batches)
            methods.afterBackward()
            if !methods.replacesStep(model, labels: labels) { optimizer.step(params, learningRate: lr) }
            lossSum += loss * Double(hi - lo)
            correct += right
            seen += hi - lo
            if !loss.isFinite { break }
            let elapsed = monotonicSeconds() - start
            onBatch(BatchProgress(epoch: epoch, batch: b + 1, batches: batches,
                                  runningAccuracy: Double(correct) / Double(seen),
                                  imagesPerSecond: Double(seen) / max(elapsed, 1e-9)))
        }
        epochsDone += 1
        return (lossSum / Double(max(seen, 1)), Double(correct) / Double(max(seen, 1)), monotonicSeconds() - start, seen)
    }

    /// Mean loss and accuracy on `split`, in evaluation mode.
    public func evaluate(on split: Split, normalization: Normalization, batchSize: Int = 500) -> (loss: Double, accuracy: Double) {
        evaluateModel(model, on: split, normalization: normalization, batchSize: batchSize)
    }
}

/// Mean loss and accuracy of `model` on `split`, in evaluation mode (a `Sequential`,
/// or a `PackedModel`, timed or not).
public func evaluateModel(_ model: some BatchForward, on split: Split, normalization: Normalization, batchSize: Int = 500) -> (loss: Double, accuracy: Double) {
    guard split.count > 0 else { return (.nan, .nan) }
    var labels: [Int32] = []
    var rng = SplitMix64(seed: 0)
    var lossSum = 0.0, correct = 0
    let all = Array(0..<split.count)
    var lo = 0
    while lo < split.count {
        let hi = min(split.count, lo + batchSize)
        model.withInput { x in
            fillBatch(split, indices: all[lo..<hi], normalization: normalization, augmentation: nil, rng: &rng, x: &x, labels: &labels)
        }
        let logits = model.inferenceForward()
        let (loss, right) = SoftmaxCrossEntropy.loss(logits: logits, labels: labels)
        lossSum += loss * Double(hi - lo)
        correct += right
        lo = hi
    }
    return (lossSum / Double(split.count), Double(correct) / Double(split.count))
}
