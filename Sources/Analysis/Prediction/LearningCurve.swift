import Foundation

/// Learning-curve extrapolation: fit a saturating curve to the early validation
/// values of one configuration and read it at a later epoch (Domhan, Springenberg
/// & Hutter, IJCAI 2015, use a weighted ensemble of such families; two suffice here).
///
///     power law:    y(e) = a − b · e^(−c)
///     exponential:  y(e) = a − b · exp(−c · e)
///
/// For a fixed rate c the model is linear in (a, b), so it is solved by least
/// squares in closed form; c is found by a scan of 200 log-spaced values in
/// [0.01, 10] followed by golden-section refinement around the best one. With
/// three epochs the fit is exact (three parameters); with fewer there is nothing to
/// fit and the prediction is the last value.
public enum LearningCurve {
    public enum Family: String, CaseIterable, Sendable {
        case power, exponential
    }

    /// A fitted curve.
    public struct Fit: Equatable, Sendable {
        public var family: Family
        public var a: Double, b: Double, c: Double
        /// Residual sum of squares over the fitted epochs.
        public var sse: Double

        public func value(at epoch: Double) -> Double {
            a - b * LearningCurve.basis(family, c, epoch)
        }
    }

    static func basis(_ family: Family, _ c: Double, _ e: Double) -> Double {
        family == .power ? pow(e, -c) : exp(-c * e)
    }

    /// Least-squares fit of `family` to `values[i]` at epoch `epochs[i]` (default 1, 2, …);
    /// nil with fewer than 3 points or non-finite values.
    public static func fit(_ values: [Double], epochs: [Double]? = nil, family: Family) -> Fit? {
        let x = epochs ?? values.indices.map { Double($0 + 1) }
        guard values.count >= 3, x.count == values.count, values.allSatisfy(\.isFinite) else { return nil }
        func solve(_ c: Double) -> Fit {
            // y ≈ a − b·g: regress y on g; slope = −b.
            let g = x.map { basis(family, c, $0) }
            let n = Double(g.count)
            let mg = g.reduce(0, +) / n, my = values.reduce(0, +) / n
            var sgg = 0.0, sgy = 0.0
            for i in g.indices { sgg += (g[i] - mg) * (g[i] - mg); sgy += (g[i] - mg) * (values[i] - my) }
            let slope = sgg > 0 ? sgy / sgg : 0
            let a = my - slope * mg
            var sse = 0.0
            for i in g.indices { let r = values[i] - (a + slope * g[i]); sse += r * r }
            return Fit(family: family, a: a, b: -slope, c: c, sse: sse)
        }
        let grid = (0..<200).map { 0.01 * pow(1000, Double($0) / 199) }
        var bestIndex = 0
        var best = solve(grid[0])
        for (i, c) in grid.enumerated().dropFirst() {
            let f = solve(c)
            if f.sse < best.sse { best = f; bestIndex = i }
        }
        // Golden section on log c between the neighbours of the best grid point.
        var lo = log(grid[max(bestIndex - 1, 0)]), hi = log(grid[min(bestIndex + 1, grid.count - 1)])
        let phi = (5.0.squareRoot() - 1) / 2
        for _ in 0..<60 {
            let m1 = hi - phi * (hi - lo), m2 = lo + phi * (hi - lo)
            if solve(exp(m1)).sse <= solve(exp(m2)).sse { hi = m2 } else { lo = m1 }
        }
        let refined = solve(exp((lo + hi) / 2))
        return refined.sse <= best.sse ? refined : best
    }

    /// The value predicted at `epoch` by the better-fitting family (lower residual;
    /// power law on ties), or the last value when there are fewer than 3 points.
    /// `families` restricts the choice. The prediction is clamped to [lower, upper]
    /// (accuracies: 0…1) so a wild fit cannot outrank every real one.
    public static func predict(_ values: [Double], at epoch: Double, families: [Family] = Family.allCases,
                               lower: Double = -.infinity, upper: Double = .infinity) -> Double {
        let fits = families.compactMap { fit(values, family: $0) }
        guard let best = fits.min(by: { $0.sse < $1.sse }) else { return values.last ?? .nan }
        return min(upper, max(lower, best.value(at: epoch)))
    }
}
