import Foundation

/// The interpreter: tokenizes a line, finds the command in the table, checks
/// its options, runs it and records it. No terminal I/O: text goes to `output`.
///
///     let notebook = Notebook(output: { print($0) })
///     notebook.execute("seed 7")
///
/// A failing command never ends the session: every error is caught and
/// rendered by `QuantlabError.render`.
public final class Notebook {
    /// Version written into session headers.
    public static let version = "0.1.0"

    public private(set) var registry = CommandRegistry()
    public let workspace: Workspace
    /// Where top-level commands are recorded; nil when not recording.
    /// Commands of a `source`d file are recorded one by one too (see `source`).
    public var recorder: SessionRecorder?
    /// Receives the text of every command (one call per command, no trailing newline).
    public var output: (String) -> Void
    /// Receives warnings that are not a command's result (the session file could not be
    /// written); nil sends them to `output`. The shell sets standard error.
    public var warning: ((String) -> Void)?
    /// What stopped the last command when `Workspace.interrupted` is set, for its
    /// `# stopped:` line: `Ctrl-C` unless the shell says it was SIGTERM or SIGHUP.
    public var interruptCause: () -> String = { "Ctrl-C" }
    /// Nesting depth of `source`.
    var depth = 0
    /// 0 for a command typed at the prompt (or a script's own line), > 0 inside `source`.
    public var sourceDepth: Int { depth }
    static let maxSourceDepth = 16
    /// Set by `quit` / `exit`: the shell leaves, a script or sourced file ends.
    public internal(set) var quitRequested = false
    /// Set by `source` when it recorded its commands itself, so the `source`
    /// line is not recorded again.
    var sourceRecorded = false

    /// A notebook with the built-in commands and, unless `domainCommands` is
    /// false (tests of the shell machinery), the domain commands.
    public init(workspace: Workspace = Workspace(), domainCommands: Bool = true,
                output: @escaping (String) -> Void = { print($0) }) {
        self.workspace = workspace
        self.output = output
        registry.register(BuiltinCommands.specs(for: self))
        if domainCommands { registerDomainCommands(&registry) }
        workspace.recordingPath = { [weak self] in self?.recorder?.path }
    }

    /// Adds commands to the table (tests, plug-ins).
    public func register(_ specs: [CommandSpec]) {
        registry.register(specs)
    }

    /// Runs one line: prints its text, records it (top level only) and never throws.
    @discardableResult
    public func execute(_ line: String, lineNumber: Int? = nil) -> LineOutcome {
        if depth == 0 { workspace.interrupted = false }
        do {
            guard let result = try runRecorded(line, lineNumber: lineNumber) else { return .blank }
            return .success(result)
        } catch {
            return .failure(QuantlabError.render(error))
        }
    }

    /// Runs one line, writes its text to `output` and records it when
    /// recording: the command and its results, or its failure as comments;
    /// a run stopped by Ctrl-C gets a `# stopped:` line. Rethrows failures.
    func runRecorded(_ line: String, lineNumber: Int?, file: String? = nil) throws -> CommandOutput? {
        workspace.runStop = nil
        workspace.notes = []
        sourceRecorded = false
        if let recorder {
            workspace.sessionName = recorder.name
            workspace.sessionLine = recorder.nextLine
        }
        do {
            guard let result = try run(line, lineNumber: lineNumber) else {
                record { try $0.recordComment(line) }
                return nil
            }
            if !result.text.isEmpty { output(result.text) }
            if quitRequested {
                // Not recorded: the shell writes the end marker; in a sourced file it is noted.
                if depth > 0 { record { try $0.recordNote("quit: end of \(file ?? "the sourced file")") } }
            } else if !sourceRecorded {
                record { try $0.record(line: line, results: result.results) }
                if var stop = workspace.runStop {
                    stop.cause = interruptCause()
                    record { try $0.recordStop(stop) }
                }
                for note in workspace.notes { record { try $0.recordNote(note) } }
            }
            sourceRecorded = false
            return result
        } catch {
            if !sourceRecorded {
                let rendered = QuantlabError.render(file.map { QuantlabError.script(file: $0, line: lineNumber ?? 0, error: error) } ?? error)
                record { try $0.recordFailure(line: line, message: rendered) }
            }
            sourceRecorded = false
            throw error
        }
    }

    /// Records when a recorder is set; a failing recorder is dropped with a warning, never fatal.
    func record(_ body: (SessionRecorder) throws -> Void) {
        guard let recorder else { return }
        do {
            try body(recorder)
        } catch {
            (warning ?? output)("warning: recording stopped: " + QuantlabError.render(error))
            self.recorder = nil
        }
    }

    /// Tokenizes, dispatches and runs one line without printing or recording.
    /// Returns nil for blank and comment-only lines.
    public func run(_ line: String, lineNumber: Int? = nil) throws -> CommandOutput? {
        // IPython's habit: `?CMD` and `CMD?` (and a lone `?`) show help.
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if !trimmed.hasPrefix("#"), trimmed.hasPrefix("?") || (trimmed.hasSuffix("?") && !trimmed.contains("\"")) {
            let topic = trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "? "))
            return try run("help " + topic, lineNumber: lineNumber)
        }
        let tokens = try Tokenizer.tokenize(line)
        guard let first = tokens.first else { return nil }
        var nameWords: [String] = []
        for token in tokens.prefix(2) {
            guard case .word(quoted: false) = token.kind else { break }
            nameWords.append(token.text)
        }
        if nameWords.isEmpty {
            let typed = String(Array(line)[first.range])
            throw QuantlabError.syntax(column: first.column,
                message: "expected a command name, found '\(typed)'; type 'help' for the list of commands")
        }
        let (spec, consumed) = try registry.resolve(nameWords)
        let invocation = try bind(spec, arguments: Array(tokens.dropFirst(consumed)), line: line, lineNumber: lineNumber)
        return try spec.run(invocation, workspace)
    }

    /// Builds the invocation and checks option keys against the spec.
    private func bind(_ spec: CommandSpec, arguments: [Token], line: String, lineNumber: Int?) throws -> Invocation {
        var words: [String] = [], options: [String: String] = [:], order: [String] = []
        let usage = { (message: String) in QuantlabError.usage(command: spec.name, synopsis: spec.synopsis, message: message) }
        for token in arguments {
            switch token.kind {
            case .word, .pipe:
                words.append(token.text)
            case .option(let key):
                if options[key] != nil { throw usage("option '\(key)' given twice") }
                if !spec.freeForm && !spec.options.contains(key) {
                    if spec.options.isEmpty { throw usage("takes no options, found '\(key)=\(token.text)'") }
                    let hint = EditDistance.nearest(to: key, in: spec.options).map { "did you mean '\($0)'? " } ?? ""
                    throw usage("unknown option '\(key)'; \(hint)valid options: \(spec.options.joined(separator: ", "))")
                }
                options[key] = token.text
                order.append(key)
            }
        }
        var rest = ""
        if let firstArgument = arguments.first, let last = arguments.last {
            let chars = Array(line)
            rest = String(chars[firstArgument.range.lowerBound..<last.range.upperBound])
        }
        return Invocation(command: spec.name, synopsis: spec.synopsis, words: words, options: options,
                          optionOrder: order, rest: rest, line: line, lineNumber: lineNumber)
    }

    /// Candidates for the word being typed at the end of `line` (TAB completion).
    public func completions(for line: String) -> [String] {
        Completer(registry: registry, workspace: workspace).completions(for: line)
    }
}
