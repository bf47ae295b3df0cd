/// The commands every notebook has: `help`, `seed`, `threads`, `source`, `echo`,
/// `session`, `quit` and `exit`.
///
/// They capture the notebook weakly because they need the command table
/// (`help`), the interpreter (`source`) and the recorder (`session`).
enum BuiltinCommands {
    static func specs(for notebook: Notebook) -> [CommandSpec] {
        weak let nb = notebook
        return [
            CommandSpec(
                verb: "help", synopsis: "help [TOPIC | all]",
                abstract: "Show the groups; a group, a command in full, or commands mentioning a word.",
                discussion: "Prefixes work: 'help tr ru' shows 'trial run'. '?CMD' and 'CMD?' are 'help CMD'; 'help all' lists every command.",
                completes: [.command]
            ) { inv, _ in
                guard let nb else { return .empty }
                return CommandOutput(help(inv.words, registry: nb.registry))
            },
            CommandSpec(
                verb: "seed", synopsis: "seed [N]",
                abstract: "Show or set the seed of every random choice.",
                discussion: "Sampling, initialization and shuffling all derive from it, so a session\nreplays to the same numbers. The default is 42."
            ) { inv, ws in
                try inv.expectWords(0...1)
                if !inv.words.isEmpty {
                    let text = inv.words[0]
                    guard let value = UInt64(text) else { throw inv.usageError("N expects a non-negative integer, found '\(text)'") }
                    ws.seed = value
                }
                return CommandOutput("seed \(ws.seed)")
            },
            CommandSpec(
                verb: "threads", synopsis: "threads [N]",
                abstract: "Show or set how many trials run side by side (1 or 2).",
                discussion: "Each trial uses one BLAS thread, so results do not depend on N."
            ) { inv, ws in
                try inv.expectWords(0...1)
                if !inv.words.isEmpty { ws.threads = try inv.intWord(0, "N", in: 1...2) }
                return CommandOutput("threads \(ws.threads)")
            },
            CommandSpec(
                verb: "source", synopsis: "source FILE",
                abstract: "Run the commands in FILE, stopping at the first error.",
                discussion: """
                Errors name FILE:LINE; 'quit' in FILE ends FILE. The session records FILE's commands
                one by one (between '# source FILE' and '# end of source FILE'), so the session
                file replays without FILE. During replay FILE must be below the current folder.
                """,
                completes: [.path]
            ) { inv, _ in
                try inv.expectWords(1...1)
                guard let nb else { return .empty }
                return CommandOutput(text: "", results: try nb.source(inv.words[0]))
            },
            CommandSpec(
                verb: "echo", synopsis: "echo TEXT...",
                abstract: "Print TEXT; handy in scripts.",
                discussion: "The text is also a key result, so 'replay --verify' checks it.",
                freeForm: true
            ) { inv, _ in
                let text = try Tokenizer.tokenize(inv.rest).map { token -> String in
                    if case .option(let key) = token.kind { return "\(key)=\(token.text)" }
                    return token.text
                }.joined(separator: " ")
                return CommandOutput(text: text, results: text.isEmpty ? [] : [text])
            },
            CommandSpec(
                verb: "session", synopsis: "session [save NAME]",
                abstract: "Show where this session is recorded, or rename the recording.",
                discussion: "Sessions are recorded to sessions/DATE-TIME.qlab as you type;\n'session save NAME' renames the file to sessions/NAME.qlab and goes on recording there."
            ) { inv, _ in
                guard let nb else { return .empty }
                return CommandOutput(try session(inv, recorder: nb.recorder))
            },
        ] + ["quit", "exit"].map { verb in
            CommandSpec(
                verb: verb, synopsis: verb,
                abstract: verb == "quit" ? "Leave the shell (Ctrl-D too); in a script, end the script." : "The same as quit.",
                discussion: """
                In the shell the session file gets its end marker ('# end: quit'). In a script run by
                'quantlab run' or 'replay' the rest of the script is skipped; in a file run by 'source',
                the rest of that file is skipped and the caller goes on.
                """
            ) { inv, _ in
                try inv.expectWords(0...0)
                nb?.quitRequested = true
                return .empty
            }
        }
    }

    static func help(_ words: [String], registry: CommandRegistry) -> String {
        let formatter = HelpFormatter(registry: registry)
        guard let first = words.first else { return formatter.summary() }
        if words == ["all"] { return formatter.overview() }
        if words.count == 1 {
            if registry.groups.contains(first) { return formatter.group(first) }
            let heads = registry.heads.filter { $0.hasPrefix(first) }
            if heads.count == 1, registry.groups.contains(heads[0]) { return formatter.group(heads[0]) }
        }
        if let (spec, consumed) = try? registry.resolve(words), consumed == words.count {
            return formatter.command(spec)
        }
        return formatter.search(words.joined(separator: " "))
    }

    static func session(_ inv: Invocation, recorder: SessionRecorder?) throws -> String {
        if inv.words.isEmpty {
            return recorder.map { "recording to \($0.path)" } ?? "not recording"
        }
        guard inv.words[0] == "save" else { throw inv.usageError("unknown subcommand '\(inv.words[0])'; expected 'save NAME'") }
        try inv.expectWords(2...2)
        guard let recorder else { return "not recording; nothing to save" }
        try recorder.rename(to: inv.words[1])
        return "recording to \(recorder.path)"
    }
}
