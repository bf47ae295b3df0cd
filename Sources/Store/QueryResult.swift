import Foundation
import Formatting

/// One value of a query result, as SQLite typed it.
public enum QueryValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The value as text, nil for NULL. Reals use Swift's shortest round-trip form
    /// (`0.1`, `1e-05`); blobs are shown as SQL hex literals (`x'00ff'`).
    public var text: String? {
        switch self {
        case .null: return nil
        case .integer(let value): return String(value)
        case .real(let value): return "\(value)"
        case .text(let value): return value
        case .blob(let bytes): return "x'" + bytes.map(Self.hex).joined() + "'"
        }
    }

    /// Whether the value is a number (integer or real).
    public var isNumber: Bool {
        switch self {
        case .integer, .real: return true
        default: return false
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}

/// The columns and rows a read-only query returned, with text renderings.
public struct QueryResult: Equatable, Sendable {
    public var columns: [String]
    /// The rows kept (see ``ResultsStore/query(_:keep:count:isCancelled:)``).
    public var rows: [[QueryValue]]
    /// Rows the statement produced, counted up to the query's limit.
    public var totalRows: Int
    /// False when counting stopped at the limit: there were more rows.
    public var complete: Bool

    public init(columns: [String], rows: [[QueryValue]], totalRows: Int? = nil, complete: Bool = true) {
        self.columns = columns
        self.rows = rows
        self.totalRows = totalRows ?? rows.count
        self.complete = complete
    }

    /// True when every row the statement produced is in `rows`.
    public var isWhole: Bool { complete && rows.count == totalRows }

    /// The rows as text, NULL as nil.
    public var textRows: [[String?]] { rows.map { $0.map(\.text) } }

    /// The result as an aligned text table, as the `sql` command prints it:
    ///
    /// ```
    /// id  name  val_acc
    /// --  ----  -------
    ///  1  fp     0.9123
    ///  2  w4a4     NULL
    /// ```
    ///
    /// Widths are terminal columns (a CJK character takes two, see `DisplayWidth`).
    /// Columns whose values are all numbers (or NULL) are right-aligned; NULL is
    /// shown as `NULL`; newlines and tabs inside text are shown as `\n` and `\t`.
    /// Lines carry no trailing spaces, and the last line no newline: a row count
    /// or anything else is the caller's to add. No columns renders as "".
    public func renderTable() -> String {
        guard !columns.isEmpty else { return "" }
        let cells = rows.map { row in
            row.map { value in
                (value.text ?? "NULL")
                    .replacingOccurrences(of: "\n", with: "\\n")
                    .replacingOccurrences(of: "\t", with: "\\t")
            }
        }
        let numeric = columns.indices.map { column in
            rows.contains { $0[column].isNumber }
                && rows.allSatisfy { $0[column].isNumber || $0[column] == .null }
        }
        let widths = columns.indices.map { column in
            cells.reduce(DisplayWidth.columns(columns[column])) { max($0, DisplayWidth.columns($1[column])) }
        }
        func line(_ fields: [String]) -> String {
            var parts: [String] = []
            for (column, field) in fields.enumerated() {
                let isLast = column == fields.count - 1
                parts.append(numeric[column] || !isLast ? DisplayWidth.padded(field, to: widths[column], right: numeric[column]) : field)
            }
            return parts.joined(separator: "  ")
        }
        var lines = [line(columns), line(widths.map { String(repeating: "-", count: $0) })]
        lines += cells.map(line)
        return lines.joined(separator: "\n")
    }
}
