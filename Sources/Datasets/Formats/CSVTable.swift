/// A CSV file of numeric features and one label column, parsed and checked.
///
/// Format: UTF-8 text, one record per line (`\n`, `\r\n` or `\r`), fields separated by
/// commas, optionally double-quoted (`"a, b"`, `""` for a quote; a quoted field may
/// not span lines). A UTF-8 byte-order mark at the start (Excel's "CSV UTF-8") is
/// skipped. The first non-blank line is the header naming the columns, at least one
/// of them a feature besides the label; blank lines are skipped. Every record has as
/// many fields as the header; every field other than the label is a finite decimal
/// number (see ``isDecimalNumber(_:)``: not the hexadecimal `0x10` Swift's parser reads).
struct CSVTable {
    let path: String
    var columns: [String]
    var labelColumn: String
    /// Feature column names, in file order.
    var featureNames: [String]
    /// rows × featureNames.count, row-major.
    var features: [Float]
    /// The label field of each row, trimmed.
    var labels: [String]
    /// The 1-based line number of each row, for errors.
    var lines: [Int]
    /// The 1-based line number of the header (blank lines may come first).
    var headerLine = 1

    var rows: Int { labels.count }

    /// Parses `path`, taking the column named `label` as the label (default: the
    /// column named "label", else the last column). `check` is called while reading
    /// and once per line (see `LoadCheck`).
    init(path: String, label: String?, check: LoadCheck) throws {
        self.path = path
        let bytes = try GzipReader(path: path, check: check).readToEnd(what: "CSV text")
        var header: [String]? = nil
        var labelIndex = 0
        columns = []; labelColumn = ""; featureNames = []; features = []; labels = []; lines = []
        var lineNumber = 0
        // Lines end at \n, \r\n or \r; each is checked to be UTF-8 on its own, so an
        // error names the line. A byte-order mark would otherwise become part of the
        // first column's name.
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while start < bytes.count || (start == bytes.count && lineNumber == 0) {
            try check()
            var end = start
            while end < bytes.count && bytes[end] != 0x0A && bytes[end] != 0x0D { end += 1 }
            let next = end < bytes.count && bytes[end] == 0x0D && end + 1 < bytes.count && bytes[end + 1] == 0x0A ? end + 2 : end + 1
            defer { start = next }
            lineNumber += 1
            let fields: [String]
            let raw = bytes[start..<end]
            if raw.allSatisfy({ $0 < 0x80 && $0 != 0x22 }) {
                // ASCII without quotes (a numeric table's every line): split byte by byte.
                if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                fields = Self.plainFields(raw)
            } else {
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw DatasetError(file: path, location: .line(lineNumber), expected: "UTF-8 text", found: "bytes that are not valid UTF-8")
                }
                let line = Substring(text)
                if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                fields = try Self.fields(line, path: path, line: lineNumber)
            }
            guard let header else {
                header = fields
                columns = fields
                let wanted = label ?? (fields.contains("label") ? "label" : fields.last ?? "")
                guard let i = fields.firstIndex(of: wanted) else {
                    throw DatasetError(file: path, location: .line(lineNumber),
                                       expected: "a header with a column named '\(wanted)' (the label column)",
                                       found: "columns \(fields.map { "'\($0)'" }.joined(separator: ", "))")
                }
                labelIndex = i
                labelColumn = wanted
                headerLine = lineNumber
                featureNames = fields.enumerated().filter { $0.offset != i }.map(\.element)
                guard !featureNames.isEmpty else {
                    throw DatasetError(file: path, location: .line(lineNumber),
                                       expected: "at least one feature column besides the label column '\(wanted)'",
                                       found: "only the label column")
                }
                continue
            }
            guard fields.count == header.count else {
                throw DatasetError(file: path, location: .line(lineNumber),
                                   expected: "\(header.count) fields as in the header", found: "\(fields.count)")
            }
            for (k, field) in fields.enumerated() where k != labelIndex {
                guard Self.isDecimalNumber(field), let v = Float(field), v.isFinite else {
                    throw DatasetError(file: path, location: .line(lineNumber),
                                       expected: "a finite decimal number in column '\(header[k])'",
                                       found: field.isEmpty ? "an empty field" : "'\(field)'")
                }
                features.append(v)
            }
            labels.append(fields[labelIndex])
            lines.append(lineNumber)
        }
        if header == nil {
            throw DatasetError(file: path, location: .line(1), expected: "a header row naming the columns", found: "an empty file")
        }
    }

    /// True when `text` is a decimal number: an optional sign, digits with at most one
    /// point (at least one digit), and an optional exponent (`e` or `E`, an optional
    /// sign, digits) — `-1.5`, `.5`, `3.`, `2e-3`. Float(_:) also reads hexadecimal
    /// (`0x10` is 16, `0x1p3` is 8), `inf` and `nan`; a CSV field is checked here first.
    static func isDecimalNumber(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isDecimalNumber($0) }
    }

    static func isDecimalNumber(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        func skipSign() { if i < t.count, t[i] == 0x2B || t[i] == 0x2D { i += 1 } }
        func digits() -> Int {
            let first = i
            while i < t.count, t[i] &- 0x30 < 10 { i += 1 }
            return i - first
        }
        skipSign()
        var mantissa = digits()
        if i < t.count, t[i] == 0x2E {
            i += 1
            mantissa += digits()
        }
        guard mantissa > 0 else { return false }
        if i < t.count, t[i] | 0x20 == 0x65 {
            i += 1
            skipSign()
            guard digits() > 0 else { return false }
        }
        return i == t.count
    }

    /// The fields of a line of ASCII bytes without a double quote, split at commas and
    /// trimmed of spaces and tabs: what ``fields(_:path:line:)`` gives for it (in ASCII a
    /// Character is one byte), without walking Characters and appending them one by one
    /// (that walk was most of the time of loading a large numeric CSV).
    static func plainFields(_ line: ArraySlice<UInt8>) -> [String] {
        var result: [String] = []
        var a = line.startIndex
        while true {
            var b = a
            while b < line.endIndex && line[b] != 0x2C { b += 1 }
            var lo = a, hi = b
            while lo < hi && (line[lo] == 0x20 || line[lo] == 0x09) { lo += 1 }
            while hi > lo && (line[hi - 1] == 0x20 || line[hi - 1] == 0x09) { hi -= 1 }
            result.append(String(decoding: line[lo..<hi], as: UTF8.self))
            if b == line.endIndex { return result }
            a = b + 1
        }
    }

    /// Splits one line into trimmed fields, honouring double quotes.
    static func fields(_ line: Substring, path: String, line number: Int) throws -> [String] {
        var result: [String] = []
        var field = ""
        var quoted = false, wasQuoted = false
        var chars = line.makeIterator()
        while let ch = chars.next() {
            if quoted {
                if ch == "\"" {
                    var look = chars
                    if look.next() == "\"" { field.append("\""); chars = look } else { quoted = false }
                } else {
                    field.append(ch)
                }
            } else if ch == "," {
                result.append(wasQuoted ? field : field.trimmingWhitespace())
                field = ""; wasQuoted = false
            } else if ch == "\"" && field.allSatisfy({ $0 == " " || $0 == "\t" }) {
                field = ""; quoted = true; wasQuoted = true
            } else {
                field.append(ch)
            }
        }
        if quoted {
            throw DatasetError(file: path, location: .line(number), expected: "a closing double quote", found: "the end of the line")
        }
        result.append(wasQuoted ? field : field.trimmingWhitespace())
        return result
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
