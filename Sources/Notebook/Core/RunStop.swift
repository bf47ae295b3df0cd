import Foundation

/// Where a run stopped by Ctrl-C (or SIGTERM, SIGHUP) left each configuration:
/// the number of epochs it had finished. The recorder writes it after the command as
///
///     # stopped: Ctrl-C after epochs a=2 b=1
///     # stopped: SIGTERM after epochs a=2 b=1
///
/// and replay stops the same configurations after the same epochs (at the
/// epoch boundary, where the interrupted run also left them: an epoch cut
/// short is never counted), so the replayed results match the recorded ones.
public struct RunStop: Equatable, Sendable {
    /// Configuration name and finished epochs, in run order.
    public var epochs: [(name: String, epochs: Int)]
    /// What stopped the run, one word: `Ctrl-C`, `SIGTERM` or `SIGHUP`. Replay stops at
    /// the same epochs whatever it was.
    public var cause: String

    public init(epochs: [(name: String, epochs: Int)], cause: String = "Ctrl-C") {
        self.epochs = epochs
        self.cause = cause
    }

    public static func == (a: RunStop, b: RunStop) -> Bool {
        a.epochs.map(\.name) == b.epochs.map(\.name) && a.epochs.map(\.epochs) == b.epochs.map(\.epochs) && a.cause == b.cause
    }

    /// Finished epochs of `name`, or nil when it was not stopped.
    public func limit(for name: String) -> Int? {
        epochs.first { $0.name == name }?.epochs
    }

    static let prefix = "# stopped: "
    static let epochsWord = " after epochs "

    /// The comment line the recorder writes.
    public var line: String {
        RunStop.prefix + cause + RunStop.epochsWord + epochs.map { "\($0.name)=\($0.epochs)" }.joined(separator: " ")
    }

    /// Parses a `# stopped:` line; nil for any other line.
    public static func parse(_ line: String) -> RunStop? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix(prefix) else { return nil }
        let rest = trimmed.dropFirst(prefix.count)
        guard let words = rest.range(of: epochsWord) else { return nil }
        let cause = String(rest[..<words.lowerBound])
        guard !cause.isEmpty, !cause.contains(" ") else { return nil }
        var epochs: [(name: String, epochs: Int)] = []
        for pair in rest[words.upperBound...].split(separator: " ") {
            guard let eq = pair.lastIndex(of: "="), let n = Int(pair[pair.index(after: eq)...]), n >= 0 else { return nil }
            epochs.append((String(pair[..<eq]), n))
        }
        return epochs.isEmpty ? nil : RunStop(epochs: epochs, cause: cause)
    }
}
