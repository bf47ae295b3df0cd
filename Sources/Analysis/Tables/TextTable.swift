import Foundation
import Formatting

/// A table of strings rendered as aligned text for the terminal or as CSV.
///
/// Columns whose cells all look like numbers (ignoring empty cells and "-") are
/// right-aligned, others left-aligned, unless `alignments` says otherwise. Widths
/// are terminal columns (``DisplayWidth``): a name in CJK characters, two columns
/// each, lines up with ASCII ones.
public struct TextTable: Equatable, Sendable {
    public enum Alignment: Sendable { case left, right }

    public var header: [String]
    public private(set) var rows: [[String]] = []
    /// Per-column alignment; nil means automatic (numbers right, text left).
    public var alignments: [Alignment]?

    public init(header: [String], alignments: [Alignment]? = nil) {
        self.header = header
        self.alignments = alignments
    }

    /// Appends a row. Short rows are padded with empty cells; long rows add columns.
    public mutating func add(_ row: [String]) {
        rows.append(row)
    }

    /// Number of columns: the widest of the header and the rows.
    public var columnCount: Int {
        rows.reduce(header.count) { max($0, $1.count) }
    }

    /// Aligned text: header, a rule of dashes, then the rows; columns separated by
    /// two spaces, trailing spaces trimmed, lines joined by "\n" (no final newline).
    public func render() -> String {
        let n = columnCount
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: n)
        for row in all { for (c, cell) in row.enumerated() { widths[c] = max(widths[c], DisplayWidth.columns(cell)) } }
        let align = (0..<n).map { alignment(ofColumn: $0) }
        func line(_ cells: [String]) -> String {
            let padded = (0..<n).map { c in
                DisplayWidth.padded(c < cells.count ? cells[c] : "", to: widths[c], right: align[c] == .right)
            }
            return trimTrailing(padded.joined(separator: "  "))
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }

    /// CSV per RFC 4180: a field is quoted when it contains a comma, a double quote,
    /// CR or LF, and quotes inside are doubled. Records end with LF, as every CSV file
    /// quantlab writes (`store export`, `compare`, `config list`, `correlate`), unless
    /// `lineEnding` is given. Short rows are padded to the column count.
    public func csv(lineEnding: String = "\n") -> String {
        let n = columnCount
        return ([header] + rows).map { row in
            (0..<n).map { c in TextTable.csvField(c < row.count ? row[c] : "") }.joined(separator: ",")
        }.map { $0 + lineEnding }.joined()
    }

    /// One CSV field, quoted when it must be.
    public static func csvField(_ s: String) -> String {
        let needsQuotes = s.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        guard needsQuotes else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The alignment used for column `c`.
    public func alignment(ofColumn c: Int) -> Alignment {
        if let alignments, c < alignments.count { return alignments[c] }
        var sawNumber = false
        for row in rows where c < row.count {
            let cell = row[c].trimmingCharacters(in: .whitespaces)
            if cell.isEmpty || cell == "-" { continue }
            guard TextTable.looksNumeric(cell) else { return .left }
            sawNumber = true
        }
        return sawNumber ? .right : .left
    }

    /// A number as people write them in tables: "12", "-0.5", "1e-3", "87.5%".
    static func looksNumeric(_ s: String) -> Bool {
        let body = s.hasSuffix("%") ? String(s.dropLast()) : s
        guard let v = Double(body) else { return false }
        return v.isFinite || body.lowercased().hasSuffix("inf") || body.lowercased() == "nan"
    }
}

private func trimTrailing(_ s: String) -> String {
    var s = s
    while s.last == " " { s.removeLast() }
    return s
}
