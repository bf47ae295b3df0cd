import Foundation
import Testing

/// The README's lesson runs as written: its `qlab>` lines are, in order, commands of
/// sessions/teaching-precision.qlab, which scripts/test.sh replays with --verify.
@Suite struct ReadmeLessonTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func lessonCommandsAreTheShippedSessionsInOrder() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let session = try String(contentsOf: Self.root.appendingPathComponent("sessions/teaching-precision.qlab"), encoding: .utf8)
        let start = try #require(readme.range(of: "### A 10-minute lesson"))
        let block = readme[start.upperBound...].components(separatedBy: "```")[1]
        let typed = block.split(separator: "\n").filter { $0.hasPrefix("qlab> ") }.map { String($0.dropFirst(6)) }
        #expect(typed.count >= 10)
        let commands = session.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        var next = commands.startIndex
        for line in typed {
            guard let i = commands[next...].firstIndex(of: line) else {
                Issue.record("README lesson line '\(line)' is not a later command of sessions/teaching-precision.qlab")
                return
            }
            next = i + 1
        }
    }

    @Test func promptIsTheShellsAndDesignIsInTheRepository() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(!readme.contains("quantlab> "))
        #expect(!readme.contains("shared/DESIGN.md"))
        #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("docs/design.md").path))
    }
}
