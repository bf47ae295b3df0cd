import Datasets
import Quantization

/// A dual-precision network's run seen in its low mode: the same training epochs
/// (train loss and accuracy are the trained, high-mode ones; time is the shared
/// training's), validated and tested with the driven layers at the low bits.
public struct LowModeOutcome: Sendable {
    public var bits: ScheduledBits
    public var epochs: [EpochMetrics] = []
    public var testLoss: Double?, testAccuracy: Double?

    public init(bits: ScheduledBits, epochs: [EpochMetrics] = [], testLoss: Double? = nil, testAccuracy: Double? = nil) {
        self.bits = bits; self.epochs = epochs; self.testLoss = testLoss; self.testAccuracy = testAccuracy
    }

    /// `earlier` plus epoch `m` evaluated in the low mode.
    static func evaluate(_ t: Trainer, at bits: ScheduledBits, epoch m: EpochMetrics, data: TrialData, test: Bool,
                         into earlier: LowModeOutcome?) -> LowModeOutcome {
        var o = earlier ?? LowModeOutcome(bits: bits)
        var e = m
        e.validationLoss = nil; e.validationAccuracy = nil; e.testLoss = nil; e.testAccuracy = nil
        if let v = data.validation {
            let r = t.evaluate(on: v, normalization: data.normalization, at: bits)
            e.validationLoss = r.loss; e.validationAccuracy = r.accuracy
        }
        if test, let split = data.test {
            let r = t.evaluate(on: split, normalization: data.normalization, at: bits)
            e.testLoss = r.loss; e.testAccuracy = r.accuracy
            o.testLoss = r.loss; o.testAccuracy = r.accuracy
        }
        o.epochs.append(e)
        return o
    }

    /// The low mode as an outcome of its own, named `name` (`NAME@w2a2`), with the
    /// trained run's status: what correlate, pareto and the store treat as a point.
    public func outcome(name: String, of run: TrialOutcome) -> TrialOutcome {
        var o = TrialOutcome(name: name, status: run.status, divergedEpoch: run.divergedEpoch, epochs: epochs,
                             testLoss: testLoss, testAccuracy: testAccuracy)
        o.trainedCost = run.trainedCost
        o.data = run.data
        return o
    }
}
