import Foundation
import Testing
@testable import Notebook

/// The issue "Trust": outputs never destroy the store or the session, runaway
/// queries stop, interrupted runs replay, replay writes stay below the folder,
/// verification says what it compared, and bad input gets a usable error.
@Suite(.serialized) struct SessionTrustTests {
    /// A notebook with the domain commands on a tiny CSV dataset (three classes),
    /// output collected in `lines`.
    final class Domain {
        let dir: String
        let notebook: Notebook
        var lines: [String] = []
        var ws: Workspace { notebook.workspace }

        init(_ name: String, dir: String? = nil) {
            self.dir = dir ?? temporaryDirectory(name)
            notebook = Notebook(workspace: Workspace(workingDirectory: self.dir), domainCommands: true, output: { _ in })
            notebook.output = { [weak self] in self?.lines.append($0) }
            notebook.workspace.threads = 1
            var csv = "f1,f2,f3,f4,label\n"
            for i in 0..<120 { let c = i % 3; csv += "\(c == 0 ? 1 : 0).\(i % 7),\(c == 1 ? 1 : 0).\(i % 5),\(c == 2 ? 1 : 0).\(i % 3),0.\(i % 9),k\(c)\n" }
            write(csv, to: self.dir + "/toy.csv")
        }

        /// Runs a line; its output, or its error message.
        @discardableResult
        func run(_ line: String) -> String {
            let before = lines.count
            if case .failure(let message) = notebook.execute(line) { return message }
            return lines[before...].joined(separator: "\n")
        }

        /// Loads the toy data, defines a model and two configurations, trains one epoch.
        func trained() -> Domain {
            for line in ["data load csv toy.csv label=label", "model define m = dense 8 | relu | dense 3",
                         "config add a m w4a4", "config add b m w32a32", "trial run all epochs=1 batch=16"] {
                let out = run(line)
                #expect(!out.hasPrefix("error"), "\(line) → \(out)")
            }
            return self
        }

        func runCount() -> String { run("sql \"select count(*) as n from runs\"") }
    }

    // MARK: 1. Outputs never destroy the store or the session

    @Test func noOutputMayReplaceTheStoreOrItsCompanionFiles() throws {
        let d = Domain("outputs").trained()
        let before = d.runCount()
        #expect(before.contains("2"), "\(before)")
        try FileManager.default.createSymbolicLink(atPath: d.dir + "/link.db", withDestinationPath: d.dir + "/quantlab.db")
        try FileManager.default.createDirectory(atPath: d.dir + "/sub", withIntermediateDirectories: true)
        let refused = [
            ("store export runs csv=quantlab.db", "quantlab.db"),
            ("store export runs json=./quantlab.db-wal", "./quantlab.db-wal"),
            ("sql \"select 1\" csv=quantlab.db-shm", "quantlab.db-shm"),
            ("sql \"select 1\" csv=sub/../quantlab.db", "sub/../quantlab.db"),
            ("config list csv=link.db", "link.db"),
            ("plot curves svg=" + d.dir + "/quantlab.db", d.dir + "/quantlab.db"),
            ("correlate csv=quantlab.db", nil),      // fails earlier (no finals): must not write either
        ]
        for (line, typed) in refused {
            let message = d.run(line)
            if let typed {
                #expect(message.hasPrefix("error: \(typed): refusing to write over the results store"), "\(line) → \(message)")
            } else {
                #expect(message.hasPrefix("error: "), "\(line) → \(message)")
            }
        }
        #expect(d.runCount() == before)
        let header = try #require(FileManager.default.contents(atPath: d.dir + "/quantlab.db"))
        #expect(String(decoding: header.prefix(15), as: UTF8.self) == "SQLite format 3")
    }

    @Test func theSessionFileBeingRecordedIsNeverAnOutput() throws {
        let d = Domain("outputs-session").trained()
        d.notebook.recorder = try SessionRecorder.start(directory: d.dir + "/sessions", name: "s", header: testHeader())
        #expect(d.run("config list csv=sessions/s.qlab") == "error: sessions/s.qlab: refusing to write over the session file being recorded; choose another file name")
        #expect(contents(d.dir + "/sessions/s.qlab").hasPrefix("# quantlab session"))
    }

    @Test func replacingAFileSaysSoAndWritesAtomically() throws {
        let d = Domain("outputs-replace").trained()
        #expect(d.run("store export configurations csv=out/c.csv") == "wrote out/c.csv (2 rows)")
        #expect(d.run("store export configurations csv=out/c.csv") == "replaced out/c.csv (2 rows)")
        #expect(contents(d.dir + "/out/c.csv").hasPrefix("id,name,"))
        #expect(d.run("config list csv=out/c.csv").hasSuffix("\nreplaced out/c.csv"))
        #expect(d.run("sql \"select 1 as x\" csv=out") == "error: out: is a folder; give a file name")
        // A write that cannot happen leaves no file and no temporary behind.
        write("x", to: d.dir + "/plain")
        #expect(d.run("sql \"select 1 as x\" csv=plain/x.csv").hasPrefix("error: plain/x.csv: cannot create the folder"))
        #expect(d.run("sql \"select 1 as x\" csv=plain/x.csv").hasSuffix("/plain' is a file)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: d.dir + "/out") == ["c.csv"])
    }

    @Test func aSymbolicLinkIsWrittenThrough() throws {
        let d = Domain("outputs-link").trained()
        write("old", to: d.dir + "/target.csv")
        try FileManager.default.createSymbolicLink(atPath: d.dir + "/alias.csv", withDestinationPath: "target.csv")
        #expect(d.run("sql \"select 7 as x\" csv=alias.csv").hasSuffix("replaced alias.csv"))
        #expect(contents(d.dir + "/target.csv") == "x\n7\n")
        let kind = try FileManager.default.attributesOfItem(atPath: d.dir + "/alias.csv")[.type] as? FileAttributeType
        #expect(kind == .typeSymbolicLink)
    }

    // MARK: 6. Runaway queries stop; large results are capped

    @Test func ctrlCInterruptsARunawayQuery() throws {
        let d = Domain("sql-interrupt")
        let flag = d.ws.interrupt
        let timer = Thread { usleep(300_000); flag.set() }
        timer.start()
        let message = d.run("sql \"with recursive c(x) as (select 1 union all select x+1 from c) select count(*) from c\"")
        #expect(message == "error: interrupted")
        // The next query is not hit by a stale interrupt.
        #expect(d.run("sql \"select 42 as answer\"") == "answer\n------\n    42\n(1 row)")
    }

    /// `correlate bootstrap=100000` ran to its end whatever Ctrl-C said: 11 s on 65
    /// configurations (found by the eleventh-pass audit). It stops between epochs now.
    @Test func ctrlCInterruptsALongBootstrap() throws {
        let d = Domain("correlate-interrupt")
        var csv = "a,b,c,d,label\n"
        for i in 0..<6000 { let c = i % 3; csv += "\(c == 0 ? 1 : 0).\(i % 7),\(c == 1 ? 1 : 0).\(i % 5),\(c == 2 ? 1 : 0).\(i % 3),0.\(i % 9),k\(c)\n" }
        write(csv, to: d.dir + "/big.csv")
        for line in ["data load csv big.csv label=label", "model define m = dense 16 | relu | dense 3",
                     "config grid m w=2,3,4,5,6,7,8,9,10,11,12,16,32 a=2,3,4,8,16", "trial run all epochs=2 batch=512",
                     "trial final all epochs=1 batch=512"] {
            let out = d.run(line)
            #expect(!out.hasPrefix("error"), "\(line) → \(out)")
        }
        let flag = d.ws.interrupt
        let timer = Thread { usleep(300_000); flag.set() }
        let started = Date()
        timer.start()
        #expect(d.run("correlate bootstrap=100000") == "error: interrupted")
        #expect(Date().timeIntervalSince(started) < 3, "stopped after \(Date().timeIntervalSince(started)) s")
    }

    /// `config perlayer` over 4,096 assignments prices each (3 s on a six-layer model), and
    /// `compare` and `cost all` on them take seconds more, none stoppable; found by the
    /// eleventh-pass audit. Stopped, the command leaves the set as it was (it is recorded as
    /// failed, so replay must not find configurations it added).
    @Test func ctrlCInterruptsPricingAWholePerLayerSpace() throws {
        let d = Domain("perlayer-interrupt")
        #expect(!d.run("data load csv toy.csv label=label").hasPrefix("error"))
        #expect(!d.run("model define m = dense 64 | relu | dense 64 | relu | dense 64 | relu | dense 64 | relu | dense 64 | relu | dense 3").hasPrefix("error"))
        let flag = d.ws.interrupt
        let timer = Thread { usleep(200_000); flag.set() }
        timer.start()
        #expect(d.run("config perlayer m choices=w8a8,w4a4,w2a2,w1a1") == "error: interrupted")
        #expect(d.ws.state.configs.isEmpty, "\(d.ws.state.configs.count) configurations added by a failed command")
    }

    @Test func largeResultsAreCappedWithANote() throws {
        let d = Domain("sql-cap")
        let shown = d.run("sql \"with recursive c(x) as (select 1 union all select x+1 from c where x < 2500) select x from c\"")
        let lines = shown.split(separator: "\n")
        #expect(lines.count == 2 + 1000 + 1)
        #expect(lines.last == "(showing the first 1000 of 2500 rows; add LIMIT and OFFSET to see others, or csv=FILE to write them all)")
        #expect(d.run("sql \"with recursive c(x) as (select 1 union all select x+1 from c where x < 2500) select x from c\" csv=all.csv").hasSuffix("\nwrote all.csv"))
        #expect(contents(d.dir + "/all.csv").split(separator: "\n").count == 2501)
        let endless = d.run("sql \"with recursive c(x) as (select 1 union all select x+1 from c) select x from c\"")
        #expect(endless.hasSuffix("(showing the first 1000 of more than 1000000 rows; add LIMIT and OFFSET to see others, or csv=FILE to write them all)"))
        #expect(d.run("sql \"with recursive c(x) as (select 1 union all select x+1 from c) select x from c\" csv=endless.csv")
                == "error: sql: the query gives more than 1000000 rows; nothing was written; narrow it with WHERE or LIMIT")
        #expect(!FileManager.default.fileExists(atPath: d.dir + "/endless.csv"))
    }

    // MARK: 8. A run stopped by Ctrl-C replays to the same point

    @Test func anInterruptedRunRecordsWhereItStoppedAndReplaysThere() throws {
        let d = Domain("interrupted")
        d.notebook.recorder = try SessionRecorder.start(directory: d.dir + "/sessions", name: "s", header: testHeader(threads: 1))
        for line in ["data load csv toy.csv label=label", "model define m = dense 8 | relu | dense 3",
                     "config add a m w4a4", "config add b m w32a32"] { d.run(line) }
        // Ctrl-C as soon as a finishes its second epoch: a keeps 2 epochs, b never starts.
        let flag = d.ws.interrupt
        d.ws.progress = { frame in if frame.final, frame.lines.contains(where: { $0.hasPrefix("a  epoch 2") }) { flag.set() } }
        let out = d.run("trial run all epochs=4 batch=16 schedule=cosine")
        #expect(out.contains("interrupted: finished epochs were kept"), "\(out)")
        d.ws.progress = { _ in }
        d.run("trial show")
        let recorded = contents(d.dir + "/sessions/s.qlab")
        #expect(recorded.contains("\n# stopped: Ctrl-C after epochs a=2 b=0\n"), "\(recorded)")
        #expect(recorded.contains("#= trial a epoch 2 ") && !recorded.contains("#= trial a epoch 3 "))
        #expect(recorded.contains("#= a interrupted\n#= b interrupted\n"))

        // runs.session and runs.session_line point at the recorded command.
        let runLine = recorded.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.hasPrefix("trial run all") }! + 1
        let stored = d.run("sql \"select session, session_line, status from runs order by id\"")
        let row = "s" + String(repeating: " ", count: 8 + 12 - String(runLine).count) + "\(runLine)  interrupted"
        #expect(stored == "session  session_line  status\n-------  ------------  -----------\n\(row)\n\(row)\n(2 rows)")

        // Replay in a fresh folder stops at the same epochs and verifies.
        let other = temporaryDirectory("interrupted-replay")
        try FileManager.default.copyItem(atPath: d.dir + "/toy.csv", toPath: other + "/toy.csv")
        let replayed = Domain("unused", dir: other)
        let report = Replayer(verify: true, machine: testMachine).replay(recorded, file: "s.qlab", on: replayed.notebook)
        #expect(report.passed, "\(report.summary)")
        #expect(report.summary.hasSuffix("results verified (exact comparison)"))
        #expect(replayed.run("sql \"select count(*) as n from epochs\"").contains("\n2\n") || replayed.run("sql \"select count(*) as n from epochs\"").hasSuffix(" 2\n(1 row)"))
    }

    // MARK: 9. A search under a time budget replays the rungs it ran

    /// budget=…s stops launching rungs when the measured CPU seconds would exceed it; the
    /// session records how many rungs ran and replay runs that many, reading no clock. A
    /// budget of a microsecond admits the first rung (nothing is measured before it) and
    /// no other; a generous one lets the search finish and records every rung it ran.
    @Test func aTimeBudgetRecordsItsRungsAndReplaysThem() throws {
        let d = Domain("time-budget")
        d.notebook.recorder = try SessionRecorder.start(directory: d.dir + "/sessions", name: "s", header: testHeader(threads: 1))
        for line in ["data load csv toy.csv label=label", "model define m = dense 8 | relu | dense 3",
                     "config grid m w=2,4,8 a=8,32"] { d.run(line) }
        let tight = d.run("search halving all max=3 batch=16 budget=0.000001s")
        #expect(tight.contains("time budget ") && tight.contains(" CPU s: spent ") && tight.contains(" in 1 rung\n"), "\(tight)")
        #expect(!tight.contains("rung 2:"), "\(tight)")
        #expect(d.run("search halving all max=3 batch=16 budget=3600s").contains(" in 2 rungs\n"), "six configurations: 6 @1, 2 @3")
        d.run("search tpe m layers=dense1,dense2 choices=w8a8,w2a2 max=2 initial=2 rounds=1 proposals=2 fraction=1 budget=3600s")
        let recorded = contents(d.dir + "/sessions/s.qlab")
        #expect(recorded.contains("\n# time budget: ran 1 rung\n"), "\(recorded)")
        #expect(recorded.components(separatedBy: "\n# time budget: ran ").count == 4, "one line per search")
        let replay = { (text: String) -> ReplayReport in
            let other = temporaryDirectory("time-budget-replay")
            try? FileManager.default.copyItem(atPath: d.dir + "/toy.csv", toPath: other + "/toy.csv")
            return Replayer(verify: true, machine: testMachine).replay(text, file: "s.qlab", on: Domain("unused", dir: other).notebook)
        }
        let report = replay(recorded)
        #expect(report.passed, "\(report.summary)")
        // The recorded count rules: a generous budget capped at one rung stops where the tight one did.
        let lines = recorded.components(separatedBy: "\n")
        let second = try #require(lines.indices.filter { lines[$0].hasPrefix("# time budget: ran ") }.dropFirst().first)
        var edited = lines
        edited[second] = "# time budget: ran 1 rung"
        let changed = replay(edited.joined(separator: "\n"))
        #expect(!changed.passed && (changed.failure ?? "").contains("expected"), "\(changed.summary)")
    }

    // MARK: 10. Replay writes only below the current folder

    @Test func replayRefusesWritesOutsideTheFolder() throws {
        let root = temporaryDirectory("replay-writes")
        let dir = root + "/work"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/escape", withDestinationPath: root + "/elsewhere")
        let cases = [
            ("sql \"select 'echo PWNED' as ':'\" csv=../outside_target.sh", "'../outside_target.sh' leads outside with '..'"),
            ("sql \"select 1 as x\" csv=\(root)/abs.csv", "'\(root)/abs.csv' is an absolute path"),
            ("sql \"select 1 as x\" csv=escape/x.csv", "'escape/x.csv' leads outside through a symbolic link"),
            ("store open ../other.db", "'../other.db' leads outside with '..'"),
            ("source \(root)/evil.qlab", "'\(root)/evil.qlab' is an absolute path"),
        ]
        write("echo evil\n", to: root + "/evil.qlab")
        for (line, reason) in cases {
            let text = "# quantlab session\n\(line)\n"
            let report = Replayer(verify: false).replay(text, file: "foreign.qlab", on: Domain("unused", dir: dir).notebook)
            #expect(report.failure?.hasPrefix("foreign.qlab:2: error: \(reason); during replay, commands ") == true, "\(line) → \(report.summary)")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/outside_target.sh"))
        #expect(!FileManager.default.fileExists(atPath: root + "/elsewhere/x.csv"))
        #expect(!FileManager.default.fileExists(atPath: root + "/other.db"))

        // Below the folder is fine; --allow-writes-anywhere lifts the rule; interactive use is unrestricted.
        let inside = Replayer(verify: false).replay("sql \"select 1 as x\" csv=out/in.csv\n", file: "f.qlab", on: Domain("unused", dir: dir).notebook)
        #expect(inside.passed, "\(inside.summary)")
        let anywhere = Replayer(verify: false, writesAnywhere: true)
            .replay("sql \"select 1 as x\" csv=../allowed.csv\n", file: "f.qlab", on: Domain("unused", dir: dir).notebook)
        #expect(anywhere.passed && FileManager.default.fileExists(atPath: root + "/allowed.csv"), "\(anywhere.summary)")
        let shell = Domain("unused", dir: dir)
        #expect(shell.run("sql \"select 1 as x\" csv=../interactive.csv").hasSuffix("wrote ../interactive.csv"))
    }

    // MARK: 11. Verification says what it compared

    @Test func verifyingNothingFails() {
        let report = Replayer(verify: true, machine: testMachine).replay("# quantlab session\nseed 3\n", file: "n.qlab", on: Harness().notebook)
        #expect(!report.passed)
        #expect(report.summary == "n.qlab: nothing was verified: the file has no '#=' results to compare (1 command replayed)")
        // Without --verify, replaying such a file is fine.
        #expect(Replayer(verify: false, machine: testMachine).replay("seed 3\n", file: "n.qlab", on: Harness().notebook).passed)
    }

    @Test func theSummaryNamesTheComparison() {
        let text = "# quantlab session\n# cpu: Other CPU\n# blas: TestKernel\ncalc add 1 2 scale=0.1\n#= sum 0.30001\n"
        let report = Replayer(verify: true, machine: testMachine).replay(text, file: "t.qlab", on: Harness().notebook)
        #expect(report.passed)
        #expect(report.summary == "t.qlab: 1 command replayed, 1 results verified "
                + "(numbers within relative 0.001, because the header's cpu/BLAS differ from this machine)")
    }

    // MARK: 14/15. Errors a person can act on

    @Test func invalidUTF8NamesLineAndByte() throws {
        let dir = temporaryDirectory("utf8")
        try Data(Array("echo a\necho b\n".utf8) + [0x65, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: dir + "/bad.qlab"))
        let h = Harness(workingDirectory: dir)
        #expect(h.run("source bad.qlab") == "error: bad.qlab:3 (byte 15): expected UTF-8 text, found byte 0xFF")
        #expect(Notebook.firstInvalidUTF8([0xC0, 0x80]) == 0)                  // overlong
        #expect(Notebook.firstInvalidUTF8([0x41, 0xED, 0xA0, 0x80]) == 1)      // surrogate
        #expect(Notebook.firstInvalidUTF8(Array("é€😀".utf8)) == nil)
    }

    @Test func hugeArgumentsAreNotEchoedWhole() {
        let h = Harness()
        let huge = String(repeating: "x", count: 1_000_000)
        let message = h.run("seed " + huge)
        #expect(message.count < 300, "\(message.count) characters")
        #expect(message.hasPrefix("error: seed: N expects a non-negative integer, found '" + String(repeating: "x", count: 80) + "… (1000000 bytes)'"))
        #expect(h.run(huge).count < 300)
    }

    @Test func sqlAcceptsSingleQuotesAndDotCommands() {
        let d = Domain("sql-forms")
        #expect(d.run("sql 'select 1 as one'") == "one\n---\n  1\n(1 row)")
        #expect(d.run("sql 'select ''it''''s'' as t where 1=1' csv=q.csv").hasSuffix("wrote q.csv"))
        #expect(contents(d.dir + "/q.csv") == "t\nit's\n")
        #expect(d.run("sql select * from runs where id=1").hasPrefix("error: sql: unknown option 'id'"))
        #expect(d.run("sql .tables") == "configurations (0 rows)\nruns (0 rows)\nepochs (0 rows)")
        let schema = d.run("sql .schema runs")
        #expect(schema.hasPrefix("CREATE TABLE runs") || schema.hasPrefix("CREATE TABLE \"runs\""), "\(schema)")
        #expect(d.run("store schema") == d.run("sql .schema"))
        #expect(d.run("sql .frobnicate").hasPrefix("error: sql: unknown dot command '.frobnicate'"))
    }

    @Test func storeExportOfAnUnknownTableSaysSo() {
        let d = Domain("export-unknown")
        #expect(d.run("store export nosuch csv=x.csv") == "error: store export: unknown table 'nosuch'; tables are configurations, runs, epochs; "
                + "or give a query in quotes: store export \"select …\" csv=FILE")
        #expect(d.run("store export epoch csv=x.csv").contains("did you mean 'epochs'?"))
        #expect(d.run("store export \"select 1 as x\" csv=x.csv") == "wrote x.csv (1 row)")
    }

    @Test func quitEndsAScriptAndHasHelp() throws {
        let h = Harness()
        #expect(h.run("help quit").hasPrefix("usage: quit\n\nLeave the shell (Ctrl-D too); in a script, end the script."))
        #expect(h.run("help exit").hasPrefix("usage: exit\n\nThe same as quit."))
        let results = try h.notebook.runScript("echo one\nquit\necho never\n", file: "q.qlab")
        #expect(results == ["one"])
        #expect(!h.notebook.quitRequested)
        let report = Replayer(verify: true, machine: testMachine).replay("echo one\n#= one\nexit\necho never\n#= never\n", file: "q.qlab", on: Harness().notebook)
        #expect(report.summary == "q.qlab: 2 commands replayed, 1 results verified (exact comparison)")
    }
}
