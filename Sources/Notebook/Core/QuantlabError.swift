/// Every failure a person sees, in a form they can act on.
///
/// Commands throw these (or any other error; see `render(_:)`). A usage error
/// names the command and repeats its synopsis; an input error names the file,
/// what was expected and what was found; a script error says `FILE:LINE:`.
public enum QuantlabError: Error {
    /// Wrong arguments. `command` is nil for errors before a command is known
    /// (unknown or ambiguous command names).
    case usage(command: String?, synopsis: String?, message: String)
    /// The line could not be split into words; `column` is 1-based.
    case syntax(column: Int, message: String)
    /// A file did not hold what was expected (`offset` in bytes).
    case input(file: String, line: Int?, offset: Int?, expected: String, found: String)
    /// Anything else that went wrong while a command ran.
    case runtime(String)
    /// The user pressed Ctrl-C while a command ran.
    case interrupted
    /// An error at `file:line` of a script run by `source` or `quantlab run`.
    indirect case script(file: String, line: Int, error: any Error)

    /// The one function that turns any error into the text shown to the user.
    ///
    ///     error: trial run: option 'epochs' expects an integer, found 'three'
    ///     usage: trial run CONFIG... [epochs=N]
    ///
    /// Errors from other modules are shown by their `description`.
    /// Echoed input is clipped (see `clipQuoted(_:)`): a 1 MB argument
    /// never comes back whole.
    public static func render(_ error: any Error) -> String {
        clipQuoted(renderFull(error))
    }

    /// `text` if at most `limit` characters, else its first `limit` characters,
    /// `…` and the full size: `select aaaa… (1048576 bytes)`.
    public static func clip(_ text: String, limit: Int = 80) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "… (\(text.utf8.count) bytes)"
    }

    /// Clips what can only be echoed input, never the prose around it: a quoted part
    /// ('…' or "…") over 80 characters, a word (a run without spaces) over
    /// ``longestWord`` characters, and as a last resort a line over ``longestLine``
    /// characters. A quote opens only at the start of a word, so an apostrophe in a
    /// message (`mode's`, `don't`) is text, not a quote: it used to open one that ran to
    /// the end of the line, and a long message lost its end (issue 16's dual= error).
    static func clipQuoted(_ message: String) -> String {
        guard message.count > 80 else { return message }
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.count > 80 else { return String(line) }
            var out = "", quoted = "", open: Character? = nil
            var previous: Character = " "
            for c in line {
                if let o = open {
                    if c == o { out += clip(quoted) + String(c); open = nil; quoted = "" } else { quoted.append(c) }
                } else {
                    out.append(c)
                    if (c == "'" || c == "\"") && !(previous.isLetter || previous.isNumber) { open = c }
                }
                previous = c
            }
            if open != nil { out += clip(quoted) }
            let words = out.split(separator: " ", omittingEmptySubsequences: false)
                .map { $0.count > longestWord ? clip(String($0), limit: 80) : String($0) }
            return clip(words.joined(separator: " "), limit: longestLine)
        }
        return lines.joined(separator: "\n")
    }

    /// A run of characters without a space this long is echoed input (a message's words,
    /// paths and canonical precisions are far shorter).
    static let longestWord = 300
    /// A line this long is no longer a message a person reads.
    static let longestLine = 20_000

    static func renderFull(_ error: any Error) -> String {
        guard let error = error as? QuantlabError else {
            return "error: \(String(describing: error))"
        }
        switch error {
        case let .usage(command, synopsis, message):
            var text = "error: " + (command.map { "\($0): " } ?? "") + message
            if let synopsis { text += "\nusage: \(synopsis)" }
            return text
        case let .syntax(column, message):
            return "error: column \(column): \(message)"
        case let .input(file, line, offset, expected, found):
            var place = file
            if let line { place += ":\(line)" }
            if let offset { place += " (byte \(offset))" }
            return "error: \(place): expected \(expected), found \(found)"
        case let .runtime(message):
            return "error: \(message)"
        case .interrupted:
            return "error: interrupted"
        case let .script(file, line, inner):
            return "\(file):\(line): " + renderFull(inner)
        }
    }
}
