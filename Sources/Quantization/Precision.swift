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

/// A layer's precision: weights, the activation that follows, and the gradients its
/// backward pass uses, written `w4a8`, `wta4`, `w1a1`, `w32a32`, `w8a8g8`, `w8a8gbf16`
/// (no `g` part means `g32`, so older notation reads as before).
public struct LayerPrecision: Hashable, Sendable, CustomStringConvertible {
    public var weight: Precision
    public var activation: Precision
    public var gradient: GradientPrecision

    public init(weight: Precision, activation: Precision, gradient: GradientPrecision = .float) {
        self.weight = weight
        self.activation = activation
        self.gradient = gradient
    }

    public static let float = LayerPrecision(weight: .float, activation: .float)

    /// Parses `w<W>a<A>[g<G>]`; nil when malformed.
    public init?(_ text: String) {
        var s = text.lowercased()
        var g = GradientPrecision.float
        if let gIndex = s.lastIndex(of: "g") {
            guard let gp = GradientPrecision(token: String(s[s.index(after: gIndex)...])) else { return nil }
            g = gp
            s = String(s[..<gIndex])
        }
        guard s.hasPrefix("w"), let aIndex = s.lastIndex(of: "a") else { return nil }
        let w = String(s[s.index(after: s.startIndex)..<aIndex])
        let a = String(s[s.index(after: aIndex)...])
        guard let wp = Precision(token: w, weights: true), let ap = Precision(token: a, weights: false) else { return nil }
        self.init(weight: wp, activation: ap, gradient: g)
    }

    /// `w8a8`, with `g8` / `gbf16` appended unless the gradients are float.
    public var description: String {
        "w\(weight.token)a\(activation.token)" + (gradient == .float ? "" : "g\(gradient.token)")
    }
}
