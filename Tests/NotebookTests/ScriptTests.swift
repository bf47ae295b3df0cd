import Foundation
import Testing
@testable import Notebook

/// Scripts run into a string buffer; `source` and its errors.
@Suite struct ScriptTests {
    @Test func scriptIntoBuffer() throws {
        let h = Harness()
        let results = try h.notebook.runScript("""
            seed 3
            # set up

            calc add 2 2   # four
            calc average 1 2
            echo done
            """, file: "demo.qlab", echo: true)
        #expect(h.text == """
            qlab> seed 3
            seed 3
            qlab> # set up
            qlab> calc add 2 2   # four
            2 + 2 = 4.0
            qlab> calc average 1 2
            mean 1.5
            qlab> echo done
            done
            """)
        #expect(results == ["sum 4.0", "mean 1.5", "count 2", "done"])
    }

    @Test func scriptStopsAtFirstErrorWithFileAndLine() {
        let h = Harness()
        #expect(throws: (any Error).self) {
            try h.notebook.runScript("echo one\r\ncalc add 1\necho never\n", file: "s.qlab")
        }
        do {
            try h.notebook.runScript("echo one\r\ncalc add 1\necho never\n", file: "s.qlab")
        } catch {
            #expect(QuantlabError.render(error) == "s.qlab:2: error: calc add: expects 2 arguments, found 1\nusage: calc add A B [scale=X]")
        }
        #expect(h.lines == ["one", "one"])
    }

    @Test func sourceRunsFilesAndNamesNestedErrors() {
        let dir = temporaryDirectory("source")
        write("echo from a\nsource b.qlab\n", to: dir + "/a.qlab")
        write("calc add 1 1\ncalc fail\n", to: dir + "/b.qlab")
        write("echo ok\ncalc add 3 4\n", to: dir + "/good.qlab")
        let h = Harness(workingDirectory: dir)
        #expect(h.run("source a.qlab") == "a.qlab:2: b.qlab:2: error: calc fail failed on purpose")
        h.clear()
        guard case .success(let output) = h.notebook.execute("source good.qlab") else {
            Issue.record("source good.qlab failed")
            return
        }
        #expect(h.text == "ok\n3 + 4 = 7.0")
        #expect(output.results == ["ok", "sum 7.0"])
        #expect(h.run("source missing.qlab") == "error: cannot read 'missing.qlab': no such file")
        #expect(h.run("source .") == "error: cannot read '.': it is a directory")
    }

    @Test func sourceLoopsAreCaught() {
        let dir = temporaryDirectory("loop")
        write("source loop.qlab\n", to: dir + "/loop.qlab")
        let h = Harness(workingDirectory: dir)
        let message = h.run("source loop.qlab")
        #expect(message.hasSuffix("error: source: nested more than 16 deep; does 'loop.qlab' source itself?"))
        #expect(message.hasPrefix("loop.qlab:1: loop.qlab:1: "))
        #expect(h.run("echo alive") == "alive")
    }

    @Test func interruptStopsAScript() {
        let h = Harness()
        h.notebook.register([CommandSpec(verb: "ctrlc", synopsis: "ctrlc", abstract: "Press Ctrl-C.") { _, ws in
            ws.interrupted = true
            return .empty
        }])
        #expect(throws: (any Error).self) { try h.notebook.runScript("echo a\nctrlc\necho b\n", file: "i.qlab") }
        do {
            try h.notebook.runScript("echo a\nctrlc\necho b\n", file: "i.qlab")
        } catch {
            // The flag is still set from the first run, so line 1 stops at once.
            #expect(QuantlabError.render(error) == "i.qlab:1: error: interrupted")
        }
        // A top-level command clears the flag first.
        #expect(h.run("echo fresh") == "fresh")
    }
}
