import Foundation

/// Weight and activation bit widths of the layers a schedule drives (k-bit, 2…16).
public struct ScheduledBits: Hashable, Sendable, Codable, CustomStringConvertible {
    public var weight: Int
    public var activation: Int
    public init(weight: Int, activation: Int) { self.weight = weight; self.activation = activation }
    public init(_ both: Int) { self.init(weight: both, activation: both) }

    /// Parses `w4a4` (k-bit weights and activations only).
    public init?(_ text: String) {
        guard let p = LayerPrecision(text), p.gradient == .float,
              case .bits(let w) = p.weight, case .bits(let a) = p.activation else { return nil }
        self.init(weight: w, activation: a)
    }

    public var description: String { "w\(weight)a\(activation)" }
}

/// A precision that changes while a configuration trains (`schedule=` in the notation).
/// It drives the layers whose configured weights are k-bit (their activations too when
/// k-bit); float, ternary and binary layers keep their precision. Validation, test,
/// export and the inference cost use the configuration's own precision.
///
/// - `cpt:LOW-HIGH[:CYCLES]` — cyclic precision training (Fu et al., ICLR 2021): weight
///   and activation bits at iteration t (0-based, over the whole run) are
///
///       B_t = round_half_even(B_min + ½(B_max − B_min)(1 − cos(π·(t mod T)/T))),  T = ⌊iterations / cycles⌋ (≥ 1)
///
///   32 cycles unless given. `cpt:auto-HIGH` finds B_min with the precision range test
///   (``PrecisionRangeTest``) over the first iterations.
/// - `wWaA@E,wWaA@E,…` — progressive precision: each stage from epoch E (1-based) on;
///   the first stage starts at epoch 1.
public enum PrecisionSchedule: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `low` nil: found by the precision range test.
    case cyclic(low: Int?, high: Int, cycles: Int)
    case progressive([Stage])

    public struct Stage: Hashable, Sendable, Codable {
        public var bits: ScheduledBits
        /// 1-based first epoch of the stage.
        public var fromEpoch: Int
        public init(bits: ScheduledBits, fromEpoch: Int) { self.bits = bits; self.fromEpoch = fromEpoch }
    }

    public static let defaultCycles = 32
    /// Values whose fractional part is within this of ½ are ties (cos(π/2), cos(π/3) are
    /// not exact in floating point, so a true tie would otherwise fall either way).
    public static let tieTolerance = 1e-9

    /// Parses `cpt:3-8`, `cpt:3-8:16`, `cpt:auto-8`, `w8a8@1,w4a4@3`; the error says what was expected.
    public init(parsing text: String) throws {
        func bad(_ why: String) -> QuantizationNotationError {
            QuantizationNotationError("schedule=\(text): \(why); expected cpt:LOW-HIGH[:CYCLES] (bits 2…16, e.g. cpt:3-8), cpt:auto-HIGH, or stages like w8a8@1,w4a4@3")
        }
        if text.hasPrefix("cpt:") {
            let parts = text.dropFirst(4).split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 1 || parts.count == 2 else { throw bad("too many ':' parts") }
            let range = parts[0].split(separator: "-", omittingEmptySubsequences: false)
            guard range.count == 2, let high = Int(range[1]), (2...16).contains(high) else { throw bad("'\(parts[0])' is not LOW-HIGH") }
            var low: Int?
            if range[0] != "auto" {
                guard let l = Int(range[0]), (2...16).contains(l) else { throw bad("'\(range[0])' is not a bit width 2…16 or auto") }
                guard l <= high else { throw bad("LOW \(l) is above HIGH \(high)") }
                low = l
            }
            var cycles = Self.defaultCycles
            if parts.count == 2 {
                guard let c = Int(parts[1]), (1...100_000).contains(c) else { throw bad("cycles '\(parts[1])' is not an integer 1…100000") }
                cycles = c
            }
            self = .cyclic(low: low, high: high, cycles: cycles)
            return
        }
        var stages: [Stage] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = item.split(separator: "@", omittingEmptySubsequences: false)
            guard pair.count == 2, let bits = ScheduledBits(String(pair[0])) else {
                throw bad("'\(item)' is not wWaA@EPOCH with k-bit weights and activations")
            }
            guard let e = Int(pair[1]), e >= 1 else { throw bad("'\(pair[1])' in '\(item)' is not an epoch ≥ 1") }
            if let last = stages.last, e <= last.fromEpoch { throw bad("epochs must increase (\(last.fromEpoch), then \(e))") }
            stages.append(Stage(bits: bits, fromEpoch: e))
        }
        guard stages.first?.fromEpoch == 1 else { throw bad("the first stage must start at epoch 1") }
        self = .progressive(stages)
    }

    /// The canonical text (what `config show` and the store's definition carry).
    public var description: String {
        switch self {
        case let .cyclic(low, high, cycles):
            return "cpt:\(low.map(String.init) ?? "auto")-\(high)" + (cycles == Self.defaultCycles ? "" : ":\(cycles)")
        case let .progressive(stages):
            return stages.map { "\($0.bits)@\($0.fromEpoch)" }.joined(separator: ",")
        }
    }

    /// The method's name in per-family tables.
    public var method: String {
        switch self {
        case .cyclic: return "cpt"
        case .progressive: return "progressive"
        }
    }

    /// CPT's bit width at iteration `step` (0-based) of a cosine cycle of `period` iterations.
    public static func cyclicBits(step: Int, period: Int, low: Int, high: Int) -> Int {
        let T = max(1, period)
        let phase = Double(step % T) / Double(T)
        let v = Double(low) + 0.5 * Double(high - low) * (1 - cos(Double.pi * phase))
        return roundHalfEven(v)
    }

    /// Round half to even, treating values within ``tieTolerance`` of a half as ties.
    public static func roundHalfEven(_ v: Double) -> Int {
        let f = v.rounded(.down)
        if abs(v - f - 0.5) < tieTolerance { return Int(f) % 2 == 0 ? Int(f) : Int(f) + 1 }
        return Int(v.rounded(.toNearestOrEven))
    }

    /// The CPT period T = ⌊iterations / cycles⌋, at least 1.
    public static func period(iterations: Int, cycles: Int) -> Int { max(1, iterations / max(1, cycles)) }

    /// The progressive stage of `epoch` (1-based).
    public static func stage(of stages: [Stage], epoch: Int) -> ScheduledBits {
        (stages.last { $0.fromEpoch <= epoch } ?? stages[0]).bits
    }
}

/// The precision range test of CPT: picks B_min by training at 2 bits, then 3, … (at
/// most B_max), `window` iterations each, until the mean training accuracy of the
/// window's second half exceeds that of its first half by more than `threshold`, a
/// sign that training converges at that precision. B_min is the precision it stops
/// at (B_max if none passes). Fed one batch accuracy per iteration.
public struct PrecisionRangeTest: Hashable, Sendable {
    public static let defaultWindow = 20
    public static let defaultThreshold = 0.05
    public let high: Int
    public let window: Int
    public let threshold: Double
    /// The precision being tested (the one to train at while ``result`` is nil).
    public private(set) var bits: Int
    /// Batch accuracies of the current window.
    public private(set) var accuracies: [Double] = []
    /// B_min once decided.
    public private(set) var result: Int?

    public init(high: Int, start: Int = 2, window: Int = defaultWindow, threshold: Double = defaultThreshold) {
        precondition(window >= 2, "PrecisionRangeTest: window must be ≥ 2")
        self.high = high; self.window = window; self.threshold = threshold
        bits = min(start, high)
    }

    /// Restores a saved state (checkpoints).
    public init(high: Int, bits: Int, accuracies: [Double], result: Int?, window: Int = defaultWindow, threshold: Double = defaultThreshold) {
        self.init(high: high, start: bits, window: window, threshold: threshold)
        self.accuracies = accuracies
        self.result = result
    }

    /// Records one iteration's training accuracy (trained at ``bits``).
    public mutating func record(accuracy: Double) {
        guard result == nil else { return }
        accuracies.append(accuracy)
        guard accuracies.count >= window else { return }
        let half = window / 2
        let first = accuracies[0..<half].reduce(0, +) / Double(half)
        let second = accuracies[half...].reduce(0, +) / Double(window - half)
        accuracies = []
        if second - first > threshold || bits >= high { result = bits } else { bits += 1 }
    }
}

/// The dual-precision network (Park, Choi, Ko 2020): one set of latent weights trained
/// for the configuration's own precision (the high mode) and `low` (`dual=w2a2`), and
/// evaluated in both without retraining. Two phases: epochs before `jointFrom` train
/// the high mode alone; from `jointFrom` (1-based; default ⌊E/2⌋ + 1 of the E epochs
/// the run spans) every batch trains both modes, on ½(L_high + L_low).
public struct DualPrecision: Hashable, Sendable, Codable, CustomStringConvertible {
    public var low: ScheduledBits
    public var jointFrom: Int?
    /// Marks the low mode seen as a configuration of its own (`NAME@w2a2`: its
    /// precisions are the low ones), so its definition differs from a fixed-precision
    /// configuration's and from the trained network's.
    public var isLowModeView = false
    public init(low: ScheduledBits, jointFrom: Int? = nil) { self.low = low; self.jointFrom = jointFrom }

    /// Parses `w2a2` or `w2a2@3`.
    public init(parsing text: String) throws {
        let pair = text.split(separator: "@", omittingEmptySubsequences: false)
        guard (1...2).contains(pair.count), let low = ScheduledBits(String(pair[0])) else {
            throw QuantizationNotationError("dual=\(text): expected the low mode's k-bit precision, e.g. dual=w2a2, optionally dual=w2a2@EPOCH (joint training from that epoch)")
        }
        var from: Int?
        if pair.count == 2 {
            guard let e = Int(pair[1]), e >= 1 else { throw QuantizationNotationError("dual=\(text): '\(pair[1])' is not an epoch ≥ 1") }
            from = e
        }
        self.init(low: low, jointFrom: from)
    }

    public var description: String { low.description + (jointFrom.map { "@\($0)" } ?? "") + (isLowModeView ? " mode=low" : "") }

    /// The first epoch (1-based) of joint training in a run spanning `epochs` epochs.
    public func jointStart(epochs: Int) -> Int { jointFrom ?? (epochs / 2 + 1) }
}

/// A malformed schedule or dual-precision option.
public struct QuantizationNotationError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
