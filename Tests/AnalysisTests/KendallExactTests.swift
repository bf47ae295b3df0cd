import Testing
@testable import Analysis

/// Exact Kendall p-values against scipy 1.17.1:
///   from scipy.stats._mstats_basic import _kendall_p_exact
///   _kendall_p_exact(n, c, 'two-sided')
/// and scipy.stats.kendalltau(range(40), y) for the n = 40 permutation below
/// (y = numpy.random.default_rng(1).permutation(40)), where 'auto' uses the
/// normal approximation because n > 33.
@Suite struct KendallExactTests {
    @Test func exactPValuesMatchScipy() {
        let cases: [(Int, Int, Double)] = [
            (5, 0, 0.016666666666666666), (5, 1, 0.08333333333333333), (5, 2, 0.23333333333333334),
            (6, 3, 0.1361111111111111), (10, 10, 0.02860945767195767), (20, 60, 0.02373449564495179),
            (33, 200, 0.048519444068073216), (40, 300, 0.03642264422437644), (8, 14, 1.0),
        ]
        for (n, c, p) in cases {
            assertClose(Statistics.kendallExactPValue(n: n, discordant: c), p, rtol: 1e-9)
        }
    }

    @Test func autoUsesTheApproximationAboveThirtyThree() throws {
        let y: [Double] = [9, 23, 17, 28, 0, 7, 6, 22, 15, 16, 3, 29, 20, 19, 27, 39, 1, 11, 36, 26,
                           25, 34, 24, 31, 35, 4, 14, 21, 37, 30, 2, 33, 12, 10, 5, 8, 32, 18, 13, 38]
        let x = (0..<40).map(Double.init)
        let c = try Statistics.kendallTauB(x, y).get()
        assertClose(c.r, 0.11282051282051282, rtol: 1e-12)
        assertClose(try #require(c.pValue), 0.3052258816258875, rtol: 1e-9)
        #expect(c.test == "normal approximation")
        #expect(try Statistics.kendallTauB(x, y, pMethod: .exact).get().test == "exact permutation")
    }

    /// scipy.special.ndtri at the same points.
    @Test func normalQuantileMatchesNdtri() {
        let cases: [(Double, Double)] = [(1e-10, -6.361340902404056), (0.001, -3.090232306167813),
            (0.025, -1.9599639845400545), (0.3, -0.5244005127080409), (0.5, 0), (0.975, 1.959963984540054),
            (0.999999, 4.753424308817087)]
        for (p, z) in cases { assertClose(SpecialFunctions.normalQuantile(p), z, rtol: 1e-12, atol: 1e-15) }
        #expect(SpecialFunctions.normalQuantile(0) == -.infinity)
        #expect(SpecialFunctions.normalQuantile(1.5).isNaN)
    }

    /// The BCa levels from fixed resamples and jackknife values, computed with the
    /// formulas of scipy.stats._resampling._bca_interval (ndtri, ndtr) in numpy:
    ///   est = 0.5; res = [0.1,0.3,0.45,0.5,0.55,0.6,0.62,0.7,0.8,0.9]
    ///   jk = [0.42,0.55,0.48,0.51,0.60,0.47]
    @Test func bcaLevelsMatchScipyFormulas() throws {
        let (low, high) = try #require(Statistics.bcaLevels(
            estimate: 0.5, resampled: [0.1, 0.3, 0.45, 0.5, 0.55, 0.6, 0.62, 0.7, 0.8, 0.9],
            jackknife: [0.42, 0.55, 0.48, 0.51, 0.60, 0.47], level: 0.95))
        assertClose(low, 0.0023823188232552344, rtol: 1e-9)
        assertClose(high, 0.8750170240027537, rtol: 1e-9)
        #expect(Statistics.bcaLevels(estimate: 0, resampled: [0.1, 0.2], jackknife: [0.1, 0.3], level: 0.95) == nil,
                "every resample above the estimate: ẑ₀ = ∞, no interval")
    }

    @Test func bootstrapRefusesBelowSixPairs() {
        let x: [Double] = [1, 2, 3, 4, 5], y: [Double] = [1, 3, 2, 5, 4]
        #expect(Statistics.bootstrapCI(x, y, method: .spearman, seed: 1) == nil)
        #expect(Statistics.bootstrapCI(x + [6], y + [6], method: .spearman, seed: 1) != nil)
    }
}
