/// A correlation coefficient with its significance and, optionally, a bootstrap interval.
public struct CorrelationResult: Equatable, Sendable {
    /// The coefficient, in [−1, 1]: Pearson's r, Spearman's ρ or Kendall's τ-b.
    public var r: Double
    /// Two-sided p-value for "no association", or nil when it is undefined (n ≤ 2).
    public var pValue: Double?
    /// Number of (x, y) pairs.
    public var n: Int
    /// Percentile bootstrap confidence interval, when one was asked for and defined.
    public var ci: ClosedRange<Double>?
    /// The test behind the p-value when the method has more than one ("exact
    /// permutation", "normal approximation"); empty otherwise.
    public var test: String

    public init(r: Double, pValue: Double?, n: Int, ci: ClosedRange<Double>? = nil, test: String = "") {
        self.r = r
        self.pValue = pValue
        self.n = n
        self.ci = ci
        self.test = test
    }
}
