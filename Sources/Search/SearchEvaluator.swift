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
}

/// A search parameter or input that cannot work, worded for the `search` command.
public struct SearchError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
