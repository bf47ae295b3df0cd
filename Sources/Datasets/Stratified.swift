import Tensors
import Foundation

// Stratified selection: every class keeps its share of the samples.
//
// Per-class counts use largest-remainder (Hamilton) rounding: class c with n_c of N
// samples gets floor(k·n_c/N) of the k requested, and the k − Σ floor leftover go to
// the classes with the largest remainders (k·n_c mod N), ties to the lower class
// index. So the counts sum to exactly k and each is within 1 of its exact quota.
//
// Which samples: each class's indices are shuffled by a SplitMix64 seeded with
// `seed` (one forked stream per class, so one class's size does not move another's
// choice) and the first `k_c` are taken. Results are in ascending index order.

/// Exact per-class counts for taking `count` of the samples in `histogram`
/// (largest-remainder rounding; see above). `count` is clamped to 0…total.
public func stratifiedCounts(histogram: [Int], count: Int) -> [Int] {
    let total = histogram.reduce(0, +)
    guard total > 0 else { return histogram.map { _ in 0 } }
    let k = min(max(count, 0), total)
    var counts = histogram.map { k * $0 / total }
    let remainders = histogram.map { k * $0 % total }
    var left = k - counts.reduce(0, +)
    let order = remainders.indices.sorted { remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1 }
    for c in order where left > 0 && counts[c] < histogram[c] {
        counts[c] += 1
        left -= 1
    }
    return counts
}

/// Indices chosen per class (ascending overall) and the rest (ascending).
public func stratifiedIndices(_ split: Split, count: Int, classes: Int, seed: UInt64) -> (chosen: [Int], rest: [Int]) {
    let byClass = split.indicesByClass(classes: classes)
    let counts = stratifiedCounts(histogram: byClass.map(\.count), count: count)
    let root = SplitMix64(seed: seed)
    var chosen: [Int] = []
    var rest: [Int] = []
    chosen.reserveCapacity(counts.reduce(0, +))
    rest.reserveCapacity(split.count)
    for c in 0..<byClass.count {
        var idx = byClass[c]
        var rng = root.fork(UInt64(c))
        rng.shuffle(&idx)
        chosen += idx[0..<counts[c]]
        rest += idx[counts[c]...]
    }
    // Samples whose label is outside 0..<classes are never chosen.
    if byClass.map(\.count).reduce(0, +) < split.count {
        let inRange = Set(byClass.joined())
        rest += (0..<split.count).filter { !inRange.contains($0) }
    }
    return (chosen.sorted(), rest.sorted())
}

/// Splits off `holdOut` samples, stratified by class and seeded: the validation split
/// held out from the training data. The two parts are disjoint and together hold
/// every sample of `split`.
public func stratifiedSplit(_ split: Split, holdOut: Int, classes: Int, seed: UInt64) -> (train: Split, holdOut: Split) {
    let (chosen, rest) = stratifiedIndices(split, count: holdOut, classes: classes, seed: seed)
    return (split.subset(rest), split.subset(chosen))
}

/// A representative sample of `count` samples, stratified by class and seeded: the
/// data trials train on. Class proportions match `split`'s to within one sample.
public func stratifiedSample(_ split: Split, count: Int, classes: Int, seed: UInt64) -> Split {
    split.subset(stratifiedIndices(split, count: count, classes: classes, seed: seed).chosen)
}

/// A representative sample of `fraction` (0…1) of the samples, rounded to the
/// nearest count.
public func stratifiedSample(_ split: Split, fraction: Double, classes: Int, seed: UInt64) -> Split {
    stratifiedSample(split, count: sampleCount(fraction: fraction, of: split.count), classes: classes, seed: seed)
}

/// round(fraction · total), clamped to 0…total.
public func sampleCount(fraction: Double, of total: Int) -> Int {
    guard fraction.isFinite else { return 0 }
    return min(max(Int((fraction * Double(total)).rounded()), 0), total)
}

/// Parses a sample size as the command language writes it: "6000" (a count) or
/// "10%" (a percentage of `total`). Nil when it is neither.
public func parseSampleCount(_ text: String, of total: Int) -> Int? {
    let t = text.trimmingCharacters(in: .whitespaces)
    if t.hasSuffix("%") {
        guard let p = Double(t.dropLast()), p >= 0, p <= 100 else { return nil }
        return sampleCount(fraction: p / 100, of: total)
    }
    guard let n = Int(t), n >= 0 else { return nil }
    return min(n, total)
}
