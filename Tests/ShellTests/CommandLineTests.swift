import Foundation
import Testing

/// `quantlab run`, `quantlab replay` and the shell on a pipe, as a user runs them.
@Suite struct CommandLineTests {
    func binary() throws -> String {
        try #require(quantlabBinary(), "quantlab binary not found next to the test bundle; set QUANTLAB_BIN")
    }

    @Test func runStopsAtTheFirstErrorWithFileAndLine() throws {
        let dir = scratchDirectory("run")
        try "echo one\n\nfrobnicate now\necho never\n".write(toFile: dir + "/bad.qlab", atomically: true, encoding: .utf8)
        let result = try execute([binary(), "run", "bad.qlab"], in: dir)
        #expect(result.status == 1)
        #expect(result.stdout == "one\n")
        #expect(result.stderr == "bad.qlab:3: error: unknown command 'frobnicate'; type 'help' for the list of commands\n")
        let missing = try execute([binary(), "run", "nothere.qlab"], in: dir)
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: cannot read 'nothere.qlab': no such file\n")
    }

    @Test func runWithEcho() throws {
        let dir = scratchDirectory("echo")
        try "seed 3\necho hi # greet\n".write(toFile: dir + "/ok.qlab", atomically: true, encoding: .utf8)
        let result = try execute([binary(), "run", "--echo", "ok.qlab"], in: dir)
        #expect(result.status == 0)
        #expect(result.stdout == "qlab> seed 3\nseed 3\nqlab> echo hi # greet\nhi\n")
    }

    @Test func replayVerifyFailsOnATamperedValue() throws {
        let dir = scratchDirectory("replay")
        let shell = try execute([binary(), "--session", "s"], in: dir, input: "echo alpha\necho beta\n")
        #expect(shell.status == 0, "\(shell.stderr)")
        let path = dir + "/sessions/s.qlab"
        let ok = try execute([binary(), "replay", path, "--verify"], in: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "alpha\nbeta\n\(path): 2 commands replayed, 2 results verified (exact comparison)\n")

        let text = contents(path)
        try text.replacingOccurrences(of: "#= beta", with: "#= gamma").write(toFile: path, atomically: true, encoding: .utf8)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0 == "#= beta" }! + 1
        let bad = try execute([binary(), "replay", path, "--verify"], in: dir)
        #expect(bad.status == 1)
        #expect(bad.stderr == "\(path):\(line): expected 'gamma' found 'beta'\n")
    }

    @Test func shellOnAPipeRecordsWithoutPrompts() throws {
        let dir = scratchDirectory("pipe")
        let result = try execute([binary()], in: dir, input: "seed 5\nhelp seed\nbogus\n")
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("seed 5\nusage: seed [N]\n"))
        #expect(!result.stdout.contains("qlab>"))
        #expect(result.stderr == "error: unknown command 'bogus'; type 'help' for the list of commands\n")
        let sessions = try FileManager.default.contentsOfDirectory(atPath: dir + "/sessions")
        #expect(sessions.count == 1)
        let text = contents(dir + "/sessions/" + sessions[0])
        #expect(text.hasPrefix("# quantlab session\n# version: "))
        #expect(text.hasSuffix("seed 5\nhelp seed\n# failed: bogus\n# error: unknown command 'bogus'; type 'help' for the list of commands\n# end: end of input\n"))
    }

    @Test func noRecordWritesNothing() throws {
        let dir = scratchDirectory("norecord")
        let result = try execute([binary(), "--no-record"], in: dir, input: "echo x\n")
        #expect(result.stdout == "x\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/sessions"))
    }
}
