import Foundation
@testable import Notebook

/// A notebook with only the built-ins plus the test commands below, writing
/// its output into a buffer.
final class Harness {
    let notebook: Notebook
    private(set) var lines: [String] = []
    /// What went to `Notebook.warning` (standard error in the shell).
    private(set) var warnings: [String] = []

    init(workingDirectory: String = NSTemporaryDirectory()) {
        let workspace = Workspace(workingDirectory: workingDirectory)
        notebook = Notebook(workspace: workspace, domainCommands: false, output: { _ in })
        notebook.output = { [weak self] in self?.lines.append($0) }
        notebook.warning = { [weak self] in self?.warnings.append($0) }
        notebook.register(TestCommands.specs)
    }

    /// Output written since the harness was made, one string.
    var text: String { lines.joined(separator: "\n") }

    func clear() { lines = [] }

    /// Runs `line` and returns the output it wrote (or its error message).
    @discardableResult
    func run(_ line: String) -> String {
        let before = lines.count
        switch notebook.execute(line) {
        case .failure(let message): return message
        default: return lines[before...].joined(separator: "\n")
        }
    }
}

/// Commands that exist only in tests: deterministic key results to record and replay.
enum TestCommands {
    static let specs: [CommandSpec] = [
        CommandSpec(group: "calc", verb: "add", synopsis: "calc add A B [scale=X]",
                    abstract: "Add two numbers.", options: ["scale"]) { inv, _ in
            try inv.expectWords(2...2)
            let a = try inv.intWord(0, "A"), b = try inv.intWord(1, "B")
            let scale = try inv.double("scale", default: 1)
            let sum = Double(a + b) * scale
            return CommandOutput(text: "\(a) + \(b) = \(sum)", results: ["sum \(sum)"])
        },
        CommandSpec(group: "calc", verb: "average", synopsis: "calc average X...",
                    abstract: "Average numbers.") { inv, _ in
            let xs = try inv.words.indices.map { i -> Double in
                guard let x = Double(inv.words[i]) else { throw inv.usageError("X expects a number, found '\(inv.words[i])'") }
                return x
            }
            guard !xs.isEmpty else { throw inv.usageError("missing X") }
            let mean = xs.reduce(0, +) / Double(xs.count)
            return CommandOutput(text: "mean \(mean)", results: ["mean \(mean)", "count \(xs.count)"])
        },
        CommandSpec(group: "calc", verb: "fail", synopsis: "calc fail",
                    abstract: "Always fails at run time.") { _, _ in
            throw QuantlabError.runtime("calc fail failed on purpose")
        },
        CommandSpec(group: "model", verb: "show", synopsis: "model show NAME [svg=FILE]",
                    abstract: "Show a model.", options: ["svg", "format"], completes: [.model],
                    optionValues: ["svg": .path]) { inv, _ in
            CommandOutput("model \(try inv.word(0, "NAME"))")
        },
    ]
}

/// A fresh empty directory under the system temporary directory.
func temporaryDirectory(_ name: String = "notebook") -> String {
    let path = NSTemporaryDirectory() + "quantlab-\(name)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ text: String, to path: String) {
    try! text.write(toFile: path, atomically: true, encoding: .utf8)
}

func contents(_ path: String) -> String {
    (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}
