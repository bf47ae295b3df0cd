import Foundation
import Testing
@testable import quantlab

/// The pager: when it pages, with what, and that the text reaches it whole.
@Suite struct PagerTests {
    @Test func commandFromTheEnvironment() {
        #expect(Pager.command([:]) == "less -R")
        #expect(Pager.command(["PAGER": "most"]) == "most")
        #expect(Pager.command(["PAGER": ""]) == nil)
        #expect(Pager.command(["PAGER": " cat "]) == nil)
    }

    @Test func pagesOnlyTextTallerThanTheTerminal() {
        let pager = Pager(environment: [:], size: { (rows: 10, columns: 20) })
        #expect(!pager.needsPaging(Array(repeating: "x", count: 9).joined(separator: "\n")))   // 9 lines + the prompt fit
        #expect(pager.needsPaging(Array(repeating: "x", count: 10).joined(separator: "\n")))
        // Long lines wrap: 5 lines of 41 characters take 3 rows each.
        #expect(Pager.screenLines(Array(repeating: String(repeating: "y", count: 41), count: 5).joined(separator: "\n"), columns: 20) == 15)
        #expect(pager.needsPaging(Array(repeating: String(repeating: "y", count: 41), count: 5).joined(separator: "\n")))
        // Not a terminal (0 rows), or PAGER off: never.
        #expect(!Pager(environment: [:], size: { (rows: 0, columns: 0) }).needsPaging(String(repeating: "z\n", count: 500)))
        #expect(!Pager(environment: ["PAGER": ""], size: { (rows: 10, columns: 20) }).needsPaging(String(repeating: "z\n", count: 500)))
    }

    @Test func textReachesThePagerWhole() throws {
        let file = NSTemporaryDirectory() + "quantlab-pager-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let text = (1...5000).map { "line \($0) µJ" }.joined(separator: "\n")
        #expect(Pager.page(text + "\n", through: "cat > '\(file)'"))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == text + "\n")
        // A pager that quits at once (head) leaves the shell running: EPIPE, no SIGPIPE.
        #expect(Pager.page(text + "\n", through: "head -1 > /dev/null"))
        // One that cannot be found falls back to printing.
        #expect(!Pager.page("x\n", through: "no-such-pager-\(UUID().uuidString.prefix(6))"))
        var printed = ""
        Pager(environment: ["PAGER": "no-such-pager-x"], size: { (rows: 3, columns: 80) }).show("a\nb\nc\nd") { printed = $0 }
        #expect(printed == "a\nb\nc\nd")
    }
}
