import Testing
@testable import Analysis

@Suite struct EpochCorrelationsTests {
    static func rows(_ values: [Double?]) -> EpochCorrelations {
        EpochCorrelations(method: .spearman, rows: values.enumerated().map { i, v in
            EpochCorrelation(epoch: i + 1, result: v.map { .success(CorrelationResult(r: $0, pValue: nil, n: 5)) }
                ?? .failure(.constantInput("x")))
        })
    }

    @Test func earliestEpoch() {
        let c = Self.rows([0.3, 0.85, 0.6, nil, 0.9, 0.95])
        #expect(c.earliestEpoch(threshold: 0.8) == 2)
        #expect(c.earliestEpoch(threshold: 0.9) == 5)
        #expect(c.earliestEpoch(threshold: 0.99) == nil)
        // Sustained: from epoch 5 on every value is ≥ 0.8 (epoch 4 is undefined).
        #expect(c.earliestEpoch(threshold: 0.8, sustained: true) == 5)
        #expect(c.earliestEpoch(threshold: 0.2, sustained: true) == 5)
        #expect(Self.rows([0.5, 0.6]).earliestEpoch(threshold: 0.5, sustained: true) == 1)
        #expect(Self.rows([]).earliestEpoch(threshold: 0) == nil)
    }

    /// Column 3 of `early` is CorrelationTests' generic x, so epoch 3 must match
    /// scipy.stats.spearmanr there (0.9440559440559443); epoch 1 is constant.
    @Test func fromEarlyTable() throws {
        let x = CorrelationTests.genericX, y = CorrelationTests.genericY
        let early = x.indices.map { i in [0.1, x[i] * 0.5 + Double(i % 3) * 0.01, x[i]] }
        let c = EpochCorrelations(early: early, final: y, method: .spearman, seed: 3)
        #expect(c.rows.map(\.epoch) == [1, 2, 3])
        #expect(c.rows[0].result == .failure(.constantInput("x")))
        let third = try c.rows[2].result.get()
        assertClose(third.r, 0.9440559440559443)
        #expect(third.ci != nil)
        #expect(c.earliestEpoch(threshold: 0.94) == 3)
        let table = c.table().render()
        #expect(table.contains("x is constant"))
        #expect(table.split(separator: "\n").count == 5)
    }
}
