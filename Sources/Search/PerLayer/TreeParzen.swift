import Foundation
import Random

/// A Tree-structured Parzen Estimator over per-layer assignments (Bergstra,
/// Bardenet, Bengio & Kégl, NeurIPS 2011), with successive halving on the
/// assignments it proposes (as BOHB, Falkner, Klein & Hutter, ICML 2018).
///
/// `initial` assignments drawn uniformly (per layer, within `costLimit`) go through
/// successive halving (rungs minEpochs, ×eta, … maxEpochs). Then each of `rounds`
/// rounds proposes `batch` assignments and runs successive halving over them to
/// maxEpochs. A proposal comes from the observations so far:
///
/// - the observations are the scores at the largest rung (epochs) with at least
///   `layers + 2` of them, else at the smallest rung (BOHB's rule); sorted best first,
///   the first ⌈gamma·n⌉ are "good", the rest "bad";
/// - per layer, a categorical density over its choices from each group, with one
///   prior count per choice: l(k) = (good with k + 1) / (good + K), g likewise;
/// - `candidates` assignments are drawn from l (layer by layer, within the limit,
///   redrawn at most 100 times), and the one with the largest Π l/g that was never
///   trained is proposed (ties: the first drawn). The expected improvement of TPE is
///   monotone in l/g, so this maximizes it over the draws.
///
/// The chosen assignment is the best trained to maxEpochs (ties to the lower
/// configuration number). Deterministic from `seed` (SplitMix64).
public struct TreeParzen: Sendable {
    public var initial: Int
    public var rounds: Int
    public var batch: Int
    public var candidates: Int
    public var gamma: Double
    public var eta: Int
    public var minEpochs: Int
    public var maxEpochs: Int
    public var costLimit: Double?
    public var budget: Int?
    public var seed: UInt64

    public init(initial: Int = 6, rounds: Int = 4, batch: Int = 3, candidates: Int = 24, gamma: Double = 0.25,
                eta: Int = 3, minEpochs: Int = 1, maxEpochs: Int, costLimit: Double? = nil, budget: Int? = nil,
                seed: UInt64) {
        self.initial = initial; self.rounds = rounds; self.batch = batch; self.candidates = candidates
        self.gamma = gamma; self.eta = eta; self.minEpochs = minEpochs; self.maxEpochs = maxEpochs
        self.costLimit = costLimit; self.budget = budget; self.seed = seed
    }

    public func run(evaluator: AssignmentEvaluator) throws -> PerLayerReport {
        try validateSchedule(eta: eta, minEpochs: minEpochs, maxEpochs: maxEpochs, budget: budget)
        guard initial >= 2 else { throw SearchError("search: tpe needs at least 2 initial assignments, not \(initial)") }
        guard batch >= 1, rounds >= 0, candidates >= 1 else {
            throw SearchError("search: tpe needs batch ≥ 1, rounds ≥ 0 and candidates ≥ 1")
        }
        guard gamma > 0, gamma < 1 else { throw SearchError("search: gamma must be between 0 and 1, not \(gamma)") }
        let book = try AssignmentBook(evaluator: evaluator, costLimit: costLimit, budget: budget)
        let counts = book.counts
        var rng = SplitMix64(seed: seed)
        let ledger = book.ledger
        /// Draws per layer from `weights` (nil: uniform) until the draw fits the limit.
        func draw(_ weights: [[Double]]?) throws -> [Int] {
            var a: [Int] = []
            for _ in 0..<100 {
                a = counts.indices.map { l in
                    guard let w = weights?[l] else { return rng.nextInt(below: counts[l]) }
                    return Self.sample(w, rng.nextDouble())
                }
                if try book.fits(a) { return a }
            }
            return counts.map { $0 - 1 }   // the cheapest fits (checked above)
        }

        var steps: [[AssignmentResult]] = []
        var seen = Set<[Int]>()
        var start: [Int] = []
        for _ in 0..<initial {
            let a = try draw(nil)
            if seen.insert(a).inserted { start.append(try book.register(a)) }
        }
        guard let first = try halve(ledger, candidates: start, minEpochs: minEpochs, maxEpochs: maxEpochs, eta: eta,
                                    toTheEnd: true) else {
            return try book.report(steps: steps, maxEpochs: maxEpochs)
        }
        steps.append(try first.map(book.result))
        var round = 0
        while round < rounds {
            round += 1
            let (good, bad) = split(ledger, layers: counts.count)
            let l = density(good.map { book.assignments[$0]! }, counts: counts)
            let g = density(bad.map { book.assignments[$0]! }, counts: counts)
            var proposed: [Int] = []
            for _ in 0..<batch {
                var best: (ratio: Double, a: [Int])?
                for _ in 0..<candidates {
                    let a = try draw(l)
                    if seen.contains(a) { continue }
                    let ratio = counts.indices.reduce(0.0) { $0 + log(l[$1][a[$1]]) - log(g[$1][a[$1]]) }
                    if best == nil || ratio > best!.ratio { best = (ratio, a) }
                }
                guard let pick = best?.a else { continue }   // every draw was trained before
                seen.insert(pick)
                proposed.append(try book.register(pick))
            }
            if proposed.isEmpty { break }
            guard let kept = try halve(ledger, candidates: proposed, minEpochs: minEpochs, maxEpochs: maxEpochs,
                                       eta: eta, toTheEnd: true) else { break }
            steps.append(try kept.map(book.result))
        }
        return try book.report(steps: steps, maxEpochs: maxEpochs)
    }

    /// The observations (BOHB's rule: the largest rung with ≥ layers + 2 scores, else
    /// the smallest), split into the best ⌈gamma·n⌉ and the rest.
    func split(_ ledger: SearchLedger, layers: Int) -> (good: [Int], bad: [Int]) {
        var byEpochs: [Int: [Int: Double]] = [:]
        for rung in ledger.rungs {
            for e in rung.evaluated { if let s = e.score { byEpochs[rung.epochs, default: [:]][e.config] = s } }
        }
        let levels = byEpochs.keys.sorted()
        guard let level = levels.last(where: { byEpochs[$0]!.count >= layers + 2 }) ?? levels.first else { return ([], []) }
        let scored = byEpochs[level]!.sorted { SearchLedger.better(($0.key, $0.value), than: ($1.key, $1.value)) }.map(\.key)
        let n = max(1, Int((gamma * Double(scored.count)).rounded(.up)))
        return (Array(scored.prefix(n)), Array(scored.dropFirst(n)))
    }

    /// Per layer, categorical probabilities over its choices: (count + 1) / (n + K).
    func density(_ group: [[Int]], counts: [Int]) -> [[Double]] {
        counts.indices.map { l in
            (0..<counts[l]).map { k in
                Double(group.filter { $0[l] == k }.count + 1) / Double(group.count + counts[l])
            }
        }
    }

    /// The index i with cumulative weight first exceeding u·total (u in [0, 1)).
    static func sample(_ weights: [Double], _ u: Double) -> Int {
        let total = weights.reduce(0, +)
        var acc = 0.0
        for (i, w) in weights.enumerated() {
            acc += w
            if u * total < acc { return i }
        }
        return weights.count - 1
    }
}
