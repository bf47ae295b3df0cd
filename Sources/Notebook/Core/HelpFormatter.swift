/// Help screens, all generated from the command table.
///
/// `overview` lists one line per command grouped by group; `command` shows one
/// command in full; `group` lists one group; `search` lists the commands whose
/// text mentions a word. Tests compare these screens word for word.
public struct HelpFormatter {
    public var registry: CommandRegistry
    /// Synopses longer than this put the abstract on the next line.
    static let synopsisColumn = 28

    public init(registry: CommandRegistry) {
        self.registry = registry
    }

    /// The short screen `help` shows: one line per group with its verbs, how to learn
    /// more, and how to leave (sqlite's `.help` habit, short enough for one screen).
    public func summary() -> String {
        var lines = ["quantlab: one command per line, options as key=value, # starts a comment.",
                     "'help GROUP' or 'help COMMAND' shows more ('?CMD' and 'CMD?' too); 'help WORD' searches; 'help all' lists every command.",
                     ""]
        var rows: [(String, String)] = []
        for group in registry.groups {
            rows.append((group, registry.commands(inGroup: group).map(\.verb).joined(separator: " ")))
        }
        let singles = registry.commands.filter { $0.group == nil && $0.verb != "quit" && $0.verb != "exit" }.map(\.verb).sorted()
        rows.append(("general", singles.joined(separator: " ")))
        let width = rows.map(\.0.count).max() ?? 0
        for (g, verbs) in rows {
            lines.append("  " + g + String(repeating: " ", count: width - g.count + 2) + verbs)
        }
        lines += ["", "quit or exit (or Ctrl-D) leaves; the session is recorded in sessions/ and replays with 'quantlab replay FILE'."]
        return lines.joined(separator: "\n")
    }

    /// The command list: single-word commands under `general`, then each group.
    public func overview() -> String {
        var lines = ["quantlab commands; 'help COMMAND' shows one in full, 'help WORD' searches."]
        let singles = registry.commands.filter { $0.group == nil }.sorted { $0.verb < $1.verb }
        if !singles.isEmpty {
            lines += ["", "general"] + rows(singles)
        }
        for group in registry.groups {
            lines += ["", group] + rows(registry.commands(inGroup: group))
        }
        return lines.joined(separator: "\n")
    }

    /// The commands of one group.
    public func group(_ name: String) -> String {
        (["\(name) commands; 'help \(name) VERB' shows one in full."] + rows(registry.commands(inGroup: name)))
            .joined(separator: "\n")
    }

    /// Everything about one command: synopsis, abstract, discussion, options.
    public func command(_ spec: CommandSpec) -> String {
        var parts = ["usage: \(spec.synopsis)", spec.abstract]
        if !spec.discussion.isEmpty { parts.append(spec.discussion) }
        if !spec.options.isEmpty {
            parts.append("options: " + spec.options.map { "\($0)=" }.joined(separator: " "))
        }
        return parts.joined(separator: "\n\n")
    }

    /// Commands whose name, synopsis, abstract, discussion or options mention
    /// `word`; those whose name starts with it come first.
    public func search(_ word: String) -> String {
        let needle = word.lowercased()
        let named = registry.commands.filter { $0.name.hasPrefix(needle) || $0.verb.hasPrefix(needle) }
        let found = named + registry.commands.filter { spec in
            !named.contains { $0.name == spec.name }
                && ([spec.name, spec.synopsis, spec.abstract, spec.discussion] + spec.options)
                    .contains { $0.lowercased().contains(needle) }
        }
        if found.isEmpty { return "nothing matches '\(word)'; type 'help' for the list of commands" }
        return (["commands mentioning '\(word)':"] + rows(found)).joined(separator: "\n")
    }

    /// `  synopsis   abstract` lines, the abstracts aligned.
    func rows(_ specs: [CommandSpec]) -> [String] {
        let width = min(HelpFormatter.synopsisColumn, specs.map(\.synopsis.count).max() ?? 0)
        return specs.flatMap { spec -> [String] in
            let synopsis = spec.synopsis
            if synopsis.count > width {
                return ["  \(synopsis)", "  " + String(repeating: " ", count: width + 2) + spec.abstract]
            }
            return ["  " + synopsis + String(repeating: " ", count: width - synopsis.count + 2) + spec.abstract]
        }
    }
}
