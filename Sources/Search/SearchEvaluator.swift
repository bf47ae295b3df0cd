/// What a search drives: something that can train a configuration further and
/// report how good it is now.
///
/// Training continues where it stopped, so a configuration asked for 3 epochs after
/// 1 trains 2 more, and the searches count only those additional epochs. A search
/// never asks a configuration for fewer epochs than it already has.
public protocol SearchEvaluator: AnyObject {
    /// Train configuration `config` (continuing from where it stopped) until `epochs`
    /// total epochs and return the metric (higher is better, e.g. validation
    /// accuracy), or nil if it diverged. A non-finite metric counts as diverged.
    func advance(config: Int, toEpochs epochs: Int) throws -> Double?

    /// Train several configurations to `epochs` and return their metrics in the
    /// same order. The searches call this once per rung, so an evaluator that can
    /// train configurations side by side (one per core) should implement it; the
    /// default trains them one after another with ``advance(config:toEpochs:)``.
    func advance(configs: [Int], toEpochs epochs: Int) throws -> [Double?]

    /// Whether a rung that trains `epochs` additional epochs in all may start: the
    /// evaluator's own budget, e.g. measured CPU seconds (the searches stay free of
    /// clocks). The first no stops the search as an exhausted epoch budget does; the
    /// default always admits.
    func admitsRung(epochs: Int) -> Bool
}

extension SearchEvaluator {
    public func advance(configs: [Int], toEpochs epochs: Int) throws -> [Double?] {
        try configs.map { try advance(config: $0, toEpochs: epochs) }
    }

    public func admitsRung(epochs: Int) -> Bool { true }
}
