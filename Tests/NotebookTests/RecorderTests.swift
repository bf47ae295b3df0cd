import Foundation
import Testing
@testable import Notebook

let testMachine = MachineInfo(cpu: "Test CPU 3000", blas: "TestKernel")

func testHeader(seed: UInt64 = 42, threads: Int = 2, machine: MachineInfo = testMachine) -> SessionHeader {
    SessionHeader(version: "0.1.0", date: "2025-01-02 03:04:05", seed: seed, threads: threads, machine: machine, isa: "test isa")
}

/// The session recorder: header, commands, results, failures; written per command.
@Suite struct RecorderTests {
    let header = """
        # quantlab session
        # version: 0.1.0
        # date: 2025-01-02 03:04:05
        # seed: 42
        # threads: 2
        # cpu: Test CPU 3000
        # blas: TestKernel
        # isa: test isa

        """

    @Test func recordsHeaderCommandsResultsAndFailures() throws {
        let dir = temporaryDirectory("record")
        let h = Harness(workingDirectory: dir)
        let recorder = try SessionRecorder.start(directory: dir + "/sessions", name: "demo", header: testHeader())
        h.notebook.recorder = recorder
        #expect(recorder.path == dir + "/sessions/demo.qlab")
        #expect(contents(recorder.path) == header)

        // Each command is in the file as soon as it returns: no close, no flush call.
        h.run("seed 7")
        #expect(contents(recorder.path) == header + "seed 7\n")
        h.run("  calc average 1 2 4  ")
        #expect(contents(recorder.path).hasSuffix("seed 7\ncalc average 1 2 4\n#= mean 2.3333333333333335\n#= count 3\n"))
        h.run("calc add 1")
        h.run("bogus")
        h.run("# a note for later")
        h.run("")
        h.run("#= not a result")
        h.run("echo \"two\" words")
        #expect(contents(recorder.path) == header + """
            seed 7
            calc average 1 2 4
            #= mean 2.3333333333333335
            #= count 3
            # failed: calc add 1
            # error: calc add: expects 2 arguments, found 1
            # error: usage: calc add A B [scale=X]
            # failed: bogus
            # error: unknown command 'bogus'; type 'help' for the list of commands
            # a note for later
            echo "two" words
            #= two words

            """)
    }

    /// A full disk writes what fits: the session file ended in `echo ` (half of `echo x`),
    /// which replay would run as another command (found by the eleventh-pass audit on a
    /// 200 KiB tmpfs). The cut group is taken back; the file ends at the last whole command.
    @Test func aWriteThatFailsPartWayLeavesTheLastWholeCommand() throws {
        let dir = temporaryDirectory("record-full")
        let h = Harness(workingDirectory: dir)
        let recorder = try SessionRecorder.start(directory: dir, name: "s", header: testHeader())
        h.notebook.recorder = recorder
        h.run("echo one")
        var calls = 0
        recorder.writeBytes = { fd, bytes, count in
            calls += 1
            if calls == 1 { return write(fd, bytes, min(count, 5)) }   // "echo " fits
            errno = ENOSPC
            return -1
        }
        let said = h.run("echo two")
        #expect(said == "two", "the warning is not part of the command's output: \(said)")
        #expect(h.warnings == ["warning: recording stopped: error: cannot write '\(dir)/s.qlab': No space left on device; it ends with the last whole command"], "\(h.warnings)")
        #expect(contents(dir + "/s.qlab") == header + "echo one\n#= one\n")
        #expect(h.notebook.recorder == nil)
    }

    /// Item 9 of "Trust": the session file alone replays, whatever happens to the sourced file.
    @Test func sourcedCommandsAreRecordedOneByOne() throws {
        let dir = temporaryDirectory("record-source")
        write("calc add 1 2\n# a comment\nsource deeper.qlab\necho inner\n", to: dir + "/inner.qlab")
        write("echo deep\n", to: dir + "/deeper.qlab")
        let h = Harness(workingDirectory: dir)
        h.notebook.recorder = try SessionRecorder.start(directory: dir, name: "s", header: testHeader())
        h.run("source inner.qlab")
        h.run("echo after")
        let recorded = contents(dir + "/s.qlab")
        #expect(recorded == header + """
            # source inner.qlab
            calc add 1 2
            #= sum 3.0
            # a comment
            # source deeper.qlab
            echo deep
            #= deep
            # end of source deeper.qlab
            echo inner
            #= inner
            # end of source inner.qlab
            echo after
            #= after

            """)
        // The file is gone: the session still replays and verifies.
        try FileManager.default.removeItem(atPath: dir + "/inner.qlab")
        try FileManager.default.removeItem(atPath: dir + "/deeper.qlab")
        let report = Replayer(verify: true, machine: testMachine).replay(recorded, file: "s.qlab", on: Harness(workingDirectory: dir).notebook)
        #expect(report.summary == "s.qlab: 4 commands replayed, 4 results verified (exact comparison)")
    }

    @Test func aFailureInASourcedFileIsRecordedWhereItHappened() throws {
        let dir = temporaryDirectory("record-source-fail")
        write("echo one\ncalc fail\necho never\n", to: dir + "/inner.qlab")
        let h = Harness(workingDirectory: dir)
        h.notebook.recorder = try SessionRecorder.start(directory: dir, name: "s", header: testHeader())
        #expect(h.run("source inner.qlab") == "inner.qlab:2: error: calc fail failed on purpose")
        #expect(contents(dir + "/s.qlab") == header + """
            # source inner.qlab
            echo one
            #= one
            # failed: calc fail
            # error: inner.qlab:2: error: calc fail failed on purpose
            # end of source inner.qlab (stopped by the error above)

            """)
    }

    @Test func quitEndsASourcedFileAndIsNotRecordedAsACommand() throws {
        let dir = temporaryDirectory("record-quit")
        write("echo one\nquit\necho never\n", to: dir + "/inner.qlab")
        let h = Harness(workingDirectory: dir)
        h.notebook.recorder = try SessionRecorder.start(directory: dir, name: "s", header: testHeader())
        h.run("source inner.qlab")
        h.run("echo two")
        #expect(h.lines == ["one", "two"])
        #expect(!h.notebook.quitRequested)
        #expect(contents(dir + "/s.qlab") == header + """
            # source inner.qlab
            echo one
            #= one
            # quit: end of inner.qlab
            # end of source inner.qlab
            echo two
            #= two

            """)
    }

    @Test func namesAreNeverReused() throws {
        let dir = temporaryDirectory("names")
        let a = try SessionRecorder.start(directory: dir, name: "run", header: testHeader())
        let b = try SessionRecorder.start(directory: dir, name: "run.qlab", header: testHeader())
        let c = try SessionRecorder.start(directory: dir, name: "run", header: testHeader())
        #expect([a.path, b.path, c.path] == [dir + "/run.qlab", dir + "/run-2.qlab", dir + "/run-3.qlab"])
        let dated = try SessionRecorder.start(directory: dir, header: testHeader())
        let name = (dated.path as NSString).lastPathComponent
        #expect(name.count == "2025-01-02-030405.qlab".count && name.hasSuffix(".qlab"))
    }

    @Test func sessionSaveRenamesAndKeepsRecording() throws {
        let dir = temporaryDirectory("rename")
        let h = Harness(workingDirectory: dir)
        h.notebook.recorder = try SessionRecorder.start(directory: dir, name: "first", header: testHeader())
        h.run("echo before")
        #expect(h.run("session save second") == "recording to \(dir)/second.qlab")
        h.run("echo after")
        #expect(!FileManager.default.fileExists(atPath: dir + "/first.qlab"))
        #expect(contents(dir + "/second.qlab") == header + "echo before\n#= before\nsession save second\necho after\n#= after\n")
        #expect(h.run("session save second") == "recording to \(dir)/second.qlab")
        write("", to: dir + "/taken.qlab")
        #expect(h.run("session save taken") == "error: '\(dir)/taken.qlab' exists; choose another name")
        #expect(h.run("session save a/b") == "error: session name 'a/b' must be a plain file name")
        #expect(h.run("session") == "recording to \(dir)/second.qlab")
    }

    @Test func appendingToAnExistingFileKeepsItsHeader() throws {
        let dir = temporaryDirectory("append")
        let path = dir + "/x.qlab"
        do {
            let recorder = try SessionRecorder(path: path, header: testHeader())
            try recorder.record(line: "echo 1", results: ["1"])
        }
        let again = try SessionRecorder(path: path, header: testHeader(seed: 9))
        try again.record(line: "echo 2", results: ["2\n3"])
        #expect(contents(path) == header + "echo 1\n#= 1\necho 2\n#= 2\n#= 3\n")
    }

    @Test func headerFieldsParse() {
        let fields = SessionHeader.fields(of: header.split(separator: "\n").map(String.init) + ["seed 1", "# cpu: later"])
        #expect(fields["seed"] == "42")
        #expect(fields["cpu"] == "Test CPU 3000")
        #expect(fields["blas"] == "TestKernel")
        #expect(fields["date"] == "2025-01-02 03:04:05")
    }

    /// A `# stopped:` line names what stopped the run (it said Ctrl-C after a SIGTERM,
    /// left noticed by the eleventh pass); files recorded before still parse.
    @Test func stopLinesNameTheirCauseAndOldLinesStillParse() {
        let stop = RunStop(epochs: [("a", 2), ("b-1", 0)], cause: "SIGTERM")
        #expect(stop.line == "# stopped: SIGTERM after epochs a=2 b-1=0")
        #expect(RunStop.parse(stop.line) == stop)
        let old = RunStop.parse("# stopped: Ctrl-C after epochs a=2 b=1")
        #expect(old?.cause == "Ctrl-C" && old?.limit(for: "a") == 2 && old?.limit(for: "b") == 1)
        #expect(RunStop.parse("  # stopped: SIGHUP after epochs x=0 ")?.limit(for: "x") == 0)
        for line in ["# stopped: after epochs a=1", "# stopped:  after epochs a=1", "# stopped: two words after epochs a=1",
                     "# stopped: Ctrl-C after epochs ", "# stopped: Ctrl-C after epochs a=-1", "# stopped: Ctrl-C a=1",
                     "# stopped: Ctrl-C after epochs a", "#= stopped: Ctrl-C after epochs a=1"] {
            #expect(RunStop.parse(line) == nil, "\(line)")
        }
    }
}
