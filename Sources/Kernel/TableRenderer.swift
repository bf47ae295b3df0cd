import Foundation
import Formatting

/// Finds the aligned tables in a command's text (as `TextTable.render()` lays
/// them out: a header line, a rule of dash runs separated by two spaces, then
/// rows) and renders the text as HTML and Markdown, tables as tables and
/// other lines as preformatted text / paragraphs.
public enum TableRenderer {
    /// One table: header and rows, cells trimmed.
    public struct Table: Equatable {
        public var header: [String]
        public var rows: [[String]]
    }

    enum Block: Equatable {
        case text([String])
        case table(Table)
    }

    /// nil when the text holds no table.
    public static func tables(in text: String) -> [Table]? {
        let found = blocks(text).compactMap { block -> Table? in
            if case .table(let t) = block { return t }
            return nil
        }
        return found.isEmpty ? nil : found
    }

    /// `text/html` and `text/markdown` renderings, or nil when the text holds no table.
    public static func render(_ text: String) -> (html: String, markdown: String)? {
        let parts = blocks(text)
        guard parts.contains(where: { if case .table = $0 { return true } else { return false } }) else { return nil }
        var html = "", markdown = ""
        for block in parts {
            switch block {
            case .text(let lines):
                html += "<pre>" + escape(lines.joined(separator: "\n")) + "</pre>\n"
                markdown += "```\n" + lines.joined(separator: "\n") + "\n```\n\n"
            case .table(let table):
                html += "<table>\n<thead><tr>" + table.header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
                for row in table.rows {
                    html += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
                }
                html += "</tbody>\n</table>\n"
                markdown += "| " + table.header.map(cell).joined(separator: " | ") + " |\n"
                markdown += "|" + table.header.map { _ in " --- |" }.joined() + "\n"
                for row in table.rows {
                    markdown += "| " + row.map(cell).joined(separator: " | ") + " |\n"
                }
                markdown += "\n"
            }
        }
        return (html, markdown.trimmingTrailingNewlines() + "\n")
    }

    static func blocks(_ text: String) -> [Block] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [Block] = []
        var plain: [String] = []
        var i = 0
        func flush() {
            while plain.last?.isEmpty == true { plain.removeLast() }
            if !plain.isEmpty { blocks.append(.text(plain)) }
            plain = []
        }
        while i < lines.count {
            if i + 1 < lines.count, let columns = ruleColumns(lines[i + 1]), columns.count >= 2,
               DisplayWidth.columns(lines[i]) <= (columns.last!.upperBound), !lines[i].allSatisfy(\.isWhitespace) {
                var rows: [[String]] = []
                var j = i + 2
                while j < lines.count, !lines[j].allSatisfy(\.isWhitespace), DisplayWidth.columns(lines[j]) <= columns.last!.upperBound + 40 {
                    rows.append(split(lines[j], columns))
                    j += 1
                }
                flush()
                blocks.append(.table(Table(header: split(lines[i], columns), rows: rows)))
                i = j
                continue
            }
            plain.append(lines[i])
            i += 1
        }
        flush()
        return blocks
    }

    /// Column ranges (in terminal columns: the rule is ASCII) of a rule line like `------  ---  -----`.
    static func ruleColumns(_ line: String) -> [Range<Int>]? {
        let chars = Array(line)
        guard !chars.isEmpty, chars.allSatisfy({ $0 == "-" || $0 == " " }), chars.first == "-" else { return nil }
        var columns: [Range<Int>] = []
        var i = 0
        while i < chars.count {
            guard chars[i] == "-" else { return nil }
            let start = i
            while i < chars.count, chars[i] == "-" { i += 1 }
            columns.append(start..<i)
            if i == chars.count { break }
            // exactly two spaces between columns
            guard i + 2 < chars.count, chars[i] == " ", chars[i + 1] == " ", chars[i + 2] == "-" else { return nil }
            i += 2
        }
        return columns
    }

    /// Cells of a row: each column's range, the last one running to the end of the line.
    /// Positions are terminal columns (``DisplayWidth``), as `TextTable` pads: a
    /// Character belongs to the column its first terminal column falls in (the gap
    /// after a column counts as that column's).
    static func split(_ line: String, _ columns: [Range<Int>]) -> [String] {
        var cells = [String](repeating: "", count: columns.count)
        var position = 0, k = 0
        for ch in line {
            while k + 1 < columns.count, columns[k + 1].lowerBound <= position { k += 1 }
            cells[k].append(ch)
            position += DisplayWidth.columns(character: ch)
        }
        return cells.map { $0.trimmingSpaces() }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    private static func cell(_ text: String) -> String {
        text.isEmpty ? " " : text.replacingOccurrences(of: "|", with: "\\|")
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }

    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while s.last == "\n" { s.removeLast() }
        return String(s)
    }
}
