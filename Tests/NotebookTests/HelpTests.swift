import Testing
@testable import Notebook

/// Help screens of the built-in commands, word for word.
@Suite struct HelpTests {
    /// Only the built-ins, so the screens do not change when domain commands are added.
    func help(_ line: String) -> String {
        var out: [String] = []
        let notebook = Notebook(domainCommands: false, output: { out.append($0) })
        if case .failure(let message) = notebook.execute(line) { return message }
        return out.joined(separator: "\n")
    }

    @Test func summary() {
        #expect(help("help") == """
            quantlab: one command per line, options as key=value, # starts a comment.
            'help GROUP' or 'help COMMAND' shows more ('?CMD' and 'CMD?' too); 'help WORD' searches; 'help all' lists every command.

              general  echo help seed session source threads

            quit or exit (or Ctrl-D) leaves; the session is recorded in sessions/ and replays with 'quantlab replay FILE'.
            """)
        // IPython's habit: ?CMD and CMD? are help CMD; help quit says how to leave.
        #expect(help("?seed") == help("help seed"))
        #expect(help("seed?") == help("help seed"))
        #expect(help("?") == help("help"))
        #expect(help("help quit").hasPrefix("usage: quit"))
    }

    @Test func overview() {
        #expect(help("help all") == """
            quantlab commands; 'help COMMAND' shows one in full, 'help WORD' searches.

            general
              echo TEXT...         Print TEXT; handy in scripts.
              exit                 The same as quit.
              help [TOPIC | all]   Show the groups; a group, a command in full, or commands mentioning a word.
              quit                 Leave the shell (Ctrl-D too); in a script, end the script.
              seed [N]             Show or set the seed of every random choice.
              session [save NAME]  Show where this session is recorded, or rename the recording.
              source FILE          Run the commands in FILE, stopping at the first error.
              threads [N]          Show or set how many trials run side by side (1 or 2).
            """)
    }

    @Test func echo() {
        #expect(help("help echo") == """
            usage: echo TEXT...

            Print TEXT; handy in scripts.

            The text is also a key result, so 'replay --verify' checks it.
            """)
    }

    @Test func helpItself() {
        #expect(help("help help") == """
            usage: help [TOPIC | all]

            Show the groups; a group, a command in full, or commands mentioning a word.

            Prefixes work: 'help tr ru' shows 'trial run'. '?CMD' and 'CMD?' are 'help CMD'; 'help all' lists every command.
            """)
    }

    @Test func seed() {
        #expect(help("help seed") == """
            usage: seed [N]

            Show or set the seed of every random choice.

            Sampling, initialization and shuffling all derive from it, so a session
            replays to the same numbers. The default is 42.
            """)
    }

    @Test func session() {
        #expect(help("help session") == """
            usage: session [save NAME]

            Show where this session is recorded, or rename the recording.

            Sessions are recorded to sessions/DATE-TIME.qlab as you type;
            'session save NAME' renames the file to sessions/NAME.qlab and goes on recording there.
            """)
    }

    @Test func source() {
        #expect(help("help source") == """
            usage: source FILE

            Run the commands in FILE, stopping at the first error.

            Errors name FILE:LINE; 'quit' in FILE ends FILE. The session records FILE's commands
            one by one (between '# source FILE' and '# end of source FILE'), so the session
            file replays without FILE. During replay FILE must be below the current folder.
            """)
    }

    @Test func threads() {
        #expect(help("help threads") == """
            usage: threads [N]

            Show or set how many trials run side by side (1 or 2).

            Each trial uses one BLAS thread, so results do not depend on N.
            """)
    }

    @Test func prefixesAndSearch() {
        #expect(help("help thr") == help("help threads"))
        #expect(help("help random") == """
            commands mentioning 'random':
              seed [N]  Show or set the seed of every random choice.
            """)
        #expect(help("help se") == """
            commands mentioning 'se':
              seed [N]             Show or set the seed of every random choice.
              session [save NAME]  Show where this session is recorded, or rename the recording.
              threads [N]          Show or set how many trials run side by side (1 or 2).
              source FILE          Run the commands in FILE, stopping at the first error.
              quit                 Leave the shell (Ctrl-D too); in a script, end the script.
              exit                 The same as quit.
            """)
        #expect(help("help zzz") == "nothing matches 'zzz'; type 'help' for the list of commands")
    }

    @Test func groupsAndOptions() {
        let h = Harness()
        #expect(h.run("help calc") == """
            calc commands; 'help calc VERB' shows one in full.
              calc add A B [scale=X]  Add two numbers.
              calc average X...       Average numbers.
              calc fail               Always fails at run time.
            """)
        #expect(h.run("help ca") == h.run("help calc"))
        #expect(h.run("help calc add") == """
            usage: calc add A B [scale=X]

            Add two numbers.

            options: scale=
            """)
        #expect(h.run("help ca av") == """
            usage: calc average X...

            Average numbers.
            """)
    }

    @Test func longSynopsesWrap() {
        var registry = CommandRegistry()
        registry.register(CommandSpec(group: "trial", verb: "run",
                                      synopsis: "trial run CONFIG... [epochs=N] [batch=N] [lr=X]",
                                      abstract: "Train configurations side by side.") { _, _ in .empty })
        registry.register(CommandSpec(group: "trial", verb: "list", synopsis: "trial list",
                                      abstract: "List runs.") { _, _ in .empty })
        #expect(HelpFormatter(registry: registry).group("trial") == """
            trial commands; 'help trial VERB' shows one in full.
              trial run CONFIG... [epochs=N] [batch=N] [lr=X]
                                            Train configurations side by side.
              trial list                    List runs.
            """)
    }
}
