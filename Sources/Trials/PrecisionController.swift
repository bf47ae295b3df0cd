import Networks
import Quantization
import Tensors

/// Drives a configuration's precision schedule or dual modes on a built model: sets the
/// bit widths of its k-bit quantizers in place before each training pass (no rebuild,
/// so clips, optimizer state and the integer forward's links carry over), puts the
/// configuration's own precision back for evaluation, runs CPT's precision range test,
/// and counts what was trained (the trained cost).
///
/// Driven layers: those whose configured weights are k-bit; their activations too when
/// k-bit. The schedule's position is the iteration index (epochs done × batches per
/// epoch + batch), so it follows from the trainer's epoch count; the range test's state
/// and the trained-cost sums are saved in checkpoints (``capture(into:)``).
final class PrecisionController {
    let schedule: PrecisionSchedule?
    let dual: DualPrecision?
    private let weights: [UniformWeightQuantizer]
    private let activations: [UniformActivationQuantizer]
    private let deployedWeights: [Int]
    private let deployedActivations: [Int]
    private(set) var rangeTest: PrecisionRangeTest?
    /// Forward BOPs per image at given driven bits (the cost model on the trainer's model).
    private let bopsAt: (ScheduledBits?) -> Double
    private var bopsCache: [ScheduledBits: Double] = [:]
    private var deployedBOPs: Double?

    /// Sums over the training passes so far (one pass per iteration, two in dual's joint
    /// phase): forward BOPs per image, and the driven weight and activation bits.
    private(set) var iterations = 0
    private(set) var passes = 0
    private(set) var bopsSum = 0.0
    private(set) var weightBitsSum = 0.0
    private(set) var activationBitsSum = 0.0

    /// Nil when the configuration has neither a schedule nor a dual mode.
    init?(configuration c: Configuration, model: Sequential) throws {
        guard c.options.precisionSchedule != nil || c.options.dual != nil else { return nil }
        guard c.options.dual?.isLowModeView != true else {
            throw TrialError("\(c.name) is the low mode of a dual-precision network; train the network itself")
        }
        schedule = c.options.precisionSchedule
        dual = c.options.dual
        var ws: [UniformWeightQuantizer] = [], acts: [UniformActivationQuantizer] = []
        for layer in model.weightedLayers {
            guard let w = layer.weightQuantizer as? UniformWeightQuantizer else { continue }
            ws.append(w)
            if let a = layer.activationQuantizer as? UniformActivationQuantizer { acts.append(a) }
        }
        guard !ws.isEmpty else {
            throw TrialError("\(c.name): schedule= and dual= drive k-bit layers, and every weighted layer's weights are float, ternary or binary (\(c.precisionSummary))")
        }
        weights = ws; activations = acts
        deployedWeights = ws.map(\.bits); deployedActivations = acts.map(\.bits)
        if case let .cyclic(nil, high, _) = c.options.precisionSchedule { rangeTest = PrecisionRangeTest(high: high) }
        bopsAt = { bits in
            guard let bits else { return Double(c.costReport(of: model).bops) }
            return Double(c.driven(at: bits).costReport(of: model).bops)
        }
    }

    /// Whether iteration `epoch` (0-based epochs done) trains both dual modes.
    func isJoint(epoch: Int, scheduleEpochs: Int) -> Bool {
        guard let dual else { return false }
        return epoch + 1 >= dual.jointStart(epochs: scheduleEpochs)
    }

    /// The driven bits of one iteration (nil: the configuration's own precision).
    func scheduledBits(iteration t: Int, iterations: Int, epoch: Int) -> ScheduledBits? {
        switch schedule {
        case nil: return nil
        case let .progressive(stages)?: return PrecisionSchedule.stage(of: stages, epoch: epoch + 1)
        case let .cyclic(low, high, cycles)?:
            var lowBits = low
            if let test = rangeTest {
                guard let found = test.result else { return ScheduledBits(test.bits) }
                lowBits = found
            }
            let T = PrecisionSchedule.period(iterations: iterations, cycles: cycles)
            return ScheduledBits(PrecisionSchedule.cyclicBits(step: t, period: T, low: lowBits!, high: high))
        }
    }

    /// Sets the driven quantizers to `bits`, or back to the configuration's own precision.
    func apply(_ bits: ScheduledBits?) {
        for (q, d) in zip(weights, deployedWeights) { q.setBits(bits?.weight ?? d) }
        for (q, d) in zip(activations, deployedActivations) { q.setBits(bits?.activation ?? d) }
    }

    /// The configuration's own precision (evaluation, export, the end of every epoch).
    func restoreDeployed() { apply(nil) }

    /// Counts one training pass at `bits` (nil: the configuration's own precision).
    func countPass(_ bits: ScheduledBits?) {
        passes += 1
        let b: Double
        if let bits {
            if let known = bopsCache[bits] { b = known } else { b = bopsAt(bits); bopsCache[bits] = b }
            weightBitsSum += Double(bits.weight); activationBitsSum += Double(bits.activation)
        } else {
            if deployedBOPs == nil { deployedBOPs = bopsAt(nil) }
            b = deployedBOPs!
            weightBitsSum += Double(deployedWeights.max()!); activationBitsSum += Double(deployedActivations.max() ?? 32)
        }
        bopsSum += b
    }

    /// Ends an iteration: the range test sees its training accuracy.
    func endIteration(accuracy: Double) {
        iterations += 1
        rangeTest?.record(accuracy: accuracy)
    }

    /// What was trained so far, nil before any iteration.
    var trainedCost: TrainedCost? {
        guard iterations > 0 else { return nil }
        let n = Double(passes)
        return TrainedCost(bopsPerImage: bopsSum / Double(iterations), weightBits: weightBitsSum / n,
                           activationBits: activationBitsSum / n, lowBits: rangeTest?.result)
    }

    // MARK: checkpoints

    private static let prefix = "trainer/precision/"

    func capture(into s: inout TrainingState) {
        s.values[Self.prefix + "counts"] = .words([UInt64(iterations), UInt64(passes)])
        s.values[Self.prefix + "sums"] = .words([bopsSum, weightBitsSum, activationBitsSum].map(\.bitPattern))
        if let t = rangeTest {
            s.values[Self.prefix + "range_test"] = .words([UInt64(t.bits), UInt64(t.result ?? 0)])
            s.values[Self.prefix + "range_window"] = .words(t.accuracies.map(\.bitPattern))
        }
    }

    func restore(from s: TrainingState) throws {
        let counts = try s.words(Self.prefix + "counts", count: 2)
        let sums = try s.words(Self.prefix + "sums", count: 3).map(Double.init(bitPattern:))
        iterations = Int(counts[0]); passes = Int(counts[1])
        bopsSum = sums[0]; weightBitsSum = sums[1]; activationBitsSum = sums[2]
        if let t = rangeTest {
            let w = try s.words(Self.prefix + "range_test", count: 2)
            let window = try s.words(Self.prefix + "range_window")
            rangeTest = PrecisionRangeTest(high: t.high, bits: Int(w[0]), accuracies: window.map(Double.init(bitPattern:)),
                                           result: w[1] == 0 ? nil : Int(w[1]))
        }
    }
}

/// What a run trained, for the trained cost beside the inference cost: forward BOPs per
/// training image averaged over iterations (dual's joint phase counts both passes), and
/// the mean weight and activation bits of the driven layers over the passes.
public struct TrainedCost: Sendable, Equatable {
    public var bopsPerImage: Double
    public var weightBits: Double
    public var activationBits: Double
    /// B_min the precision range test chose (cpt:auto), else nil.
    public var lowBits: Int?

    public init(bopsPerImage: Double, weightBits: Double, activationBits: Double, lowBits: Int? = nil) {
        self.bopsPerImage = bopsPerImage; self.weightBits = weightBits; self.activationBits = activationBits; self.lowBits = lowBits
    }
}

extension Configuration {
    /// This configuration with its driven layers (k-bit weights) at `bits`, without
    /// schedule or dual mode: the cost of training at those bits, and the dual network's
    /// low mode as a point of its own (named `NAME@wWaA`).
    public func driven(at bits: ScheduledBits, name: String? = nil) -> Configuration {
        var c = self
        c.name = name ?? self.name
        c.precisions = precisions.map { p in
            guard case .bits = p.weight else { return p }
            var q = p
            q.weight = .bits(bits.weight)
            if case .bits = p.activation { q.activation = .bits(bits.activation) }
            return q
        }
        c.options.precisionSchedule = nil
        c.options.dual = nil
        return c
    }

    /// The dual network's low mode as a configuration of its own (`NAME@w2a2`: the low
    /// precisions, `dual=… mode=low` in its definition), nil without one.
    public var lowMode: Configuration? {
        guard let dual = options.dual, !dual.isLowModeView else { return nil }
        var c = driven(at: dual.low, name: "\(name)@\(dual.low)")
        c.options.dual = dual
        c.options.dual!.isLowModeView = true
        return c
    }
}
