import Foundation

/// Converts between session files (`.qlab`) and Jupyter notebooks (`.ipynb`, nbformat 4.5).
///
/// Session → notebook: a session recorded by the kernel is split at its
/// `# cell N` markers; any other session is split into one code cell per
/// command group (consecutive commands with the same first word), and its
/// comment paragraphs become markdown cells. A cell's `#=` key results become
/// its output text and are kept in the cell's metadata (`quantlab.results`,
/// one list per command), so the notebook replays with `--verify`. Failed
/// commands stay in the cell as their `# failed:` comments.
///
/// Notebook → session: the code cells' lines, each cell after a `# cell N`
/// marker, each command followed by its recorded results when the metadata has them.
public enum NotebookFile {
    struct Command {
        var line: String
        var results: [String] = []
        var comments: [String] = []   // `# failed:` / `# error:` lines after it
    }

    enum Block {
        case markdown([String])
        case code([Command])
    }

    /// The notebook JSON (pretty-printed, sorted keys) for a session's text.
    public static func notebook(fromSession text: String) -> String {
        let (header, blocks) = split(text)
        var cells: [JSONObject] = []
        for (index, block) in blocks.enumerated() {
            let id = String(format: "cell-%03d", Int32(index + 1))
            switch block {
            case .markdown(let lines):
                cells.append(["cell_type": "markdown", "id": id, "metadata": [String: Any](), "source": sourceLines(lines)])
            case .code(let commands):
                let source = commands.flatMap { [$0.line] + $0.comments }
                let results = commands.flatMap(\.results)
                var outputs: [JSONObject] = []
                if !results.isEmpty {
                    outputs.append(["output_type": "stream", "name": "stdout", "text": results.map { "#= " + $0 + "\n" }])
                }
                cells.append(["cell_type": "code", "id": id, "execution_count": NSNull(), "source": sourceLines(source),
                              "outputs": outputs, "metadata": ["quantlab": ["results": commands.map(\.results)]]])
            }
        }
        let notebook: JSONObject = [
            "nbformat": 4, "nbformat_minor": 5,
            "metadata": [
                "kernelspec": ["name": "quantlab", "display_name": "quantlab", "language": "quantlab"],
                "language_info": ["name": "quantlab", "file_extension": ".qlab", "mimetype": "text/x-quantlab",
                                  "codemirror_mode": "shell"],
                "quantlab": ["header": header],
            ] as JSONObject,
            "cells": cells,
        ]
        let data = try! JSONSerialization.data(withJSONObject: notebook, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// A replayable session script from a notebook's code cells; throws on JSON that is not a notebook.
    public static func session(fromNotebook data: Data, name: String) throws -> String {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? JSONObject,
              let cells = json["cells"] as? [JSONObject] else {
            throw KernelError("\(name): not a Jupyter notebook (expected a JSON object with 'cells')")
        }
        let header = (((json["metadata"] as? JSONObject)?["quantlab"] as? JSONObject)?["header"] as? [String])?
            .filter { $0.hasPrefix("#") && !$0.hasPrefix("#=") }
        var lines = header ?? ["# quantlab session"]
        lines.append("# from notebook: \(name)")
        var number = 0
        for cell in cells where cell["cell_type"] as? String == "code" {
            number += 1
            lines.append("# cell \(number)")
            let source = text(cell["source"])
            let recorded = ((cell["metadata"] as? JSONObject)?["quantlab"] as? JSONObject)?["results"] as? [[String]]
            var commandIndex = 0
            for item in Cell.lines(source) {
                let trimmed = item.line.trimmingCharacters(in: .whitespaces)
                lines.append(item.line)
                if trimmed.hasPrefix("#") { continue }
                if let recorded, commandIndex < recorded.count {
                    lines += recorded[commandIndex].map { "#= " + $0 }
                }
                commandIndex += 1
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A notebook `source`: a string or a list of strings.
    static func text(_ value: Any?) -> String {
        if let s = value as? String { return s }
        if let list = value as? [String] { return list.joined() }
        return ""
    }

    /// Lines as nbformat stores them: each but the last ends in a newline.
    static func sourceLines(_ lines: [String]) -> [String] {
        lines.enumerated().map { $0.offset == lines.count - 1 ? $0.element : $0.element + "\n" }
    }

    /// The session header (leading `# quantlab session` and `# key: value` lines) and the blocks.
    static func split(_ text: String) -> (header: [String], blocks: [Block]) {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        var header: [String] = []
        while let first = lines.first, first.hasPrefix("# quantlab session") || isHeaderField(first) {
            header.append(lines.removeFirst())
        }
        let marked = lines.contains { isCellMarker($0) }
        var blocks: [Block] = []
        var markdown: [String] = []
        var commands: [Command] = []
        func flushCode() {
            if !commands.isEmpty { blocks.append(.code(commands)) }
            commands = []
        }
        func flushMarkdown() {
            if !markdown.isEmpty { blocks.append(.markdown(markdown)) }
            markdown = []
        }
        for raw in lines {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#=") {
                if !commands.isEmpty { commands[commands.count - 1].results.append(String(line.dropFirst(2)).trimmingSpaces()) }
            } else if line.hasPrefix("# failed:") {
                flushMarkdown()
                commands.append(Command(line: line))
            } else if line.hasPrefix("# error:") {
                if !commands.isEmpty { commands[commands.count - 1].comments.append(line) }
            } else if isCellMarker(line) {
                flushMarkdown()
                flushCode()
            } else if line.hasPrefix("#") {
                if !marked { flushCode() }
                let body = line.dropFirst().drop(while: { $0 == " " })
                markdown.append(String(body))
            } else {
                flushMarkdown()
                if !marked, let last = commands.last(where: { !$0.line.hasPrefix("#") }), group(last.line) != group(line) { flushCode() }
                commands.append(Command(line: line))
            }
        }
        flushMarkdown()
        flushCode()
        return (header, blocks)
    }

    static func isCellMarker(_ line: String) -> Bool {
        let parts = line.split(separator: " ")
        return parts.count == 3 && parts[0] == "#" && parts[1] == "cell" && Int(parts[2]) != nil
    }

    static func isHeaderField(_ line: String) -> Bool {
        let fields = ["version", "date", "seed", "threads", "cpu", "blas", "dataset", "from notebook", "end"]
        return fields.contains { line.hasPrefix("# \($0):") }
    }

    static func group(_ line: String) -> String {
        String(line.split(separator: " ").first ?? "")
    }
}
