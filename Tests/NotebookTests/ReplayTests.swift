import Foundation
import Testing
@testable import Notebook

/// Replaying recorded sessions, with and without verification.
@Suite struct ReplayTests {
    /// Records a small session and returns its text.
    func recordedSession() throws -> String {
        let dir = temporaryDirectory("replay")
        let h = Harness(workingDirectory: dir)
        h.notebook.recorder = try SessionRecorder.start(directory: dir, name: "s", header: testHeader(seed: 9, threads: 1))
        for line in ["seed 5", "calc add 1 2", "bogus", "calc average 1 2 4", "# note", "echo ok", "threads 2", "calc add 3 3 scale=0.1"] {
            h.run(line)
        }
        return contents(dir + "/s.qlab")
    }

    func replay(_ text: String, verify: Bool = true, machine: MachineInfo = testMachine) -> (ReplayReport, Harness) {
        let h = Harness()
        return (Replayer(verify: verify, machine: machine).replay(text, file: "s.qlab", on: h.notebook), h)
    }

    /// 1-based number of the first line equal to `line`.
    func lineNumber(of line: String, in text: String) -> Int {
        text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0 == line }! + 1
    }

    @Test func unchangedSessionVerifies() throws {
        let text = try recordedSession()
        let (report, h) = replay(text)
        #expect(report.passed)
        #expect(report.note == nil)
        #expect(report.commands == 6)
        #expect(report.resultsChecked == 5)
        #expect(report.summary == "s.qlab: 6 commands replayed, 5 results verified (exact comparison)")
        #expect(h.lines == ["seed 5", "1 + 2 = 3.0", "mean 2.3333333333333335", "ok", "threads 2", "3 + 3 = 0.6000000000000001"])
    }

    @Test func headerSeedAndThreadsAreRestored() throws {
        let text = "# quantlab session\n# seed: 9\n# threads: 1\necho x\n#= x\n"
        let (report, h) = replay(text)
        #expect(report.passed)
        #expect(h.notebook.workspace.seed == 9)
        #expect(h.notebook.workspace.threads == 1)
    }

    @Test func tamperedValueFailsAtItsLine() throws {
        let text = try recordedSession()
        let tampered = text.replacingOccurrences(of: "#= count 3", with: "#= count 4")
        let (report, h) = replay(tampered)
        let line = lineNumber(of: "#= count 4", in: tampered)
        #expect(report.failure == "s.qlab:\(line): expected 'count 4' found 'count 3'")
        #expect(h.lines.last == "mean 2.3333333333333335")   // stopped there
    }

    @Test func missingAndExtraResultsAreReported() throws {
        let text = try recordedSession()
        let removed = text.replacingOccurrences(of: "#= ok\n", with: "")
        let echoLine = lineNumber(of: "echo ok", in: removed)
        #expect(replay(removed).0.failure == "s.qlab:\(echoLine): expected no more results found 'ok'")
        let added = text.replacingOccurrences(of: "#= ok\n", with: "#= ok\n#= more\n")
        #expect(replay(added).0.failure == "s.qlab:\(lineNumber(of: "#= more", in: added)): expected 'more' found nothing")
    }

    @Test func withoutVerifyOnlyFailuresCount() throws {
        let text = try recordedSession().replacingOccurrences(of: "#= count 3", with: "#= count 4")
        let (report, _) = replay(text, verify: false)
        #expect(report.passed)
        #expect(report.summary == "s.qlab: 6 commands replayed")
        let broken = text + "calc add 1\n"
        let lines = broken.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(replay(broken, verify: false).0.failure
                == "s.qlab:\(lines): error: calc add: expects 2 arguments, found 1\nusage: calc add A B [scale=X]")
    }

    @Test func otherMachineComparesWithinTolerance() throws {
        let text = try recordedSession()
        let nudged = text.replacingOccurrences(of: "#= mean 2.3333333333333335", with: "#= mean 2.3334")
        // Same machine: exact.
        let line = lineNumber(of: "#= mean 2.3334", in: nudged)
        #expect(replay(nudged).0.failure == "s.qlab:\(line): expected 'mean 2.3334' found 'mean 2.3333333333333335'")
        // Other cpu: within relative 1e-3.
        let elsewhere = MachineInfo(cpu: "Other CPU", blas: "TestKernel")
        let (report, _) = replay(nudged, machine: elsewhere)
        #expect(report.passed)
        #expect(report.note == "note: recorded on cpu 'Test CPU 3000', BLAS 'TestKernel'; "
                + "replaying on cpu 'Other CPU', BLAS 'TestKernel'; comparing numbers within relative 0.001")
        // Too far even for the tolerance, or different words: still a failure.
        let far = text.replacingOccurrences(of: "#= mean 2.3333333333333335", with: "#= mean 2.34")
        #expect(replay(far, machine: elsewhere).0.failure != nil)
        let words = text.replacingOccurrences(of: "#= count 3", with: "#= total 3")
        #expect(replay(words, machine: elsewhere).0.failure != nil)
    }

    @Test func truncatedSessionReplaysItsPrefix() throws {
        let text = try recordedSession()
        let cut = String(text[..<text.range(of: "echo ok")!.lowerBound])
        let (report, _) = replay(cut)
        #expect(report.passed)
        #expect(report.commands == 3)
    }

    @Test func comparator() {
        let tolerant = ResultComparator(relative: 1e-3)
        #expect(tolerant.matches(expected: "acc 0.8712 loss 1.2e-3", found: "acc 0.8714 loss 1.2001e-3"))
        #expect(!tolerant.matches(expected: "acc 0.8712", found: "acc 0.8812"))
        #expect(tolerant.matches(expected: "conv1 w8a8 -0.5", found: "conv1 w8a8 -0.50001"))
        #expect(!tolerant.matches(expected: "conv1 w8a8", found: "conv1 w4a8"))
        #expect(!tolerant.matches(expected: "a 1", found: "a 1 2"))
        #expect(tolerant.matches(expected: "nan", found: "nan"))
        #expect(!ResultComparator().matches(expected: "acc 0.8712", found: "acc 0.87120"))
        #expect(ResultComparator.pieces("x=-1.5e-3, y 42") == [.text("x="), .number(-1.5e-3), .text(", y "), .number(42)])
        #expect(ResultComparator.pieces("w8a8") == [.text("w"), .number(8), .text("a"), .number(8)])
    }

    /// NaN is one value: `-nan` (the sign bit printf shows, which CPUs set differently) and
    /// `nan` match, exactly and within a tolerance; recorded lines stay as written.
    @Test func notANumberHasNoSign() throws {
        #expect(ResultComparator.unsignedNaN("loss -nan acc 0.1 (-nan) x=-nan") == "loss nan acc 0.1 (nan) x=nan")
        #expect(ResultComparator.unsignedNaN("non-nan a-nan a.-nan -nanx -nan_1 -nan.1 -nan") == "non-nan a-nan a.-nan -nanx -nan_1 -nan.1 nan")
        #expect(ResultComparator.unsignedNaN("[-nan, -nan] {-nan}") == "[nan, nan] {-nan}")
        #expect(ResultComparator.unsignedNaN("-inf -1.5") == "-inf -1.5")
        for comparator in [ResultComparator(), ResultComparator(relative: 1e-3)] {
            #expect(comparator.matches(expected: "loss -nan acc 0.1", found: "loss nan acc 0.1"))
            #expect(comparator.matches(expected: "loss nan acc 0.1", found: "loss -nan acc 0.1"))
            #expect(!comparator.matches(expected: "loss -nan acc 0.1", found: "loss nan acc 0.2"))
            #expect(!comparator.matches(expected: "loss -nan", found: "loss -inf"))
        }

        // A session holding `-nan` (this CPU's NaN) replays where the NaN prints `nan`, and back.
        let dir = temporaryDirectory("replay-nan")
        let h = Harness(workingDirectory: dir)
        h.notebook.recorder = try SessionRecorder.start(directory: dir, name: "s", header: testHeader(seed: 9, threads: 1))
        h.run("calc average -nan")
        let text = contents(dir + "/s.qlab")
        #expect(text.contains("#= mean -nan\n"), "recorded as the command wrote it:\n\(text)")
        for recorded in [text, text.replacingOccurrences(of: "#= mean -nan", with: "#= mean nan")] {
            let (report, _) = replay(recorded)
            #expect(report.passed && report.resultsChecked == 2, "\(report.failure ?? report.summary)")
        }
    }

    /// Measured time is recorded but never compared: `~X` numbers and `~ ` lines.
    @Test func measurementsAreNotCompared() {
        let exact = ResultComparator()
        #expect(exact.matches(expected: "search chosen a cost ~1.234 val_acc 0.5", found: "search chosen a cost ~0.98 val_acc 0.5"))
        #expect(!exact.matches(expected: "search chosen a cost ~1.234 val_acc 0.5", found: "search chosen a cost ~0.98 val_acc 0.6"))
        #expect(!exact.matches(expected: "search chosen a cost ~1.234", found: "search chosen b cost ~1.234"))
        #expect(!exact.matches(expected: "cost ~1.2", found: "cost 1.2"))
        #expect(exact.matches(expected: "~ pareto time front a,b", found: "~ pareto time front c"))
        #expect(!exact.matches(expected: "~ pareto time front a,b", found: "pareto time front c"))
        #expect(ResultComparator.pieces("t ~-1.5 x") == [.text("t "), .measured, .text(" x")])
        #expect(ResultComparator(relative: 1e-3).matches(expected: "t ~5 a 1.0001", found: "t ~7 a 1.0"))
    }
}
