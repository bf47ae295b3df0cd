/// One word of a command line.
public struct Token: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// A bare or quoted word; `quoted` is true if any part was in quotes.
        case word(quoted: Bool)
        /// `key=value`; `text` holds the value.
        case option(key: String)
        /// A lone `|`.
        case pipe
    }
    public var kind: Kind
    /// The word with quotes and escapes removed (the value for options).
    public var text: String
    /// Character offsets of the token in the line, for columns and `rest`.
    public var range: Range<Int>

    /// 1-based column of the first character.
    public var column: Int { range.lowerBound + 1 }
}

/// Splits a command line into tokens.
///
/// Rules: whitespace separates words; `#` outside quotes starts a comment;
/// `"…"` quotes, with `\"` and `\\` as the only escapes; a word whose unquoted
/// part before the first `=` is non-empty is an option `key=value` (the value
/// may be quoted); `|` is always a token of its own. Errors name the column.
/// A NUL byte anywhere is an error: printed through C strings, a message
/// quoting it was cut there, newline and all.
public enum Tokenizer {
    public static func tokenize(_ line: String) throws -> [Token] {
        let chars = Array(line)
        if let nul = chars.firstIndex(of: "\0") {
            throw QuantlabError.syntax(column: nul + 1, message: "expected text, found a NUL byte (0x00)")
        }
        var tokens: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "#" { break }
            if c.isWhitespace { i += 1; continue }
            if c == "|" {
                tokens.append(Token(kind: .pipe, text: "|", range: i..<(i + 1)))
                i += 1
                continue
            }
            let start = i
            var text = ""
            var quoted = false
            var key: String?          // set at the first unquoted '=' after a non-empty bare prefix
            var keyStart = 0
            while i < chars.count {
                let c = chars[i]
                if c.isWhitespace || c == "|" || c == "#" { break }
                if c == "\"" {
                    let open = i
                    i += 1
                    var closed = false
                    while i < chars.count {
                        let q = chars[i]
                        if q == "\"" { closed = true; i += 1; break }
                        if q == "\\" {
                            guard i + 1 < chars.count else { break }
                            let e = chars[i + 1]
                            guard e == "\"" || e == "\\" else {
                                throw QuantlabError.syntax(column: i + 1,
                                    message: "unknown escape '\\\(e)' in a string; only \\\" and \\\\ are escapes")
                            }
                            text.append(e)
                            i += 2
                            continue
                        }
                        text.append(q)
                        i += 1
                    }
                    if !closed {
                        throw QuantlabError.syntax(column: open + 1, message: "unterminated string; add a closing \"")
                    }
                    quoted = true
                    continue
                }
                if c == "=", key == nil, !quoted, !text.isEmpty {
                    key = text
                    keyStart = i + 1
                    text = ""
                    i += 1
                    continue
                }
                text.append(c)
                i += 1
            }
            if let key {
                if text.isEmpty && !(keyStart < i && chars[keyStart] == "\"") {
                    throw QuantlabError.syntax(column: start + 1,
                        message: "option '\(key)' has no value; write \(key)=VALUE")
                }
                tokens.append(Token(kind: .option(key: key), text: text, range: start..<i))
            } else {
                tokens.append(Token(kind: .word(quoted: quoted), text: text, range: start..<i))
            }
        }
        return tokens
    }
}
