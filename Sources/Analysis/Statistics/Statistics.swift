import Foundation

/// Correlation of an early metric with final accuracy across configurations.
///
/// Every function takes x (the early metric, one value per configuration) and y (the
/// final accuracy, same order) and returns `.failure(Undefined)` rather than NaN when
/// the statistic does not exist: fewer than 2 points, a constant input, different
/// lengths, or a NaN/infinite value. p-values are two-sided and nil for n = 2, where
/// every coefficient is ±1 and the test has no degrees of freedom.
public enum Statistics {
    /// Pearson's product-moment correlation
    ///
    ///     r = Σ(xᵢ−x̄)(yᵢ−ȳ) / √(Σ(xᵢ−x̄)² · Σ(yᵢ−ȳ)²)
    ///
    /// p-value from t = r·√((n−2)/(1−r²)) with n−2 degrees of freedom, which is the
    /// exact test of `scipy.stats.pearsonr` for normal data.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Result<CorrelationResult, Undefined> {
        if let problem = validate(x, y) { return .failure(problem) }
        guard let r = pearsonCoefficient(x, y) else { return .failure(.constantInput("x")) }
        return .success(CorrelationResult(r: r, pValue: tTestPValue(r, n: x.count), n: x.count))
    }

    /// Spearman's rank correlation ρ: Pearson's r of the average ranks (ties share
    /// the mean of the ranks they span).
    ///
    /// p-value by the same t approximation as `scipy.stats.spearmanr`:
    /// t = ρ·√((n−2)/((1+ρ)(1−ρ))), Student t with n−2 degrees of freedom.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Result<CorrelationResult, Undefined> {
        if let problem = validate(x, y) { return .failure(problem) }
        guard let rho = spearmanCoefficient(x, y) else { return .failure(.constantInput("x")) }
        return .success(CorrelationResult(r: rho, pValue: tTestPValue(rho, n: x.count), n: x.count))
    }

    /// The coefficient chosen by `method`, without a confidence interval.
    public static func correlation(_ x: [Double], _ y: [Double], method: CorrelationMethod) -> Result<CorrelationResult, Undefined> {
        switch method {
        case .pearson: return pearson(x, y)
        case .spearman: return spearman(x, y)
        case .kendall: return kendallTauB(x, y)
        }
    }

    /// The coefficient chosen by `method`, with a percentile bootstrap interval when
    /// `seed` is given (see `bootstrapCI`). The interval is nil if it is undefined.
    public static func correlate(
        _ x: [Double], _ y: [Double], method: CorrelationMethod,
        resamples: Int = 1000, level: Double = 0.95, seed: UInt64? = nil
    ) -> Result<CorrelationResult, Undefined> {
        var result = correlation(x, y, method: method)
        if case .success(var value) = result, let seed {
            value.ci = bootstrapCI(x, y, method: method, resamples: resamples, level: level, seed: seed)
            result = .success(value)
        }
        return result
    }

    /// Average ranks, 1-based: the smallest value gets 1, and a run of t equal values
    /// starting at position p (1-based, in sorted order) gets p + (t−1)/2 each.
    /// Matches `scipy.stats.rankdata(x, method='average')`. NaNs rank last.
    public static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { a, b in
            let va = x[a], vb = x[b]
            if va.isNaN != vb.isNaN { return vb.isNaN }
            if !va.isNaN && va != vb { return va < vb }
            return a < b
        }
        var result = [Double](repeating: 0, count: x.count)
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && x[order[end]] == x[order[start]] { end += 1 }
            let average = Double(start + 1 + end) / 2  // mean of positions start+1 … end
            for k in start..<end { result[order[k]] = average }
            start = end
        }
        return result
    }

    // MARK: - Internals shared with Kendall and the bootstrap

    /// The first reason the pair (x, y) cannot be correlated, or nil.
    static func validate(_ x: [Double], _ y: [Double]) -> Undefined? {
        if x.count != y.count { return .mismatchedLengths(x.count, y.count) }
        if x.count < 2 { return .tooFewPoints(x.count) }
        if !x.allSatisfy(\.isFinite) { return .nonFinite("x") }
        if !y.allSatisfy(\.isFinite) { return .nonFinite("y") }
        if x.allSatisfy({ $0 == x[0] }) { return .constantInput("x") }
        if y.allSatisfy({ $0 == y[0] }) { return .constantInput("y") }
        return nil
    }

    /// Pearson's r of finite, equal-length inputs; nil when either spread is zero.
    /// Two passes (mean, then centred sums) for accuracy; clamped to [−1, 1].
    static func pearsonCoefficient(_ x: [Double], _ y: [Double]) -> Double? {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            let dx = x[i] - mx, dy = y[i] - my
            sxy += dx * dy
            sxx += dx * dx
            syy += dy * dy
        }
        guard sxx > 0, syy > 0 else { return nil }
        return min(1, max(-1, sxy / (sxx * syy).squareRoot()))
    }

    static func spearmanCoefficient(_ x: [Double], _ y: [Double]) -> Double? {
        pearsonCoefficient(ranks(x), ranks(y))
    }

    /// Coefficient only (no p-value), nil if undefined: the bootstrap's inner loop.
    static func coefficient(_ x: [Double], _ y: [Double], method: CorrelationMethod) -> Double? {
        switch method {
        case .pearson: return pearsonCoefficient(x, y)
        case .spearman: return spearmanCoefficient(x, y)
        case .kendall: return kendallCoefficient(x, y)
        }
    }

    /// Two-sided p-value of r under H₀: ρ = 0, by t = r·√((n−2)/((1+r)(1−r))) with
    /// n−2 degrees of freedom. nil for n ≤ 2; 0 for |r| = 1.
    static func tTestPValue(_ r: Double, n: Int) -> Double? {
        guard n > 2 else { return nil }
        if abs(r) >= 1 { return 0 }
        let df = Double(n - 2)
        let t = r * (df / ((1 + r) * (1 - r))).squareRoot()
        return min(1, max(0, SpecialFunctions.studentTTwoSided(t, degreesOfFreedom: df)))
    }
}
