import Foundation
import Testing
@testable import Notebook

/// TAB completion candidates.
@Suite struct CompletionTests {
    let h = Harness()
    func complete(_ line: String) -> [String] { h.notebook.completions(for: line) }

    @Test func commandsAndVerbs() {
        #expect(complete("") == ["calc", "echo", "exit", "help", "model", "quit", "seed", "session", "source", "threads"])
        #expect(complete("se") == ["seed", "session"])
        #expect(complete("he") == ["help"])
        #expect(complete("calc ") == ["add", "average", "fail"])
        #expect(complete("calc a") == ["add", "average"])
        #expect(complete("ca av") == ["average"])   // unique prefixes work as when running
        #expect(complete("bogus ") == [])
        #expect(complete("seed 1 # comment ") == [])
    }

    @Test func optionsNotYetGiven() {
        #expect(complete("calc add 1 2 ") == ["scale="])
        #expect(complete("calc add 1 2 sc") == ["scale="])
        #expect(complete("calc add 1 2 scale=2 ") == [])
        #expect(complete("model show ") == ["format=", "svg="])
    }

    @Test func helpCompletesCommandNames() {
        #expect(complete("help ") == ["calc", "echo", "exit", "help", "model", "quit", "seed", "session", "source", "threads"])
        #expect(complete("help ca") == ["calc"])
        #expect(complete("help calc ") == ["add", "average", "fail"])
    }

    @Test func pathsForPathArgumentsAndOptionValues() throws {
        let dir = temporaryDirectory("complete")
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        for name in ["a.qlab", "b.txt", ".hidden", "sub/inner.qlab"] { write("", to: dir + "/" + name) }
        let h = Harness(workingDirectory: dir)
        #expect(h.notebook.completions(for: "source ") == ["a.qlab", "b.txt", "sub/"])
        #expect(h.notebook.completions(for: "source s") == ["sub/"])
        #expect(h.notebook.completions(for: "source sub/") == ["sub/inner.qlab"])
        #expect(h.notebook.completions(for: "source .") == [".hidden"])
        #expect(h.notebook.completions(for: "source \(dir)/a") == ["\(dir)/a.qlab"])
        #expect(h.notebook.completions(for: "model show net svg=") == ["svg=a.qlab", "svg=b.txt", "svg=sub/"])
        #expect(h.notebook.completions(for: "model show net format=") == [])
    }

    @Test func choices() {
        let h = Harness()
        h.notebook.register([CommandSpec(group: "trial", verb: "run", synopsis: "trial run CONFIG...",
                                         abstract: "Run.", options: ["epochs"],
                                         completes: [.choice(["all", "best"])]) { _, _ in .empty }])
        #expect(h.notebook.completions(for: "trial run ") == ["all", "best", "epochs="])
        #expect(h.notebook.completions(for: "trial run a") == ["all"])
        #expect(h.notebook.completions(for: "tr ru all b") == ["best"])   // the last kind repeats
    }
}
