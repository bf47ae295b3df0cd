import Foundation

extension Statistics {
    /// Kendall's τ-b, which corrects τ for ties:
    ///
    ///     τ_b = (C − D) / √((n₀ − n₁)(n₀ − n₂)),
    ///
    /// C and D the concordant and discordant pairs, n₀ = n(n−1)/2, n₁ and n₂ the pairs
    /// tied in x and in y. O(n²) over pairs, fine for the tens of configurations here.
    ///
    /// p-value as `scipy.stats.kendalltau(x, y)` with its default `method='auto'`:
    /// exact when neither input has ties and n ≤ 33 (or the ranks are at most one
    /// swap from perfect agreement or disagreement), else the normal approximation.
    /// `exact` is the permutation distribution of S without ties (see
    /// ``kendallExactPValue(n:discordant:)``). The normal approximation
    /// (`method='asymptotic'`): z = (C − D)/√v with
    ///
    ///     v = (m(2n+5) − Σt(t−1)(2t+5) − Σu(u−1)(2u+5)) / 18
    ///         + 2·T·U / m + Σt(t−1)(t−2) · Σu(u−1)(u−2) / (9m(n−2)),
    ///
    /// m = n(n−1), t and u the sizes of tie groups in x and y, T = Σt(t−1)/2 and
    /// U = Σu(u−1)/2 the tied pairs. nil for n ≤ 2.
    public static func kendallTauB(_ x: [Double], _ y: [Double], pMethod: KendallPMethod = .auto) -> Result<CorrelationResult, Undefined> {
        if let problem = validate(x, y) { return .failure(problem) }
        let counts = kendallCounts(x, y)
        guard let tau = tauB(counts, n: x.count) else { return .failure(.constantInput("x")) }
        let n = x.count, total = n * (n - 1) / 2
        let discordant = (total - counts.s) / 2  // without ties C + D = total, C − D = S
        let c = min(discordant, total - discordant)
        let exact: Bool
        switch pMethod {
        case .exact: exact = counts.tiedX == 0 && counts.tiedY == 0
        case .asymptotic: exact = false
        case .auto: exact = counts.tiedX == 0 && counts.tiedY == 0 && (n <= 33 || c <= 1)
        }
        if exact, n > 2 {
            return .success(CorrelationResult(r: tau, pValue: kendallExactPValue(n: n, discordant: c), n: n,
                                              test: "exact permutation"))
        }
        return .success(CorrelationResult(r: tau, pValue: kendallPValue(x, y, s: counts.s), n: n,
                                          test: n > 2 ? "normal approximation" : ""))
    }

    /// How the p-value of Kendall's τ is computed (scipy's `method=`).
    public enum KendallPMethod: Sendable {
        /// Exact without ties when n ≤ 33 (or at most one discordant pair away from
        /// ±1), else the normal approximation: scipy's default.
        case auto
        /// Exact whenever there are no ties (any n); with ties, the approximation.
        case exact
        /// Always the normal approximation with the tie-corrected variance.
        case asymptotic
    }

    /// Two-sided exact p-value of Kendall's τ without ties: the probability under H₀
    /// (all n! orderings equally likely) of a statistic at least as extreme,
    ///
    ///     p = 2 · #{permutations with ≤ c inversions} / n!,   c = min(D, n(n−1)/2 − D),
    ///
    /// clamped to 1. The counts are Mahonian numbers, built one element at a time
    /// (adding element j spreads each count over 0…j−1 new inversions, a running sum),
    /// as `scipy.stats._mstats_basic._kendall_p_exact`. In Double, exact to rounding
    /// for n ≤ 170 (n! overflows beyond).
    public static func kendallExactPValue(n: Int, discordant c: Int) -> Double {
        precondition(n >= 1 && c >= 0 && 4 * c <= n * (n - 1), "kendallExactPValue: needs n ≥ 1 and 0 ≤ c ≤ n(n−1)/4")
        if n <= 2 { return 1 }
        if 2 * c == n * (n - 1) / 2 { return 1 }
        // counts[k] = permutations of j elements with k inversions, for k ≤ c.
        var counts = [Double](repeating: 0, count: c + 1)
        counts[0] = 1
        if c >= 1 { counts[1] = 1 }
        var logFactorial = log(2.0)
        for j in 3...n {
            logFactorial += log(Double(j))
            var running = [Double](repeating: 0, count: c + 1)
            var sum = 0.0
            for k in 0...c {
                sum += counts[k]
                if k >= j { sum -= counts[k - j] }
                running[k] = sum
            }
            counts = running
        }
        let total = counts.reduce(0, +)
        return min(1, max(0, 2 * exp(log(total) - logFactorial)))
    }

    /// S = C − D and the pairs tied in x (n₁) and in y (n₂). A pair tied in both
    /// counts in n₁ and n₂ and in neither C nor D.
    static func kendallCounts(_ x: [Double], _ y: [Double]) -> (s: Int, tiedX: Int, tiedY: Int) {
        var s = 0, tiedX = 0, tiedY = 0
        for i in x.indices {
            for j in (i + 1)..<x.count {
                let dx = sign(x[j] - x[i]), dy = sign(y[j] - y[i])
                if dx == 0 { tiedX += 1 }
                if dy == 0 { tiedY += 1 }
                s += dx * dy
            }
        }
        return (s, tiedX, tiedY)
    }

    static func kendallCoefficient(_ x: [Double], _ y: [Double]) -> Double? {
        tauB(kendallCounts(x, y), n: x.count)
    }

    private static func tauB(_ c: (s: Int, tiedX: Int, tiedY: Int), n: Int) -> Double? {
        let n0 = n * (n - 1) / 2
        guard c.tiedX < n0, c.tiedY < n0 else { return nil }
        let denominator = (Double(n0 - c.tiedX) * Double(n0 - c.tiedY)).squareRoot()
        return min(1, max(-1, Double(c.s) / denominator))
    }

    private static func kendallPValue(_ x: [Double], _ y: [Double], s: Int) -> Double? {
        let n = x.count
        guard n > 2 else { return nil }
        let tx = tieSums(x), ty = tieSums(y)
        let nd = Double(n), m = nd * (nd - 1)
        let variance = (m * (2 * nd + 5) - tx.v1 - ty.v1) / 18
            + 2 * tx.pairs * ty.pairs / m
            + tx.v0 * ty.v0 / (9 * m * (nd - 2))
        guard variance > 0 else { return nil }
        return SpecialFunctions.normalTwoSided(Double(s) / variance.squareRoot())
    }

    /// Over tie groups of size t: Σt(t−1)/2, Σt(t−1)(t−2), Σt(t−1)(2t+5).
    private static func tieSums(_ x: [Double]) -> (pairs: Double, v0: Double, v1: Double) {
        let sorted = x.sorted()
        var pairs = 0.0, v0 = 0.0, v1 = 0.0
        var start = 0
        while start < sorted.count {
            var end = start + 1
            while end < sorted.count && sorted[end] == sorted[start] { end += 1 }
            let t = Double(end - start)
            if t > 1 {
                pairs += t * (t - 1) / 2
                v0 += t * (t - 1) * (t - 2)
                v1 += t * (t - 1) * (2 * t + 5)
            }
            start = end
        }
        return (pairs, v0, v1)
    }

    private static func sign(_ v: Double) -> Int { v > 0 ? 1 : (v < 0 ? -1 : 0) }
}
