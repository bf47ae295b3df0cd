/// An element of an SVG file as quantlab's plots write it: a name, attributes in
/// order, text content and children. `parse` reads the subset `SVGDocument` writes
/// (elements, double-quoted attributes, text, the five XML entities, an XML
/// declaration and comments), which is what the PNG and PDF renderers draw from, so
/// all three formats come from the one drawing.
struct SVGElement: Equatable {
    var name: String
    var attributes: [String: String] = [:]
    var text = ""
    var children: [SVGElement] = []

    struct ParseError: Error, CustomStringConvertible {
        var offset: Int
        var expected: String
        var found: String
        var description: String { "SVG at byte \(offset): expected \(expected), found \(found)" }
    }

    /// The root element of `svg`.
    static func parse(_ svg: String) throws -> SVGElement {
        var p = Parser(bytes: Array(svg.utf8))
        p.skipProlog()
        let root = try p.element()
        return root
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        var found: String {
            i < bytes.count ? "'" + String(decoding: bytes[i..<min(bytes.count, i + 12)], as: UTF8.self) + "'" : "end of input"
        }

        mutating func skipSpace() { while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 } }

        func starts(_ s: String) -> Bool {
            let u = Array(s.utf8)
            return i + u.count <= bytes.count && Array(bytes[i..<i + u.count]) == u
        }

        mutating func skip(past s: String) {
            while i < bytes.count, !starts(s) { i += 1 }
            i = min(bytes.count, i + s.utf8.count)
        }

        mutating func skipProlog() {
            while true {
                skipSpace()
                if starts("<?") { skip(past: "?>") } else if starts("<!--") { skip(past: "-->") } else { return }
            }
        }

        mutating func name() throws -> String {
            let start = i
            while i < bytes.count, !([0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "=")].contains(bytes[i])) { i += 1 }
            guard i > start else { throw ParseError(offset: i, expected: "a name", found: found) }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        mutating func expect(_ c: Character) throws {
            guard i < bytes.count, bytes[i] == c.asciiValue! else { throw ParseError(offset: i, expected: "'\(c)'", found: found) }
            i += 1
        }

        mutating func element() throws -> SVGElement {
            try expect("<")
            var e = SVGElement(name: try name())
            while true {
                skipSpace()
                if starts("/>") { i += 2; return e }
                if starts(">") { i += 1; break }
                let key = try name()
                skipSpace(); try expect("="); skipSpace()
                let quote = i < bytes.count ? bytes[i] : 0
                guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
                    throw ParseError(offset: i, expected: "a quoted value of '\(key)'", found: found)
                }
                i += 1
                let start = i
                while i < bytes.count, bytes[i] != quote { i += 1 }
                guard i < bytes.count else { throw ParseError(offset: start, expected: "a closing quote", found: "end of input") }
                e.attributes[key] = Self.unescape(String(decoding: bytes[start..<i], as: UTF8.self))
                i += 1
            }
            while true {
                let start = i
                while i < bytes.count, bytes[i] != UInt8(ascii: "<") { i += 1 }
                e.text += Self.unescape(String(decoding: bytes[start..<i], as: UTF8.self))
                guard i < bytes.count else { throw ParseError(offset: i, expected: "</\(e.name)>", found: "end of input") }
                if starts("<!--") { skip(past: "-->"); continue }
                if starts("</") {
                    i += 2
                    let closing = try name()
                    guard closing == e.name else { throw ParseError(offset: i, expected: "</\(e.name)>", found: "</\(closing)>") }
                    skipSpace(); try expect(">")
                    e.text = e.children.isEmpty ? e.text : e.text.trimmingSpaces
                    return e
                }
                e.children.append(try element())
            }
        }

        static func unescape(_ s: String) -> String {
            guard s.contains("&") else { return s }
            return s.replacingEach(["&lt;": "<", "&gt;": ">", "&quot;": "\"", "&apos;": "'", "&amp;": "&"])
        }
    }
}

private extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }

    /// Replaces entities left to right in one pass (so "&amp;lt;" becomes "&lt;").
    func replacingEach(_ table: [String: String]) -> String {
        var out = "", rest = Substring(self)
        outer: while !rest.isEmpty {
            if rest.first == "&" {
                for (k, v) in table where rest.hasPrefix(k) {
                    out += v; rest = rest.dropFirst(k.count); continue outer
                }
            }
            out.append(rest.removeFirst())
        }
        return out
    }
}
