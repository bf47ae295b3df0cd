/// One precision: of a layer's weights or of the activation that follows it.
///
/// Notation (what people type): `32` float, `2`…`16` k-bit uniform, `t` ternary
/// (weights only), `1` binary.
public enum Precision: Hashable, Sendable, Comparable {
    case float
    case bits(Int)      // 2…16
    case ternary
    case binary

    /// Parses `32`, `k` (2…16), `t`, `1`. `weights` allows ternary.
    public init?(token: String, weights: Bool) {
        switch token {
        case "32", "f", "fp32": self = .float
        case "t": if weights { self = .ternary } else { return nil }
        case "1", "b": self = .binary
        default:
            guard let k = Int(token), (2...16).contains(k) else { return nil }
            self = .bits(k)
        }
    }

    /// Bits one value occupies when packed: 32, k, 2 (ternary), 1.
    public var storageBits: Int {
        switch self {
        case .float: return 32
        case .bits(let k): return k
        case .ternary: return 2
        case .binary: return 1
        }
    }

    /// The token in the notation: `32`, `4`, `t`, `1`.
    public var token: String {
        switch self {
        case .float: return "32"
        case .bits(let k): return String(k)
        case .ternary: return "t"
        case .binary: return "1"
        }
    }

    /// Quantizer family, for breakdowns: float, k-bit, ternary, binary.
    public var family: String {
        switch self {
        case .float: return "float"
        case .bits: return "k-bit"
        case .ternary: return "ternary"
        case .binary: return "binary"
        }
    }
}

/// A layer's precision pair, written `w4a8`, `wta4`, `w1a1`, `w32a32`.
public struct LayerPrecision: Hashable, Sendable, CustomStringConvertible {
    public var weight: Precision
    public var activation: Precision

    public init(weight: Precision, activation: Precision) {
        self.weight = weight
        self.activation = activation
    }

    public static let float = LayerPrecision(weight: .float, activation: .float)

    /// Parses `w<W>a<A>`; nil when malformed.
    public init?(_ text: String) {
        let s = text.lowercased()
        guard s.hasPrefix("w"), let aIndex = s.lastIndex(of: "a") else { return nil }
        let w = String(s[s.index(after: s.startIndex)..<aIndex])
        let a = String(s[s.index(after: aIndex)...])
        guard let wp = Precision(token: w, weights: true), let ap = Precision(token: a, weights: false) else { return nil }
        self.init(weight: wp, activation: ap)
    }

    public var description: String { "w\(weight.token)a\(activation.token)" }
}
