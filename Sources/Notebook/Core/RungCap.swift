import Foundation

/// How many rungs a search under a time budget (`budget=300s`) ran. Measured CPU
/// seconds differ from run to run, so the recorder writes the count after the
/// command, as
///
///     # time budget: ran 7 rungs
///
/// and replay runs the same number of rungs without reading the clock: the rungs,
/// and so every recorded result, are the recorded ones.
public struct RungCap: Equatable, Sendable {
    public var rungs: Int

    public init(rungs: Int) { self.rungs = rungs }

    static let prefix = "time budget: ran "

    /// The note the search leaves (the recorder writes it as a `# ` comment).
    public var note: String { RungCap.prefix + (rungs == 1 ? "1 rung" : "\(rungs) rungs") }

    /// Parses a `# time budget:` line; nil for any other line.
    public static func parse(_ line: String) -> RungCap? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("# " + prefix) else { return nil }
        let words = trimmed.dropFirst(2 + prefix.count).split(separator: " ")
        guard words.count == 2, let n = Int(words[0]), n >= 0, words[1] == "rung" || words[1] == "rungs" else { return nil }
        return RungCap(rungs: n)
    }
}
