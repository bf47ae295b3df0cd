import Foundation
import Random

extension Statistics {
    /// Fewest configurations for a bootstrap interval. Below 6 pairs there are at
    /// most 6⁵/5! … a few hundred distinct resamples, most of them degenerate
    /// (repeating one or two configurations), and both the percentile and the BCa
    /// interval collapse towards [−1, 1] or onto the point estimate.
    public static let bootstrapMinimumN = 6

    /// How a bootstrap interval is read off the resampled coefficients.
    public enum BootstrapInterval: Sendable {
        /// Bias-corrected and accelerated (Efron 1987), as `scipy.stats.bootstrap`'s
        /// default `method='BCa'`.
        case bca
        /// Plain percentile interval.
        case percentile
    }

    /// Bootstrap confidence interval for a correlation coefficient, BCa by default.
    ///
    /// Draws `resamples` sets of n (x, y) pairs with replacement (pairs stay
    /// together), computes the coefficient on each (dropping resamples where it is
    /// undefined, e.g. one configuration repeated), and returns quantiles of those
    /// values, interpolated linearly between order statistics (numpy's default
    /// `percentile`): at (1∓level)/2 for `.percentile`; at the BCa-adjusted levels of
    /// ``bcaLevels(estimate:resampled:jackknife:level:)`` for `.bca`.
    ///
    /// Deterministic for a seed: indices come from `Random.SplitMix64` (Lemire's
    /// bounded integers, written out). Returns nil below ``bootstrapMinimumN`` pairs,
    /// when the coefficient is undefined on the data (or, for BCa, on a leave-one-out
    /// subset), or when fewer than half the resamples give a defined coefficient.
    public static func bootstrapCI(
        _ x: [Double], _ y: [Double], method: CorrelationMethod,
        resamples: Int = 1000, level: Double = 0.95, seed: UInt64, interval: BootstrapInterval = .bca
    ) -> ClosedRange<Double>? {
        precondition(resamples > 0, "bootstrapCI needs at least one resample")
        precondition(level > 0 && level < 1, "bootstrapCI needs 0 < level < 1")
        guard x.count >= bootstrapMinimumN, validate(x, y) == nil,
              let estimate = coefficient(x, y, method: method) else { return nil }
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
        switch interval {
        case .percentile:
            return quantile(values, (1 - level) / 2)...quantile(values, (1 + level) / 2)
        case .bca:
            var jackknife: [Double] = []
            for i in 0..<n {
                var xi = x, yi = y
                xi.remove(at: i); yi.remove(at: i)
                guard let r = coefficient(xi, yi, method: method) else { return nil }
                jackknife.append(r)
            }
            guard let (low, high) = bcaLevels(estimate: estimate, resampled: values, jackknife: jackknife, level: level)
            else { return nil }
            return quantile(values, low)...quantile(values, high)
        }
    }

    /// The BCa quantile levels (α₁, α₂) for a central `level` interval, as
    /// `scipy.stats._resampling._bca_interval`:
    ///
    ///     ẑ₀ = Φ⁻¹( (#{θ*ᵦ < θ̂} + #{θ*ᵦ ≤ θ̂}) / 2B )            bias correction
    ///     â  = Σ(θ̄₍.₎ − θ₍ᵢ₎)³ / (6 · (Σ(θ̄₍.₎ − θ₍ᵢ₎)²)^{3/2})     acceleration (jackknife)
    ///     αⱼ = Φ( ẑ₀ + (ẑ₀ + zⱼ) / (1 − â(ẑ₀ + zⱼ)) ),  z₁,₂ = Φ⁻¹((1 ∓ level)/2).
    ///
    /// nil when ẑ₀ is infinite (every resample on one side of θ̂) or â undefined
    /// (all jackknife values equal), where scipy returns NaN.
    public static func bcaLevels(estimate: Double, resampled: [Double], jackknife: [Double],
                                 level: Double) -> (Double, Double)? {
        let below = resampled.filter { $0 < estimate }.count
        let atOrBelow = resampled.filter { $0 <= estimate }.count
        let z0 = SpecialFunctions.normalQuantile(Double(below + atOrBelow) / Double(2 * resampled.count))
        guard z0.isFinite else { return nil }
        let mean = jackknife.reduce(0, +) / Double(jackknife.count)
        let d = jackknife.map { mean - $0 }
        let squares = d.reduce(0) { $0 + $1 * $1 }
        guard squares > 0 else { return nil }
        let a = d.reduce(0) { $0 + $1 * $1 * $1 } / (6 * pow(squares, 1.5))
        func adjusted(_ q: Double) -> Double {
            let z = z0 + SpecialFunctions.normalQuantile(q)
            return SpecialFunctions.normalCDF(z0 + z / (1 - a * z))
        }
        let low = adjusted((1 - level) / 2), high = adjusted((1 + level) / 2)
        guard low.isFinite, high.isFinite else { return nil }
        return (min(max(low, 0), 1), min(max(high, 0), 1))
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
