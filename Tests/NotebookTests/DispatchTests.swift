import Testing
@testable import Notebook

/// Finding commands (exact, prefix, suggestions) and checking their arguments.
@Suite struct DispatchTests {
    @Test func exactAndPrefixNames() {
        let h = Harness()
        #expect(h.run("calc add 1 2") == "1 + 2 = 3.0")
        #expect(h.run("ca ad 1 2") == "1 + 2 = 3.0")
        #expect(h.run("c add 1 2 scale=0.5") == "1 + 2 = 1.5")
        #expect(h.run("thr 1") == "threads 1")
        #expect(h.run("see 9") == "seed 9")
    }

    @Test func unknownAndAmbiguousNames() {
        let h = Harness()
        #expect(h.run("sed 4") == "error: unknown command 'sed'; did you mean 'seed'?")
        #expect(h.run("foo") == "error: unknown command 'foo'; type 'help' for the list of commands")
        #expect(h.run("add 1 2") == "error: unknown command 'add'; did you mean 'calc add'?")
        #expect(h.run("se 4") == "error: ambiguous command 'se': could be 'seed', 'session'")
        #expect(h.run("calc a 1 2") == "error: ambiguous calc command 'calc a': could be 'calc add', 'calc average'")
        #expect(h.run("calc avrage 1") == "error: unknown calc command 'calc avrage'; did you mean 'calc average'?")
        #expect(h.run("calc zz") == "error: unknown calc command 'calc zz'; calc commands: add, average, fail")
        #expect(h.run("calc") == "error: 'calc' needs a verb: add, average, fail; see 'help calc'")
    }

    @Test func malformedLines() {
        let h = Harness()
        #expect(h.run(#""calc" add"#) == "error: column 1: expected a command name, found '\"calc\"'; type 'help' for the list of commands")
        #expect(h.run("x=1 seed") == "error: column 1: expected a command name, found 'x=1'; type 'help' for the list of commands")
        #expect(h.run("| seed") == "error: column 1: expected a command name, found '|'; type 'help' for the list of commands")
        #expect(h.run(#"echo "open"#) == "error: column 6: unterminated string; add a closing \"")
    }

    @Test func wrongArgumentsNameTheCommandAndShowItsSynopsis() {
        let h = Harness()
        let usage = "\nusage: calc add A B [scale=X]"
        #expect(h.run("calc add 1") == "error: calc add: expects 2 arguments, found 1" + usage)
        #expect(h.run("calc add 1 2 3") == "error: calc add: expects 2 arguments, found 3: unexpected '3'" + usage)
        #expect(h.run("calc add 1 x") == "error: calc add: B expects an integer, found 'x'" + usage)
        #expect(h.run("calc add 1 2 scale=abc") == "error: calc add: option 'scale' expects a number, found 'abc'" + usage)
        #expect(h.run("calc add 1 2 scal=2")
                == "error: calc add: unknown option 'scal'; did you mean 'scale'? valid options: scale" + usage)
        #expect(h.run("calc add 1 2 scale=2 scale=3") == "error: calc add: option 'scale' given twice" + usage)
        #expect(h.run("seed x=1") == "error: seed: takes no options, found 'x=1'\nusage: seed [N]")
        #expect(h.run("seed -1") == "error: seed: N expects a non-negative integer, found '-1'\nusage: seed [N]")
        #expect(h.run("threads 3") == "error: threads: N expects an integer from 1 to 2, found '3'\nusage: threads [N]")
        #expect(h.run("threads two") == "error: threads: N expects an integer, found 'two'\nusage: threads [N]")
        #expect(h.run("source") == "error: source: expects 1 argument, found 0\nusage: source FILE")
    }

    @Test func runtimeErrorsDoNotStopTheNotebook() {
        let h = Harness()
        #expect(h.run("calc fail") == "error: calc fail failed on purpose")
        #expect(h.run("calc add 2 2") == "2 + 2 = 4.0")
    }

    @Test func builtinsChangeTheWorkspace() {
        let h = Harness()
        #expect(h.run("seed") == "seed 42")
        #expect(h.run("seed 7") == "seed 7")
        #expect(h.notebook.workspace.seed == 7)
        #expect(h.run("threads") == "threads 2")
        #expect(h.run("threads 1") == "threads 1")
        #expect(h.notebook.workspace.threads == 1)
        #expect(h.run(#"echo a "b  c" k=v # comment"#) == "a b  c k=v")
        #expect(h.run("session") == "not recording")
        #expect(h.run("session save x") == "not recording; nothing to save")
    }

    @Test func invocationCarriesWordsOptionsAndRest() throws {
        var seen: Invocation?
        let h = Harness()
        h.notebook.register([CommandSpec(group: "model", verb: "define", synopsis: "model define NAME = LAYERS",
                                         abstract: "Define a model.", freeForm: true) { inv, _ in
            seen = inv
            return .empty
        }])
        h.run("mod def  net = conv 16 k3 stride=2 | relu   # small")
        let inv = try #require(seen)
        #expect(inv.command == "model define")
        #expect(inv.words == ["net", "=", "conv", "16", "k3", "|", "relu"])
        #expect(inv.options == ["stride": "2"])
        #expect(inv.rest == "net = conv 16 k3 stride=2 | relu")
        #expect(inv.line == "mod def  net = conv 16 k3 stride=2 | relu   # small")
    }

    @Test func optionOrderIsKept() throws {
        var seen: Invocation?
        let h = Harness()
        h.notebook.register([CommandSpec(verb: "precision", synopsis: "precision MODEL PATTERN=wWaA...",
                                         abstract: "Set precisions.", freeForm: true) { inv, _ in
            seen = inv
            return .empty
        }])
        h.run("precision net dense*=w8a8 conv1=w4a4 conv*=w2a2")
        #expect(try #require(seen).orderedOptions.map(\.key) == ["dense*", "conv1", "conv*"])
    }

    @Test func editDistance() {
        #expect(EditDistance.between("kitten", "sitting") == 3)
        #expect(EditDistance.between("", "abc") == 3)
        #expect(EditDistance.between("same", "same") == 0)
        #expect(EditDistance.nearest(to: "foo", in: ["form", "seed"]) == "form")
        #expect(EditDistance.nearest(to: "xyz", in: ["form", "seed"]) == nil)
    }
}
