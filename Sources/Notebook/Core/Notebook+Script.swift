import Foundation

extension Notebook {
    /// Runs a script's lines in order and stops at the first failure.
    ///
    /// Each command's text goes to `output` as it runs (preceded by `qlab> LINE`
    /// when `echo` is on). Returns the key results of all commands, in order.
    /// Throws `QuantlabError.script(file:line:error:)` naming the failing line.
    /// Nothing is recorded: the caller records the line that ran the script.
    @discardableResult
    public func runScript(_ text: String, file: String, echo: Bool = false) throws -> [String] {
        var results: [String] = []
        for (index, line) in Notebook.lines(of: text).enumerated() {
            do {
                try workspace.checkInterrupted()
                if echo, !line.trimmingCharacters(in: .whitespaces).isEmpty { output("qlab> \(line)") }
                guard let result = try run(line, lineNumber: index + 1) else { continue }
                if !result.text.isEmpty { output(result.text) }
                results += result.results
            } catch {
                throw QuantlabError.script(file: file, line: index + 1, error: error)
            }
        }
        return results
    }

    /// Runs the script file at `path` (resolved against the working directory),
    /// one level deeper: what `source FILE` does.
    func source(_ path: String) throws -> [String] {
        guard depth < Notebook.maxSourceDepth else {
            throw QuantlabError.runtime("source: nested more than \(Notebook.maxSourceDepth) deep; does '\(path)' source itself?")
        }
        let text = try Notebook.readScript(at: workspace.resolve(path: path), shownAs: path)
        depth += 1
        defer { depth -= 1 }
        return try runScript(text, file: path)
    }

    /// The text of a script file, or a runtime error naming it.
    public static func readScript(at path: String, shownAs name: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let reason = !exists ? "no such file" : isDirectory.boolValue ? "it is a directory" : "permission denied"
            throw QuantlabError.runtime("cannot read '\(name)': \(reason)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw QuantlabError.input(file: name, line: nil, offset: nil, expected: "UTF-8 text", found: "other bytes")
        }
        return text
    }

    /// Lines of a script (`\n` or `\r\n` endings), without a final empty line
    /// after the last newline.
    static func lines(of text: String) -> [String] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
