import Testing
@testable import Analysis

/// Reference values from scipy 1.17.1:
///   scipy.stats.pearsonr(x, y)
///   scipy.stats.spearmanr(x, y)
///   scipy.stats.kendalltau(x, y, variant='b', method='asymptotic')
///   scipy.stats.kendalltau(x, y)   (method='auto': exact without ties and n ≤ 33)
/// printed with repr(float(...)).
@Suite struct CorrelationTests {
    // Early validation accuracy vs final test accuracy of 12 configurations, no ties.
    static let genericX = [0.412, 0.583, 0.297, 0.655, 0.521, 0.731, 0.468, 0.612, 0.389, 0.702, 0.556, 0.634]
    static let genericY = [0.801, 0.874, 0.752, 0.889, 0.861, 0.902, 0.843, 0.858, 0.790, 0.911, 0.835, 0.880]
    static let tiesX: [Double] = [1, 2, 2, 3, 4, 4, 4, 5, 6, 7]
    static let tiesY: [Double] = [2, 1, 3, 3, 5, 4, 6, 6, 8, 7]
    static let negativeX = [0.1, 0.4, 0.35, 0.8, 0.6, 0.9, 0.2]
    static let negativeY = [0.95, 0.7, 0.75, 0.3, 0.5, 0.35, 0.8]

    func value(_ r: Result<CorrelationResult, Undefined>, sourceLocation: SourceLocation = #_sourceLocation) -> CorrelationResult? {
        switch r {
        case .success(let c): return c
        case .failure(let why):
            Issue.record("unexpectedly undefined: \(why)", sourceLocation: sourceLocation)
            return nil
        }
    }

    func check(_ r: Result<CorrelationResult, Undefined>, r expected: Double, p: Double?, n: Int,
               sourceLocation: SourceLocation = #_sourceLocation) {
        guard let c = value(r, sourceLocation: sourceLocation) else { return }
        assertClose(c.r, expected, rtol: 1e-12, atol: 1e-15, sourceLocation: sourceLocation)
        #expect(c.n == n, sourceLocation: sourceLocation)
        if let p {
            guard let got = c.pValue else { Issue.record("p-value missing", sourceLocation: sourceLocation); return }
            assertClose(got, p, rtol: 1e-9, sourceLocation: sourceLocation)
        } else {
            #expect(c.pValue == nil, "p-value should be undefined", sourceLocation: sourceLocation)
        }
    }

    @Test func generic() throws {
        let x = Self.genericX, y = Self.genericY
        check(Statistics.pearson(x, y), r: 0.9631761248434175, p: 5.012513081150161e-07, n: 12)
        check(Statistics.spearman(x, y), r: 0.9440559440559443, p: 3.927261080965947e-06, n: 12)
        check(Statistics.kendallTauB(x, y, pMethod: .asymptotic), r: 0.8484848484848484, p: 0.0001230028939102856, n: 12)
        check(Statistics.kendallTauB(x, y), r: 0.8484848484848484, p: 1.6342325370103148e-05, n: 12)
        #expect(try Statistics.kendallTauB(x, y).get().test == "exact permutation")
    }

    @Test func ties() throws {
        let x = Self.tiesX, y = Self.tiesY
        check(Statistics.pearson(x, y), r: 0.91305728641498, p: 0.00022483521855769665, n: 10)
        check(Statistics.spearman(x, y), r: 0.93812095999547, p: 5.950220707696844e-05, n: 10)
        check(Statistics.kendallTauB(x, y), r: 0.8335696394016967, p: 0.0013041918629363403, n: 10)
        #expect(try Statistics.kendallTauB(x, y).get().test == "normal approximation", "ties: no exact test")
    }

    @Test func negative() {
        let x = Self.negativeX, y = Self.negativeY
        check(Statistics.pearson(x, y), r: -0.9821100561334613, p: 8.143316139129748e-05, n: 7)
        check(Statistics.spearman(x, y), r: -0.9642857142857145, p: 0.00045414916919416935, n: 7)
        check(Statistics.kendallTauB(x, y, pMethod: .asymptotic), r: -0.9047619047619049, p: 0.004323111225531484, n: 7)
        check(Statistics.kendallTauB(x, y), r: -0.9047619047619049, p: 0.002777777777777778, n: 7)
    }

    @Test func threePoints() {
        let x: [Double] = [1, 2, 3], y: [Double] = [2, 1, 4]
        check(Statistics.pearson(x, y), r: 0.654653670707977, p: 0.5456289483429901, n: 3)
        check(Statistics.spearman(x, y), r: 0.5, p: 0.6666666666666666, n: 3)
        check(Statistics.kendallTauB(x, y, pMethod: .asymptotic), r: 0.33333333333333337, p: 0.6015081344405899, n: 3)
        check(Statistics.kendallTauB(x, y), r: 0.33333333333333337, p: 1.0, n: 3)  // exact: 1 discordant pair of 3
    }

    /// n = 2: scipy gives r = ±1 with p = 1.0 (pearsonr), nan (spearmanr) or a
    /// ZeroDivisionError (kendalltau asymptotic). The coefficient is ±1; the p-value
    /// is reported undefined (nil).
    @Test func twoPoints() {
        for method in CorrelationMethod.allCases {
            check(Statistics.correlation([1, 2], [3, 5], method: method), r: 1, p: nil, n: 2)
            check(Statistics.correlation([1, 2], [5, 3], method: method), r: -1, p: nil, n: 2)
        }
    }

    /// scipy returns nan with ConstantInputWarning for all three.
    @Test func constantInputIsUndefined() {
        for method in CorrelationMethod.allCases {
            #expect(Statistics.correlation([1, 2, 3], [5, 5, 5], method: method) == .failure(.constantInput("y")))
            #expect(Statistics.correlation([0.7, 0.7, 0.7], [1, 2, 3], method: method) == .failure(.constantInput("x")))
        }
    }

    @Test func otherUndefinedCases() {
        for method in CorrelationMethod.allCases {
            #expect(Statistics.correlation([], [], method: method) == .failure(.tooFewPoints(0)))
            #expect(Statistics.correlation([1], [2], method: method) == .failure(.tooFewPoints(1)))
            #expect(Statistics.correlation([1, 2, 3], [1, 2], method: method) == .failure(.mismatchedLengths(3, 2)))
            #expect(Statistics.correlation([1, .nan, 3], [1, 2, 3], method: method) == .failure(.nonFinite("x")))
            #expect(Statistics.correlation([1, 2, 3], [1, .infinity, 3], method: method) == .failure(.nonFinite("y")))
        }
        #expect(Undefined.constantInput("y").description.contains("constant"))
    }

    @Test func perfectCorrelationHasZeroPValue() {
        let x: [Double] = [1, 2, 3, 4, 5], y = x.map { 2 * $0 + 1 }
        check(Statistics.pearson(x, y), r: 1, p: 0, n: 5)
        check(Statistics.spearman(x, y), r: 1, p: 0, n: 5)
    }

    /// scipy.stats.rankdata([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]) (method='average').
    @Test func averageRanks() {
        let x: [Double] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
        #expect(Statistics.ranks(x) == [4.5, 1.5, 6.0, 1.5, 8.0, 11.0, 3.0, 10.0, 8.0, 4.5, 8.0])
        #expect(Statistics.ranks(Self.tiesX) == [1.0, 2.5, 2.5, 4.0, 6.0, 6.0, 6.0, 8.0, 9.0, 10.0])
        #expect(Statistics.ranks([]) == [])
    }
}
