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

    /// A NUL byte in a line, or quoted from a file into a message: fputs cut the message there,
    /// its newline too (`error: unknown command 'ech` and the next output on the same line).
    @Test func aNulByteNeverCutsAMessage() throws {
        let dir = scratchDirectory("nul")
        try "f1,f\u{0}2,label\n1,2,0\n3,4,1\n".write(toFile: dir + "/nul.csv", atomically: true, encoding: .utf8)
        let result = try execute([binary(), "--no-record"], in: dir, input: "ech\u{0}o c\ndata load csv nul.csv label=x\necho after\n")
        #expect(result.status == 0)
        #expect(result.stdout == "after\n")
        let errors = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(errors.count == 3 && errors[0] == "error: column 4: expected text, found a NUL byte (0x00)", "\(result.stderr)")
        #expect(errors[1].hasPrefix("error: \(dir)/nul.csv: ") && errors[1].contains("'f\\02'"), "\(result.stderr)")
    }

    @Test func noRecordWritesNothing() throws {
        let dir = scratchDirectory("norecord")
        let result = try execute([binary(), "--no-record"], in: dir, input: "echo x\n")
        #expect(result.stdout == "x\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/sessions"))
    }

    /// Items 8 and 9 of "Trust" through the binary: Ctrl-C (SIGINT) stops a run in a shell
    /// reading a file; the shell then reads to the end of its input and leaves (it used to spin
    /// at end of input: errno stayed EINTR), the session records where the run stopped and its
    /// end marker, and replays with --verify in another folder.
    @Test func ctrlCStopsARunThatThenReplaysToTheSameEpochs() throws {
        let dir = scratchDirectory("interrupt")
        var csv = "f1,f2,f3,f4,label\n"
        for i in 0..<300 { let c = i % 3; csv += "\(c == 0 ? 1 : 0).\(i % 7),\(c == 1 ? 1 : 0).\(i % 5),\(c == 2 ? 1 : 0).\(i % 3),0.\(i % 9),k\(c)\n" }
        try csv.write(toFile: dir + "/toy.csv", atomically: true, encoding: .utf8)
        let shell = try interrupt(in: dir, seconds: "1", after: "config add b", input: """
            data load csv toy.csv label=label
            model define m = dense 8 | relu | dense 3
            config add a m w4a4
            config add b m w32a32
            trial run all epochs=1000 batch=1
            echo after

            """)
        #expect(shell.status == 0, "\(contents(dir + "/err"))")
        #expect(contents(dir + "/out").hasSuffix("interrupted: finished epochs were kept and stored\nafter\n"))
        let session = contents(dir + "/sessions/s.qlab")
        let stop = session.split(separator: "\n").first { $0.hasPrefix("# stopped: Ctrl-C after epochs a=") }
        #expect(stop != nil && session.hasSuffix("echo after\n#= after\n# end: end of input\n"), "\(session.suffix(300))")

        let replay = try replayElsewhere(session, with: ["toy.csv": csv])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.hasSuffix("results verified (exact comparison)\n"))
    }

    /// Ctrl-C while the shell waits at its prompt for more of a pipe: `readLine` retried the
    /// interrupted read at full CPU and never read the lines that followed (found by the
    /// twelfth-pass audit). Now the prompt's line is abandoned and the shell reads on.
    @Test func ctrlCWhileWaitingForAPipeReadsOn() throws {
        let dir = scratchDirectory("interrupt-prompt")
        let script = """
            (sleep 1; echo 'echo one'; sleep 4; echo 'echo two'; echo quit) | '\(try binary())' --session s > out 2> err & pid=$!
            n=0; until grep -q 'echo one' sessions/s.qlab 2>/dev/null || [ $n -ge 600 ]; do sleep 0.1; n=$((n+1)); done
            sleep 0.5; kill -INT $pid; wait $pid
            """
        let shell = try execute(["timeout", "60", "/bin/sh", "-c", script], in: dir, environment: ["HOME": dir + "/home"])
        #expect(shell.status == 0, "\(shell.status) \(contents(dir + "/err"))")
        #expect(contents(dir + "/out") == "one\ntwo\n", "\(contents(dir + "/out"))")
        #expect(contents(dir + "/sessions/s.qlab").hasSuffix("echo one\n#= one\necho two\n#= two\n# end: quit\n"),
                "\(contents(dir + "/sessions/s.qlab"))")
    }

    /// Runs the shell recording `sessions/s.qlab` in `dir` on `input` (out and err to files
    /// there), and sends it SIGINT `seconds` after `marker` shows in the session file.
    func interrupt(in dir: String, seconds: String, after marker: String, input: String) throws -> Finished {
        try input.write(toFile: dir + "/in", atomically: true, encoding: .utf8)
        let script = """
            '\(try binary())' --session s < in > out 2> err & pid=$!
            n=0; until grep -q '\(marker)' sessions/s.qlab 2>/dev/null || [ $n -ge 600 ]; do sleep 0.1; n=$((n+1)); done
            sleep \(seconds); kill -INT $pid; wait $pid
            """
        return try execute(["timeout", "120", "/bin/sh", "-c", script], in: dir, environment: ["HOME": dir + "/home"])
    }

    /// `replay --verify` of `session` in a fresh folder holding `files` (name: contents).
    func replayElsewhere(_ session: String, with files: [String: String]) throws -> Finished {
        let other = scratchDirectory("interrupt-replay")
        for (name, text) in files { try text.write(toFile: other + "/" + name, atomically: true, encoding: .utf8) }
        try session.write(toFile: other + "/s.qlab", atomically: true, encoding: .utf8)
        return try execute([binary(), "replay", "s.qlab", "--verify"], in: other)
    }

    /// Ctrl-C (SIGINT) during `data load csv big.csv`: no loader had an interruption hook,
    /// so the load ran to its end (2.4 s for 54 MB) and replaced the data. Now it stops;
    /// the dataset loaded before stays in use, the message says so, and the session
    /// records the load as failed (replay skips it) and replays.
    @Test func ctrlCStopsADataLoadAndKeepsThePreviousData() throws {
        let dir = scratchDirectory("interrupt-load")
        var small = "a,b,label\n"
        for i in 0..<200 { small += "\(i % 7).5,\(i % 3),\(i % 2)\n" }
        try small.write(toFile: dir + "/small.csv", atomically: true, encoding: .utf8)
        // 60 MB: 150,000 rows of 40 features, a block of 1,000 rows written 150 times.
        let header = (0..<40).map { "f\($0)" }.joined(separator: ",") + ",label\n"
        let block = (0..<1000).map { r in (0..<40).map { "\((r * 31 + $0 * 7) % 1000).\($0 % 10)" }.joined(separator: ",") + ",\(r % 3)\n" }.joined()
        FileManager.default.createFile(atPath: dir + "/big.csv", contents: Data(header.utf8))
        let big = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/big.csv"))
        big.seekToEndOfFile()
        for _ in 0..<150 { big.write(Data(block.utf8)) }
        try big.close()
        let shell = try interrupt(in: dir, seconds: "0.5", after: "data load csv small.csv", input: """
            data load csv small.csv
            data load csv big.csv
            data info
            echo after

            """)
        #expect(shell.status == 0, "\(contents(dir + "/err"))")
        let err = contents(dir + "/err"), out = contents(dir + "/out")
        let fingerprint = try #require(out.split(separator: "\n").first { $0.hasPrefix("  fingerprint fnv1a64 ") }?.split(separator: " ").last)
        #expect(err == "\nerror: data load interrupted (Ctrl-C): nothing of big.csv was kept; the previous dataset, csv from \(dir)/small.csv (fingerprint \(fingerprint)), is still loaded and in use\n", "\(err)")
        #expect(out.hasSuffix("  files: \(dir)/small.csv\n  fingerprint fnv1a64 \(fingerprint)\n  in use: train 144, validation 16, test 40, trial sample 144 (all)\n  normalisation (train split, per channel): 3.4653±1.9700, 0.9653±0.8200\nafter\n"), "\(out)")
        let session = contents(dir + "/sessions/s.qlab")
        #expect(session.contains("\n# failed: data load csv big.csv\n# error: data load interrupted (Ctrl-C): nothing of big.csv was kept; the previous dataset, csv from \(dir)/small.csv (fingerprint \(fingerprint)), is still loaded and in use\ndata info\necho after\n#= after\n# end: end of input\n"), "\(session)")

        let replay = try replayElsewhere(session, with: ["small.csv": small])
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.hasSuffix("results verified (exact comparison)\n"), "\(replay.stdout)")
    }
}
