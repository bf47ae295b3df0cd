import Testing
@testable import Analysis

/// A hand-made table of 5 configurations × 3 epochs; answers worked out by hand.
///
///     config  epoch1  epoch2  epoch3  final  group
///     c0      0.50    0.60    0.70    0.80   binary
///     c1      0.55    0.58    0.72    0.85   k-bit
///     c2      0.40    0.65    0.69    0.90   k-bit    ← best final
///     c3      0.55    0.50    0.60    0.70   binary
///     c4      0.30    0.45    0.74    0.88   float
@Suite struct SelectionTests {
    static let early: [[Double]] = [
        [0.50, 0.60, 0.70],
        [0.55, 0.58, 0.72],
        [0.40, 0.65, 0.69],
        [0.55, 0.50, 0.60],
        [0.30, 0.45, 0.74],
    ]
    static let final = [0.80, 0.85, 0.90, 0.70, 0.88]
    static let groups = ["binary", "k-bit", "k-bit", "binary", "float"]

    @Test func regretAndTopTwoOverlap() {
        let rows = selectionQuality(early: Self.early, final: Self.final, k: 2)
        #expect(rows.map(\.epoch) == [1, 2, 3])
        // Epoch 1: c1 and c3 tie at 0.55, the lower index c1 is picked: 0.90 − 0.85.
        // top-2 early {c1, c3} vs top-2 final {c2, c4}: no overlap.
        // Epoch 2: c2 (0.65) is picked, regret 0; top-2 early {c2, c0}: overlap 1/2.
        // Epoch 3: c4 (0.74) is picked: 0.90 − 0.88; top-2 early {c4, c1}: overlap 1/2.
        #expect(rows.map(\.pickedIndex) == [1, 2, 4])
        #expect(rows.allSatisfy { $0.bestIndex == 2 && $0.bestFinal == 0.90 })
        assertClose(rows.map(\.pickedFinal), [0.85, 0.90, 0.88])
        assertClose(rows.map(\.regret), [0.05, 0, 0.02], rtol: 0, atol: 1e-12)
        assertClose(rows.map(\.topKOverlap), [0, 0.5, 0.5])
    }

    @Test func topThreeOverlap() {
        // top-3 final {c2, c4, c1}; early top-3: e1 {c1, c3, c0}, e2 {c2, c0, c1}, e3 {c4, c1, c0}.
        let rows = selectionQuality(early: Self.early, final: Self.final, k: 3)
        assertClose(rows.map(\.topKOverlap), [1.0 / 3, 2.0 / 3, 2.0 / 3])
        // k larger than the number of configurations is clamped: everything overlaps.
        let all = selectionQuality(early: Self.early, final: Self.final, k: 10)
        #expect(all.allSatisfy { $0.topKOverlap == 1 })
    }

    @Test func breakdownByGroup() {
        let groups = selectionQuality(early: Self.early, final: Self.final, k: 1, groups: Self.groups)
        #expect(groups.map(\.group) == ["binary", "k-bit", "float"])
        #expect(groups.map(\.members) == [[0, 3], [1, 2], [4]])
        // binary: best c0 (0.80); e1 picks c3 (0.55 > 0.50): regret 0.10; then c0.
        let binary = groups[0].rows
        #expect(binary.map(\.pickedIndex) == [3, 0, 0])
        assertClose(binary.map(\.regret), [0.10, 0, 0], rtol: 0, atol: 1e-12)
        assertClose(binary.map(\.topKOverlap), [0, 1, 1])
        // k-bit: best c2 (0.90); picks c1, c2, c1.
        let kbit = groups[1].rows
        #expect(kbit.map(\.pickedIndex) == [1, 2, 1])
        assertClose(kbit.map(\.regret), [0.05, 0, 0.05], rtol: 0, atol: 1e-12)
        // float: a single member is always the right pick.
        #expect(groups[2].rows.allSatisfy { $0.pickedIndex == 4 && $0.regret == 0 && $0.topKOverlap == 1 })
    }

    @Test func missingFinalValuesAndRaggedRows() {
        // c1 never finished (NaN final) and is left out; c2 has an extra epoch, ignored.
        let early: [[Double]] = [[0.2, 0.5], [0.9, 0.9], [0.3, 0.4, 0.8]]
        let rows = selectionQuality(early: early, final: [0.6, .nan, 0.7], k: 1, epochs: [2, 4])
        #expect(rows.map(\.epoch) == [2, 4])
        #expect(rows.map(\.pickedIndex) == [2, 0])
        assertClose(rows.map(\.regret), [0, 0.1], rtol: 0, atol: 1e-12)
        #expect(selectionQuality(early: [[0.1]], final: [.nan], k: 1).isEmpty)
    }

    @Test func tableNamesConfigurations() {
        let rows = selectionQuality(early: Self.early, final: Self.final, k: 2)
        let text = SelectionRow.table(rows, names: ["fp", "w8a8", "w4a4", "w2a2", "w1a1"]).render()
        #expect(text.contains("w8a8"))
        #expect(text.split(separator: "\n").count == 5)
    }
}
