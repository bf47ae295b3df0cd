import Testing
@testable import Analysis

@Suite struct BootstrapTests {
    static let x = CorrelationTests.genericX, y = CorrelationTests.genericY

    @Test func deterministicForASeed() {
        for method in CorrelationMethod.allCases {
            let a = Statistics.bootstrapCI(Self.x, Self.y, method: method, resamples: 500, seed: 42)
            let b = Statistics.bootstrapCI(Self.x, Self.y, method: method, resamples: 500, seed: 42)
            #expect(a != nil)
            #expect(a == b)
            let c = Statistics.bootstrapCI(Self.x, Self.y, method: method, resamples: 500, seed: 43)
            #expect(a != c, "a different seed should give a different interval")
        }
    }

    @Test func containsThePointEstimateOnAClearCase() throws {
        for method in CorrelationMethod.allCases {
            let r = try Statistics.correlate(Self.x, Self.y, method: method, resamples: 1000, level: 0.95, seed: 7).get()
            let ci = try #require(r.ci)
            #expect(ci.contains(r.r), "\(method): \(r.r) not in \(ci)")
            #expect(ci.lowerBound > 0.5 && ci.upperBound <= 1, "\(method): \(ci)")
        }
    }

    @Test func narrowerLevelGivesNarrowerInterval() throws {
        let wide = try #require(Statistics.bootstrapCI(Self.x, Self.y, method: .pearson, level: 0.95, seed: 1))
        let narrow = try #require(Statistics.bootstrapCI(Self.x, Self.y, method: .pearson, level: 0.5, seed: 1))
        #expect(wide.lowerBound <= narrow.lowerBound && narrow.upperBound <= wide.upperBound)
    }

    @Test func undefinedDataGivesNoInterval() {
        #expect(Statistics.bootstrapCI([1, 2, 3], [4, 4, 4], method: .spearman, seed: 1) == nil)
        #expect(Statistics.bootstrapCI([1], [2], method: .pearson, seed: 1) == nil)
        #expect(try! Statistics.correlate([1, 2, 3], [1, 3, 2], method: .kendall).get().ci == nil, "no seed, no interval")
    }

    /// numpy.percentile([1, 2, 3, 4], [25, 97.5]) = [1.75, 3.925] (linear interpolation).
    @Test func quantileInterpolatesLinearly() {
        assertClose(Statistics.quantile([1, 2, 3, 4], 0.25), 1.75)
        assertClose(Statistics.quantile([1, 2, 3, 4], 0.975), 3.925)
    }
}
