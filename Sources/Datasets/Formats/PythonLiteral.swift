/// A Python literal as a `.npy` header writes them: the subset of what
/// `ast.literal_eval` reads that NumPy headers use.
indirect enum PythonLiteral: Equatable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(String, PythonLiteral)])

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool { a.description == b.description }

    var isList: Bool { if case .list = self { return true } else { return false } }

    /// What kind of value this is, for messages ("a string 'x'", "an integer 3").
    var kind: String {
        switch self {
        case .string(let s): return "a string '\(s)'"
        case .int(let n): return "an integer \(n)"
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple: return "a tuple \(description)"
        case .list: return "a list \(description)"
        case .dict: return "a dictionary"
        }
    }

    var description: String {
        switch self {
        case .string(let s): return "'\(s)'"
        case .int(let n): return String(n)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let t): return t.count == 1 ? "(\(t[0]),)" : "(" + t.map(\.description).joined(separator: ", ") + ")"
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.map { "'\($0.0)': \($0.1)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Reads a Python literal from bytes `position..<end`; every error names the byte
/// offset where parsing stopped. Nesting is limited to 32 levels, so a damaged header
/// of many brackets cannot exhaust the stack.
struct PythonLiteralParser {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    let fail: (Int, String, String) -> DatasetError
    private var depth = 0

    init(bytes: [UInt8], position: Int, end: Int, fail: @escaping (Int, String, String) -> DatasetError) {
        self.bytes = bytes
        self.position = position
        self.end = min(end, bytes.count)
        self.fail = fail
    }

    private var current: UInt8? { position < end ? bytes[position] : nil }

    private func found() -> String {
        guard let c = current else { return "the end of the header" }
        return c >= 0x20 && c < 0x7f ? "'\(String(UnicodeScalar(c)))'" : "byte 0x" + String(c, radix: 16)
    }

    private mutating func skipSpace() {
        while let c = current, c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { position += 1 }
    }

    private mutating func expect(_ c: Character) throws {
        skipSpace()
        guard current == c.asciiValue else { throw fail(position, "'\(c)'", found()) }
        position += 1
    }

    /// The header: one dict literal, then only whitespace up to the end. Returns
    /// key → (value, offset of the value).
    mutating func parseHeaderDictionary() throws -> [String: (PythonLiteral, Int)] {
        skipSpace()
        guard current == UInt8(ascii: "{") else { throw fail(position, "a dictionary '{' starting the header", found()) }
        var out: [String: (PythonLiteral, Int)] = [:]
        for (key, value, at) in try parseDictionary() {
            guard out[key] == nil else { throw fail(at, "each key once", "a second '\(key)'") }
            out[key] = (value, at)
        }
        skipSpace()
        guard position == end else { throw fail(position, "only spaces and a newline after the header dictionary", found()) }
        return out
    }

    /// `{'key': value, …}` from the '{' at `position`: (key, value, offset of the value).
    private mutating func parseDictionary() throws -> [(String, PythonLiteral, Int)] {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 32 else { throw fail(position, "at most 32 nested brackets", "more") }
        position += 1
        var items: [(String, PythonLiteral, Int)] = []
        while true {
            skipSpace()
            if current == UInt8(ascii: "}") { position += 1; break }
            let keyAt = position
            guard case .string(let key) = try parseValue() else { throw fail(keyAt, "a string key", "another value") }
            try expect(":")
            skipSpace()
            let at = position
            items.append((key, try parseValue(), at))
            skipSpace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            try expect("}")
            break
        }
        return items
    }

    mutating func parseValue() throws -> PythonLiteral {
        skipSpace()
        guard let c = current else { throw fail(position, "a value", "the end of the header") }
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString(quote: c))
        case UInt8(ascii: "("): return try parseSequence(close: ")", tuple: true)
        case UInt8(ascii: "["): return try parseSequence(close: "]", tuple: false)
        case UInt8(ascii: "{"): return .dict(try parseDictionary().map { ($0.0, $0.1) })
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .int(try parseInt())
        default:
            for (word, value) in [("True", PythonLiteral.bool(true)), ("False", .bool(false)), ("None", .none)] {
                let w = Array(word.utf8)
                if position + w.count <= end, Array(bytes[position..<(position + w.count)]) == w {
                    position += w.count
                    return value
                }
            }
            throw fail(position, "a Python literal (string, integer, True, False, None, tuple, list or dict)", found())
        }
    }

    private mutating func parseString(quote: UInt8) throws -> String {
        let start = position
        position += 1
        var out: [UInt8] = []
        while let c = current, c != quote {
            if c == UInt8(ascii: "\\") {
                position += 1
                guard let e = current else { break }
                out.append(e == UInt8(ascii: "n") ? 0x0a : e)
            } else {
                guard c != 0x0a else { throw fail(position, "the closing quote of the string at byte offset \(start)", "a newline") }
                out.append(c)
            }
            position += 1
        }
        guard current == quote else { throw fail(position, "the closing quote of the string at byte offset \(start)", "the end of the header") }
        position += 1
        // Latin-1 (versions 1 and 2) and UTF-8 (version 3) agree on ASCII, all that plain dtypes use.
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func parseInt() throws -> Int {
        let start = position
        var negative = false
        if current == UInt8(ascii: "-") { negative = true; position += 1 }
        var value = 0
        var digits = 0
        while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw fail(start, "an integer below 2^63", "a longer number") }
            value = a
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw fail(position, "digits", found()) }
        if current == UInt8(ascii: "L") { position += 1 }     // Python 2 long, as old NumPy wrote shapes
        return negative ? -value : value
    }

    private mutating func parseSequence(close: Character, tuple: Bool) throws -> PythonLiteral {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 32 else { throw fail(position, "at most 32 nested brackets", "more") }
        position += 1
        var items: [PythonLiteral] = []
        var trailingComma = false
        while true {
            skipSpace()
            if current == close.asciiValue { position += 1; break }
            items.append(try parseValue())
            skipSpace()
            trailingComma = false
            if current == UInt8(ascii: ",") { position += 1; trailingComma = true; continue }
            try expect(close)
            break
        }
        // `(3)` is the integer 3 in Python, not a tuple.
        if tuple && items.count == 1 && !trailingComma { return items[0] }
        return tuple ? .tuple(items) : .list(items)
    }
}
