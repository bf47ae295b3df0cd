/// A command line after tokenizing and dispatch: what a command's `run` receives.
///
/// `words` are the positional arguments (quoted strings unquoted, `|` kept as a
/// word), `options` the `key=value` pairs, and `rest` the raw text after the
/// command words for commands with their own little language
/// (`model define net = conv 16 k3 | relu`). The typed helpers in
/// `Invocation+Arguments.swift` throw usage errors that name the command.
public struct Invocation {
    /// Canonical command name, e.g. `trial run`.
    public var command: String
    /// The command's synopsis, repeated in usage errors.
    public var synopsis: String
    public var words: [String]
    public var options: [String: String]
    /// Option keys in the order typed (for order-sensitive rules like layer patterns).
    public var optionOrder: [String]
    /// Raw text after the command words, comment removed, trimmed.
    public var rest: String
    /// The whole line as typed.
    public var line: String
    /// Line number in a script, nil at the prompt.
    public var lineNumber: Int?

    public init(command: String, synopsis: String = "", words: [String] = [],
                options: [String: String] = [:], optionOrder: [String]? = nil,
                rest: String = "", line: String = "", lineNumber: Int? = nil) {
        self.command = command
        self.synopsis = synopsis
        self.words = words
        self.options = options
        self.optionOrder = optionOrder ?? options.keys.sorted()
        self.rest = rest
        self.line = line
        self.lineNumber = lineNumber
    }

    /// Options as typed, in order.
    public var orderedOptions: [(key: String, value: String)] {
        optionOrder.map { ($0, options[$0] ?? "") }
    }

    /// A usage error for this command (message, then its synopsis).
    public func usageError(_ message: String) -> QuantlabError {
        .usage(command: command, synopsis: synopsis, message: message)
    }
}
