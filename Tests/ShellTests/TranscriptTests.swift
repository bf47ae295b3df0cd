import Foundation
import Testing

/// The real binary in a real terminal (tmux): line editing, history, TAB
/// completion, Ctrl-C and Ctrl-D, and a killed shell's session file.
@Suite(.enabled(if: Tmux.available, "tmux is not installed; skipping terminal transcript tests"))
struct TranscriptTests {
    let prompt = "qlab> "

    /// Starts the shell with a temporary HOME and working directory.
    func startShell(_ arguments: String, in directory: String) throws -> Tmux {
        let binary = try #require(quantlabBinary(), "quantlab binary not found next to the test bundle; set QUANTLAB_BIN")
        let shell = try Tmux("exec env HOME='\(directory)/home' TERM=tmux-256color '\(binary)' \(arguments)", in: directory)
        #expect(try shell.wait { $0.hasSuffix(prompt.trimmingCharacters(in: .whitespaces)) }, "no prompt: \(shell.shown)")
        return shell
    }

    @Test func lineEditingHistoryCompletionAndKeys() throws {
        let dir = scratchDirectory("transcript")
        let shell = try startShell("--no-record", in: dir)

        // Type, move left, insert, go to the end, delete backwards, type.
        try shell.type("echo wrld")
        try shell.press("Left", "Left", "Left")
        try shell.type("o")
        try shell.press("End", "BSpace")
        try shell.type("d!")
        #expect(try shell.wait { $0.hasSuffix("qlab> echo world!") }, "\(shell.shown)")
        try shell.press("Enter")
        #expect(try shell.wait { $0.hasSuffix("world!\nqlab>") }, "\(shell.shown)")

        // Up recalls the previous line.
        try shell.press("Up")
        #expect(try shell.wait { $0.hasSuffix("qlab> echo world!") }, "\(shell.shown)")
        try shell.press("Enter")
        #expect(try shell.wait { $0.components(separatedBy: "\nworld!\n").count == 3 }, "\(shell.shown)")

        // TAB completes a unique command and lists ambiguous ones.
        try shell.type("he")
        try shell.press("Tab")
        #expect(try shell.wait { $0.hasSuffix("qlab> help") }, "\(shell.shown)")
        try shell.type("seed")
        try shell.press("Enter")
        #expect(try shell.wait { $0.contains("qlab> help seed\nusage: seed [N]") && $0.hasSuffix("qlab>") }, "\(shell.shown)")
        try shell.type("se")
        try shell.press("Tab")
        try shell.press("Tab")
        #expect(try shell.wait { $0.contains("seed") && $0.contains("session") && $0.hasSuffix("qlab> se") },
                "\(shell.shown)")
        try shell.press("C-u")

        // Ctrl-C abandons the line; the shell goes on.
        try shell.type("echo abandoned")
        try shell.press("C-c")
        try shell.type("echo after")
        try shell.press("Enter")
        #expect(try shell.wait { $0.hasSuffix("after\nqlab>") }, "\(shell.shown)")
        #expect(try !shell.screen().split(separator: "\n").contains("abandoned"))

        // Non-ASCII input survives (UTF-8 locale).
        try shell.type("echo née ✓")
        try shell.press("Enter")
        #expect(try shell.wait { $0.hasSuffix("née ✓\nqlab>") }, "\(shell.shown)")

        // Errors are shown and the shell stays up.
        try shell.type("sed 3")
        try shell.press("Enter")
        #expect(try shell.wait { $0.contains("error: unknown command 'sed'; did you mean 'seed'?") }, "\(shell.shown)")

        // Ctrl-D leaves; the history was saved.
        try shell.press("C-d")
        #expect(try shell.wait(timeout: 30) { _ in (try? shell.isRunning()) == false })
        let history = contents(dir + "/home/.quantlab_history")
        #expect(history.contains("echo\\040world!"), "\(history)")
        #expect(!history.contains("abandoned"))
    }

    /// Output taller than the 40-row terminal goes through $PAGER, whole; short output
    /// and the commands of a sourced file print directly.
    @Test func longOutputGoesThroughThePager() throws {
        let dir = scratchDirectory("pager")
        let binary = try #require(quantlabBinary(), "quantlab binary not found next to the test bundle; set QUANTLAB_BIN")
        let paged = dir + "/paged.txt"
        try "help all\n".write(toFile: dir + "/long.qlab", atomically: true, encoding: .utf8)
        let shell = try Tmux("exec env HOME='\(dir)/home' TERM=tmux-256color PAGER='cat >> \(paged); echo PAGED' '\(binary)' --no-record", in: dir)
        #expect(try shell.wait { $0.hasSuffix(prompt.trimmingCharacters(in: .whitespaces)) }, "no prompt: \(shell.shown)")
        try shell.type("help all")
        try shell.press("Enter")
        #expect(try shell.wait { $0.hasSuffix("PAGED\nqlab>") }, "\(shell.shown)")
        let once = contents(paged)
        #expect(once.split(separator: "\n").count > 40 && once.contains("data load") && once.hasSuffix("\n"), "\(once)")
        try shell.type("echo short")
        try shell.press("Enter")
        #expect(try shell.wait { $0.hasSuffix("short\nqlab>") }, "\(shell.shown)")
        try shell.type("source long.qlab")
        try shell.press("Enter")
        // The typed 'help all' went to the pager, so help text on screen is the sourced one, printed directly.
        #expect(try shell.wait { $0.hasSuffix("qlab>") && $0.contains("quantizer histogram CONFIG") }, "\(shell.shown)")
        #expect(contents(paged) == once, "only the typed 'help all' was paged")
        try shell.press("C-d")
    }

    @Test func killedShellLeavesAReplayableSession() throws {
        let dir = scratchDirectory("killed")
        let shell = try startShell("--session killed", in: dir)
        #expect(try shell.screen().contains("recording to sessions/killed.qlab"))
        for line in ["seed 7", "echo one", "nonsense", "threads 1", "echo two"] {
            try shell.type(line)
            try shell.press("Enter")
        }
        #expect(try shell.wait { $0.hasSuffix("two\nqlab>") }, "\(shell.shown)")
        let pid = try shell.panePID()
        #expect(pid > 0)
        kill(pid, SIGKILL)
        #expect(try shell.wait(timeout: 30) { _ in (try? shell.isRunning()) == false })

        let session = contents(dir + "/sessions/killed.qlab")
        #expect(session.hasSuffix("""
            seed 7
            echo one
            #= one
            # failed: nonsense
            # error: unknown command 'nonsense'; type 'help' for the list of commands
            threads 1
            echo two
            #= two

            """), "\(session)")
        let binary = try #require(quantlabBinary())
        let replay = try execute([binary, "replay", "sessions/killed.qlab", "--verify"], in: dir)
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.hasSuffix("sessions/killed.qlab: 4 commands replayed, 2 results verified (exact comparison)\n"), "\(replay.stdout)")
    }

    /// A shell recording `sessions/trial.qlab` in a fresh folder, in the middle of a long
    /// trial of configuration q (at least two epochs stored).
    func shellInATrial(_ name: String) throws -> (Tmux, String) {
        let dir = scratchDirectory(name)
        var csv = "a,b,c,d,label\n"
        for i in 0..<3000 {
            let c = i % 3
            csv += "\(c == 0 ? 1 : 0).\(i % 7),\(c == 1 ? 1 : 0).\(i % 5),\(c == 2 ? 1 : 0).\(i % 3),0.\(i % 9),k\(c)\n"
        }
        try csv.write(toFile: dir + "/toy.csv", atomically: true, encoding: .utf8)
        let shell = try startShell("--session trial", in: dir)
        for line in ["data load csv toy.csv label=label", "model define m = dense 16 | relu | dense 3",
                     "config add q m w4a4", "trial run all epochs=1000 batch=1"] {
            try shell.type(line)
            try shell.press("Enter")
        }
        // The progress line is redrawn in place: by the time the pane is read it may show
        // any later epoch, so wait for an epoch number ≥ 2 (two epochs stored), not "epoch 2".
        #expect(try shell.wait(timeout: 60) { Self.latestEpoch(in: $0) >= 2 }, "\(shell.shown)")
        return (shell, dir)
    }

    /// Killed in the middle of a trial: the session file holds every finished command
    /// and replays; the results store keeps the finished epochs, and the next open
    /// marks the run interrupted.
    @Test func killedDuringATrialKeepsFinishedWork() throws {
        let (shell, dir) = try shellInATrial("killed-trial")
        kill(try shell.panePID(), SIGKILL)
        #expect(try shell.wait(timeout: 30) { _ in (try? shell.isRunning()) == false })

        let session = contents(dir + "/sessions/trial.qlab")
        #expect(session.contains("config add q m w4a4\n#= config q"), "\(session)")
        #expect(!session.contains("trial run"), "\(session)")
        let binary = try #require(quantlabBinary())
        let replay = try execute([binary, "replay", "sessions/trial.qlab", "--verify"], in: dir)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")

        try "sql \"select status, count(*) > 0 from runs r join epochs e on e.run_id = r.id group by r.id\"\n"
            .write(toFile: dir + "/check.qlab", atomically: true, encoding: .utf8)
        let check = try execute([binary, "run", "check.qlab"], in: dir)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("interrupted"), "\(check.stdout)")
    }

    /// SIGTERM, or SIGHUP from a closed terminal, during a trial: both killed the shell
    /// outright, so the trial's stored epochs were missing from the session (found by the
    /// eleventh-pass audit). Now the trial stops as after Ctrl-C, the session records
    /// where it stopped and which signal ended it, and replays to the same epochs.
    @Test(arguments: ["SIGTERM", "SIGHUP"]) func terminatedDuringATrialRecordsWhereItStopped(_ signal: String) throws {
        let (shell, dir) = try shellInATrial("terminated-" + signal)
        let pid = try shell.panePID()
        if signal == "SIGTERM" { kill(pid, SIGTERM) } else { try shell.tmux(["kill-session", "-t", "t"]) }
        let deadline = Date().addingTimeInterval(20)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
        #expect(kill(pid, 0) != 0, "the shell did not end after \(signal)")

        let session = contents(dir + "/sessions/trial.qlab")
        #expect(session.contains("trial run all epochs=1000 batch=1\n#= trial q epoch 1 train_loss "), "\(session)")
        #expect(session.contains("# stopped: \(signal) after epochs q="), "\(session)")
        #expect(session.hasSuffix("\n# end: \(signal)\n"), "\(session)")
        let binary = try #require(quantlabBinary())
        let replay = try execute([binary, "replay", "sessions/trial.qlab", "--verify"], in: dir)
        #expect(replay.status == 0, "\(replay.stdout)\(replay.stderr)")
        #expect(replay.stdout.contains("results verified (exact comparison)"), "\(replay.stdout)")
    }

    /// The largest N of the "epoch N " progress lines in `screen` (0 if none).
    static func latestEpoch(in screen: String) -> Int {
        var latest = 0
        for part in screen.components(separatedBy: "epoch ").dropFirst() {
            if let n = Int(part.prefix(while: \.isNumber)), part.dropFirst(String(n).count).first == " " {
                latest = max(latest, n)
            }
        }
        return latest
    }
}
