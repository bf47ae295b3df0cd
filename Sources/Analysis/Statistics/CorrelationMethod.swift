/// Which correlation coefficient to compute.
public enum CorrelationMethod: String, CaseIterable, Sendable {
    /// Pearson's r: linear association of the values.
    case pearson
    /// Spearman's ρ: Pearson's r of the average ranks.
    case spearman
    /// Kendall's τ-b: concordant minus discordant pairs, corrected for ties.
    case kendall

    /// The Greek letter used in tables and plot titles.
    public var symbol: String {
        switch self {
        case .pearson: return "r"
        case .spearman: return "ρ"
        case .kendall: return "τ"
        }
    }
}
