import Testing
@testable import Search

/// A fake trainer backed by a table of learning curves: `curves[c][e − 1]` is
/// configuration c's metric after e epochs (nil: diverged by then).
///
/// It records every call, counts the epochs it trained, and fails the test if a
/// configuration is asked to go backwards or past the end of its curve.
final class TableEvaluator: SearchEvaluator {
    let curves: [[Double?]]
    private(set) var calls: [(config: Int, epochs: Int)] = []
    private(set) var trained: [Int: Int] = [:]

    init(_ curves: [[Double?]]) { self.curves = curves }

    func advance(config: Int, toEpochs epochs: Int) throws -> Double? {
        let done = trained[config, default: 0]
        #expect(epochs >= done, "config \(config) asked for \(epochs) epochs after \(done)")
        #expect(epochs <= curves[config].count, "config \(config) asked past its curve")
        calls.append((config, epochs))
        trained[config] = epochs
        return curves[config][epochs - 1]
    }

    /// Total epochs trained, as the trainer saw them.
    var epochsTrained: Int { trained.values.reduce(0, +) }
}

/// A straight learning curve: `start + slope · (e − 1)` for e = 1 … epochs.
func linear(_ start: Double, _ slope: Double, epochs: Int = 9) -> [Double?] {
    (0..<epochs).map { start + slope * Double($0) }
}

/// Nine configurations, hand-made so that early ranking matters (values at 1 and 3 epochs):
///
/// | c | start | slope | @1   | @3   | @9   |
/// |---|-------|-------|------|------|------|
/// | 0 | 0.50  | 0.01  | 0.50 | 0.52 | 0.58 |
/// | 1 | 0.60  | 0     | 0.60 | 0.60 | 0.60 |
/// | 2 | 0.55  | 0.03  | 0.55 | 0.61 | 0.79 |
/// | 3 | 0.40  | 0.10  | 0.40 | 0.60 | 1.20 | (late bloomer, cut at rung 0)
/// | 4 | 0.58  | 0.02  | 0.58 | 0.62 | 0.74 |
/// | 5 | 0.60  | −0.01 | 0.60 | 0.58 | 0.52 | (ties with 1 at rung 0; 1 wins, lower number)
/// | 6 | 0.30  | 0     | 0.30 | 0.30 | 0.30 |
/// | 7 | 0.45  | 0.05  | 0.45 | 0.55 | 0.85 |
/// | 8 | 0.52  | 0     | 0.52 | 0.52 | 0.52 |
let nineCurves: [[Double?]] = [
    linear(0.50, 0.01), linear(0.60, 0), linear(0.55, 0.03), linear(0.40, 0.10), linear(0.58, 0.02),
    linear(0.60, -0.01), linear(0.30, 0), linear(0.45, 0.05), linear(0.52, 0),
]
