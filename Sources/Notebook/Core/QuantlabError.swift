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
    public static func render(_ error: any Error) -> String {
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
            return "\(file):\(line): " + render(inner)
        }
    }
}
