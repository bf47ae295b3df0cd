import Notebook
import Testing
@testable import Kernel

@Suite struct CellTests {
    @Test func linesJoinContinuationsAndSkipBlanks() {
        let lines = Cell.lines("seed 7\n\nmodel define net = conv 16 k3 | relu \\\n  | dense 10\necho done")
        #expect(lines.map(\.line) == ["seed 7", "model define net = conv 16 k3 | relu    | dense 10", "echo done"])
        #expect(lines.map(\.number) == [1, 3, 5])
        #expect(Cell.lines("echo \"a\\\\\"").map(\.line) == ["echo \"a\\\\\""])
    }

    @Test func completeness() {
        let registry = Notebook(domainCommands: true, output: { _ in }).registry
        #expect(Cell.completeness("seed 7", registry: registry) == "complete")
        #expect(Cell.completeness("echo hi # a \"comment", registry: registry) == "complete")
        #expect(Cell.completeness("", registry: registry) == "complete")
        #expect(Cell.completeness("echo \"unclosed", registry: registry) == "incomplete")
        #expect(Cell.completeness("model define net = dense 10 \\", registry: registry) == "incomplete")
        #expect(Cell.completeness("frobnicate 3", registry: registry) == "invalid")
        #expect(Cell.completeness("echo \"bad \\q escape\"", registry: registry) == "invalid")
    }
}
