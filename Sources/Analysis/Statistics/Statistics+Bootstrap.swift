import Random

extension Statistics {
    /// Percentile bootstrap confidence interval for a correlation coefficient.
    ///
    /// Draws `resamples` sets of n (x, y) pairs with replacement (pairs stay
    /// together), computes the coefficient on each, and returns the empirical
    /// quantiles at (1−level)/2 and (1+level)/2, interpolated linearly between order
    /// statistics (numpy's default `percentile`). Resamples where the coefficient is
    /// undefined (a resample that repeats one configuration) are dropped.
    ///
    /// Deterministic for a seed: indices come from `Random.SplitMix64` (Lemire's
    /// bounded integers, written out). Returns nil for n < 3 (two points always correlate ±1),
    /// when the coefficient is undefined on the data, or when fewer than half the
    /// resamples give a defined coefficient.
    public static func bootstrapCI(
        _ x: [Double], _ y: [Double], method: CorrelationMethod,
        resamples: Int = 1000, level: Double = 0.95, seed: UInt64
    ) -> ClosedRange<Double>? {
        precondition(resamples > 0, "bootstrapCI needs at least one resample")
        precondition(level > 0 && level < 1, "bootstrapCI needs 0 < level < 1")
        guard x.count >= 3, validate(x, y) == nil, coefficient(x, y, method: method) != nil else { return nil }
        let n = x.count
        var rng = SplitMix64(seed: seed)
        var xs = [Double](repeating: 0, count: n), ys = xs
        var values: [Double] = []
        values.reserveCapacity(resamples)
        for _ in 0..<resamples {
            for i in 0..<n {
                let j = rng.nextInt(below: n)
                xs[i] = x[j]
                ys[i] = y[j]
            }
            if let r = coefficient(xs, ys, method: method) { values.append(r) }
        }
        guard values.count * 2 >= resamples else { return nil }
        values.sort()
        return quantile(values, (1 - level) / 2)...quantile(values, (1 + level) / 2)
    }

    /// Linear-interpolation quantile of sorted values: h = (m−1)q,
    /// v[⌊h⌋] + (h − ⌊h⌋)(v[⌊h⌋+1] − v[⌊h⌋]).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}
