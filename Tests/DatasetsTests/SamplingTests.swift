import Testing
import Tensors
@testable import Datasets

@Suite struct SamplingTests {
    /// A split of `histogram[c]` samples of class c, interleaved; sample i's single
    /// feature is i, so a sample's origin can be read back.
    static func split(_ histogram: [Int]) -> Split {
        var labels: [Int32] = []
        var left = histogram
        while left.contains(where: { $0 > 0 }) {
            for c in left.indices where left[c] > 0 { labels.append(Int32(c)); left[c] -= 1 }
        }
        return Split(storage: .float(labels.indices.map(Float.init)), labels: labels, sampleShape: [1])
    }

    static func origins(_ s: Split) -> [Int] {
        guard case .float(let v) = s.storage else { return [] }
        return v.map { Int($0) }
    }

    @Test func largestRemainderCounts() {
        // 10 of [5, 3, 2]: exact quotas 5, 3, 2.
        #expect(stratifiedCounts(histogram: [5, 3, 2], count: 10) == [5, 3, 2])
        // 5 of [5, 3, 2] → quotas 2.5, 1.5, 1.0 → floors 2, 1, 1, one left: remainders
        // tie (25 and 15 of 10 → 5 and 5), lower class wins → [3, 1, 1].
        #expect(stratifiedCounts(histogram: [5, 3, 2], count: 5) == [3, 1, 1])
        // 7 of [1, 1, 1, 97]: quotas .07 ×3 and 6.79 → [0, 0, 0, 7].
        #expect(stratifiedCounts(histogram: [1, 1, 1, 97], count: 7) == [0, 0, 0, 7])
        // 4 of [3, 3, 3, 1]: quotas 1.2 ×3, .4 → floors 1,1,1,0 + 1 to class 3 (.4 > .2).
        #expect(stratifiedCounts(histogram: [3, 3, 3, 1], count: 4) == [1, 1, 1, 1])
        #expect(stratifiedCounts(histogram: [3, 0, 2], count: 99) == [3, 0, 2])
        #expect(stratifiedCounts(histogram: [0, 0], count: 3) == [0, 0])
        for k in 0...60 {
            let c = stratifiedCounts(histogram: [17, 29, 4, 10], count: k)
            #expect(c.reduce(0, +) == k)
            for (i, n) in [17, 29, 4, 10].enumerated() {
                #expect(abs(Double(c[i]) - Double(k * n) / 60) < 1)
            }
        }
    }

    @Test func sampleIsExactDeterministicAndSeeded() {
        let s = Self.split([600, 300, 100])
        let a = stratifiedSample(s, count: 100, classes: 3, seed: 7)
        #expect(a.classHistogram(classes: 3) == [60, 30, 10])
        #expect(stratifiedSample(s, count: 100, classes: 3, seed: 7) == a)
        #expect(stratifiedSample(s, count: 100, classes: 3, seed: 8) != a)
        let o = Self.origins(a)
        #expect(o == o.sorted() && Set(o).count == 100)
        for (k, i) in o.enumerated() { #expect(a.labels[k] == s.labels[i]) }
        let p = stratifiedSample(s, fraction: 0.1, classes: 3, seed: 7)
        #expect(p == a)
    }

    @Test func splitIsDisjointAndComplete() {
        let s = Self.split([50, 31, 19])
        let (train, held) = stratifiedSplit(s, holdOut: 20, classes: 3, seed: 1)
        #expect(held.classHistogram(classes: 3) == [10, 6, 4])
        #expect(train.classHistogram(classes: 3) == [40, 25, 15])
        let a = Set(Self.origins(train)), b = Set(Self.origins(held))
        #expect(a.isDisjoint(with: b) && a.union(b) == Set(0..<100))
        let again = stratifiedSplit(s, holdOut: 20, classes: 3, seed: 1)
        #expect(again.train == train && again.holdOut == held)
    }

    @Test func parsesSampleSizes() {
        #expect(parseSampleCount("10%", of: 60000) == 6000)
        #expect(parseSampleCount(" 6000 ", of: 60000) == 6000)
        #expect(parseSampleCount("99999", of: 100) == 100)
        #expect(parseSampleCount("2.5%", of: 1000) == 25)
        #expect(parseSampleCount("150%", of: 10) == nil)
        #expect(parseSampleCount("ten", of: 10) == nil)
        #expect(parseSampleCount("-3", of: 10) == nil)
    }

    @Test func validationHoldOutOnDataset() {
        let s = Self.split([40, 40])
        var d = Dataset(name: "t", train: s, test: Self.split([2, 2]), classNames: ["a", "b"], sampleShape: [1], files: [], fingerprint: "0")
        d.holdOutValidation(count: 10, seed: 3)
        #expect(d.train.count == 70 && d.validation?.classHistogram(classes: 2) == [5, 5])
        #expect(summary(d).contains("validation 10 (5–5 per class)"))
    }

    @Test func sampleReportShowsHistogram() {
        let a = stratifiedSample(Self.split([600, 300, 100]), count: 100, classes: 3, seed: 7)
        #expect(sampleReport(a, classNames: ["cat", "dog", "eel"]) == """
            sample of 100, per class:
               0 cat 60 ██████████████████████████████
               1 dog 30 ███████████████
               2 eel 10 █████

            """)
    }
}
