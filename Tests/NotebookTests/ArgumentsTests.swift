import Testing
@testable import Notebook

/// The one option parser: every command gets the same spellings and messages.
@Suite struct ArgumentsTests {
    private func inv(_ options: [String: String]) -> Invocation {
        Invocation(command: "x", synopsis: "x", options: options)
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" }
        catch QuantlabError.usage(_, _, let message) { return message }
        catch { return "not a usage error: \(error)" }
    }

    @Test func yesNoSpellings() throws {
        for t in ["yes", "YES", "true", "on", "1"] { #expect(try inv(["k": t]).bool("k") == true) }
        for t in ["no", "False", "off", "0"] { #expect(try inv(["k": t]).bool("k") == false) }
        #expect(try inv([:]).bool("k") == nil)
        #expect(message { _ = try inv(["k": "maybe"]).bool("k") }.contains("option 'k' expects yes or no, found 'maybe'"))
    }

    @Test func listsAreNonEmpty() throws {
        #expect(try inv(["w": "1,t,2"]).list("w") == ["1", "t", "2"])
        #expect(try inv([:]).list("w") == nil)
        for bad in [",", "2,,4", ",2", "2,"] {
            #expect(message { _ = try inv(["w": bad]).list("w") }
                .contains("option 'w' expects a comma-separated list of one or more values, e.g. w=2,4,8, found '\(bad)'"))
        }
    }

    @Test func rangesNameWhatIsAccepted() throws {
        #expect(try inv(["n": "5"]).int("n", in: 1...9) == 5)
        #expect(message { _ = try inv(["n": "0"]).int("n", in: 1...9) }.contains("option 'n' expects an integer from 1 to 9, found '0'"))
        #expect(message { _ = try inv(["n": "0"]).int("n", in: 3...Int.max) }.contains("option 'n' expects an integer ≥ 3, found '0'"))
        #expect(message { _ = try inv([:]).int("n", default: 50, in: 1...9) }.contains("found '50'"))
        #expect(message { _ = try inv(["x": "-1"]).double("x", in: 0.5...Double.greatestFiniteMagnitude) }
            .contains("option 'x' expects a number ≥ 0.5, found '-1'"))
        #expect(message { _ = try inv(["x": "7"]).double("x", default: 1, in: 0...5) }.contains("expects a number from 0 to 5, found '7'"))
    }

    @Test func choicesListTheAlternatives() throws {
        #expect(try inv([:]).choice("cost", ["memory", "bops", "energy"], default: "memory") == "memory")
        #expect(message { _ = try inv(["cost": "latency"]).choice("cost", ["memory", "bops", "energy"], default: "memory") }
            .contains("option 'cost' expects memory, bops or energy, found 'latency'"))
    }
}
