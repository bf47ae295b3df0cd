import Notebook

/// A cell's text as command lines: one command per line, a line ending in `\`
/// continues on the next (the backslash and newline become one space).
public enum Cell {
    /// The logical lines of `code`, with the 1-based number of the physical line each starts on.
    public static func lines(_ code: String) -> [(line: String, number: Int)] {
        var result: [(String, Int)] = []
        var pending: String?
        var start = 1
        let physical = code.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, raw) in physical.enumerated() {
            var line = String(raw)
            if pending == nil { start = index + 1 }
            let continues = endsWithContinuation(line)
            if continues { line.removeLast() }
            pending = (pending.map { $0 + " " } ?? "") + line
            if !continues {
                result.append((pending!, start))
                pending = nil
            }
        }
        if let pending { result.append((pending, start)) }
        return result.filter { !$0.0.allSatisfy(\.isWhitespace) }.map { (line: $0.0, number: $0.1) }
    }

    /// What `is_complete_request` answers: `incomplete` when the cell ends in a
    /// line continuation or inside quotes, `invalid` when a line does not
    /// tokenize or does not start with a known command, else `complete`.
    public static func completeness(_ code: String, registry: CommandRegistry) -> String {
        if let last = code.split(separator: "\n", omittingEmptySubsequences: false).last,
           endsWithContinuation(String(last)) { return "incomplete" }
        for (line, _) in lines(code) {
            if hasOpenQuote(line) { return "incomplete" }
            guard let tokens = try? Tokenizer.tokenize(line) else { return "invalid" }
            if tokens.isEmpty { continue }
            var words: [String] = []
            for token in tokens.prefix(2) {
                guard case .word(quoted: false) = token.kind else { break }
                words.append(token.text)
            }
            if words.isEmpty || (try? registry.resolve(words)) == nil { return "invalid" }
        }
        return "complete"
    }

    /// A trailing backslash outside quotes and comments (an odd number of them).
    static func endsWithContinuation(_ line: String) -> Bool {
        var count = 0
        for c in line.reversed() {
            if c == "\\" { count += 1 } else { break }
        }
        guard count % 2 == 1 else { return false }
        return !hasOpenQuote(String(line.dropLast())) && !inComment(line)
    }

    /// True when a `"` opened outside a comment is not closed by the end of the line.
    static func hasOpenQuote(_ line: String) -> Bool {
        var open = false, escaped = false
        for c in line {
            if open {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { open = false }
            } else if c == "#" {
                return false
            } else if c == "\"" {
                open = true
            }
        }
        return open
    }

    private static func inComment(_ line: String) -> Bool {
        var open = false, escaped = false
        for c in line {
            if open {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { open = false }
            } else if c == "#" {
                return true
            } else if c == "\"" {
                open = true
            }
        }
        return false
    }
}
