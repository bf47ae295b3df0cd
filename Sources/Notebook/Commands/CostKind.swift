import Foundation
import Formatting
import Quantization
import Trials

/// What `cost=` means wherever a command prices configurations (`pareto`, `search …`,
/// `sensitivity`): packed weight memory, bit operations, estimated energy, or the
/// training time measured on this machine.
enum CostKind: String, CaseIterable {
    case memory, bops, energy, time

    /// The unit of the numbers.
    var unit: String {
        switch self {
        case .memory: return "KiB"
        case .bops: return "bit operations"
        case .energy: return "µJ"
        case .time: return "ms/image"
        }
    }

    /// An axis label.
    var label: String {
        switch self {
        case .memory: return "weight memory (KiB)"
        case .bops: return "bit operations"
        case .energy: return "energy (µJ, estimate)"
        case .time: return "training time (CPU ms per image, measured)"
        }
    }

    /// The quantity whose unit and number format the values of this kind are shown in.
    var quantity: Quantity {
        switch self {
        case .memory: return .memory
        case .bops: return .bops
        case .energy: return .energy
        case .time: return .trainingTime
        }
    }

    /// Table or prose text for a value of this kind (in the unit `cost(_:_:_:)` returns:
    /// KiB, bit operations, µJ, ms per image), through the shared formatter.
    func format(_ x: Double) -> String { quantity.formatShown(x) }

    /// Whether the value is a measurement (differs between runs): recorded results
    /// write such numbers as `~X`, which `replay --verify` does not compare.
    var isMeasured: Bool { self == .time }

    /// `cost=` of `inv`, one of `allowed`.
    static func parse(_ inv: Invocation, default value: CostKind, allowed: [CostKind] = CostKind.allCases) throws -> CostKind {
        CostKind(rawValue: try inv.choice("cost", allowed.map(\.rawValue), default: value.rawValue))!
    }

    /// A value of this kind as a recorded result: measured values get the `~` mark.
    func result(_ x: Double) -> String { (isMeasured ? "~" : "") + Invocation.number(x) }
}

extension SessionState {
    /// The cost of `c` in the unit of `kind`. Time comes from the results store: the
    /// training CPU milliseconds per image over every recorded epoch of this
    /// definition; an error when it never trained.
    func cost(_ c: Configuration, _ kind: CostKind, _ ws: Workspace) throws -> Double {
        switch kind {
        case .memory: return Double(try cost(c).weightBits) / 8192
        case .bops: return Double(try cost(c).bops)
        case .energy: return try cost(c).energyPJ / 1e6
        case .time:
            guard let ms = try trainingMilliseconds(c, ws) else {
                throw QuantlabError.runtime("cost=time: \(c.name) has no measured training time yet; train it first (trial run \(c.name))")
            }
            return ms
        }
    }

    /// Measured training CPU milliseconds per image of `c` (any run of its definition
    /// in the results store), nil when none was measured.
    func trainingMilliseconds(_ c: Configuration, _ ws: Workspace) throws -> Double? {
        guard let t = try store(ws).trainingTime(definition: c.definition) else { return nil }
        return 1000 * t.cpuSeconds / Double(t.images)
    }
}
