import Foundation
import Testing

/// The README's examples run as written: the `qlab>` lines of a README section are, in
/// order, commands of a shipped session that is replayed with --verify (the quick start by
/// scripts/test.sh, the lesson by scripts/verify-experiments.sh).
@Suite struct ReadmeLessonTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `qlab>` lines of the first code block after `heading` are later and later
    /// commands of `session`.
    func expectCommands(after heading: String, areCommandsOf session: String, atLeast: Int) throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let text = try String(contentsOf: Self.root.appendingPathComponent(session), encoding: .utf8)
        let start = try #require(readme.range(of: heading))
        let block = readme[start.upperBound...].components(separatedBy: "```")[1]
        let typed = block.split(separator: "\n").filter { $0.hasPrefix("qlab> ") }.map { String($0.dropFirst(6)) }
        #expect(typed.count >= atLeast)
        let commands = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        var next = commands.startIndex
        for line in typed {
            guard let i = commands[next...].firstIndex(of: line) else {
                Issue.record("README line '\(line)' (after '\(heading)') is not a later command of \(session)")
                return
            }
            next = i + 1
        }
    }

    @Test func usingItIsTheQuickstartSession() throws {
        try expectCommands(after: "## Using it", areCommandsOf: "sessions/quickstart.qlab", atLeast: 10)
        // scripts/test.sh replays it: it is not one of the long sessions.
        let long = try String(contentsOf: Self.root.appendingPathComponent("scripts/long-sessions.txt"), encoding: .utf8)
        #expect(!long.split(separator: "\n").contains { $0.contains("quickstart") })
    }

    @Test func lessonCommandsAreTheShippedSessionsInOrder() throws {
        try expectCommands(after: "### A 10-minute lesson", areCommandsOf: "sessions/teaching-precision.qlab", atLeast: 10)
    }

    @Test func promptIsTheShellsAndDesignIsInTheRepository() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(!readme.contains("quantlab> "))
        #expect(!readme.contains("shared/DESIGN.md"))
        #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("docs/design.md").path))
    }
}
