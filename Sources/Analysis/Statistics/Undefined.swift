/// Why a statistic has no value. Returned instead of NaN, so a caller can say why.
///
/// The input names in `constantInput` and `nonFinite` are "x" (the early metric)
/// and "y" (the final accuracy), the order of the arguments.
public enum Undefined: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer points than the statistic needs; the payload is how many there were.
    case tooFewPoints(Int)
    /// An input has a single repeated value, so its spread (and any correlation) is zero.
    case constantInput(String)
    /// The two inputs have different lengths (x count, y count).
    case mismatchedLengths(Int, Int)
    /// An input holds NaN or ±infinity.
    case nonFinite(String)

    /// A sentence a person can act on.
    public var description: String {
        switch self {
        case .tooFewPoints(let n):
            return "undefined: needs at least 2 configurations, got \(n)"
        case .constantInput(let name):
            return "undefined: \(name) is constant, so the correlation is not defined"
        case .mismatchedLengths(let nx, let ny):
            return "undefined: x has \(nx) values but y has \(ny)"
        case .nonFinite(let name):
            return "undefined: \(name) contains NaN or infinity"
        }
    }
}
