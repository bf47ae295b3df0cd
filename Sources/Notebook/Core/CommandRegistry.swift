/// The command table: every command the notebook knows, in registration order.
///
/// Built-ins are registered by `Notebook.init`, then `registerDomainCommands(&registry)`
/// appends the domain commands. Lookup accepts exact names and unique prefixes
/// of the group and of the verb (`tr ru` → `trial run`).
public struct CommandRegistry {
    public private(set) var commands: [CommandSpec] = []

    public init() {}

    /// Adds commands. A name registered twice, or a group word that is also a
    /// single-word command, is a programmer error.
    public mutating func register(_ specs: [CommandSpec]) {
        for spec in specs { register(spec) }
    }

    public mutating func register(_ spec: CommandSpec) {
        precondition(!commands.contains { $0.name == spec.name }, "command '\(spec.name)' registered twice")
        let head = spec.group ?? spec.verb
        precondition(!commands.contains { ($0.group == nil) != (spec.group == nil) && ($0.group ?? $0.verb) == head },
                     "'\(head)' is both a group and a single-word command")
        commands.append(spec)
    }

    /// Group words in registration order.
    public var groups: [String] {
        var seen: [String] = []
        for case let group? in commands.map(\.group) where !seen.contains(group) { seen.append(group) }
        return seen
    }

    /// First words a line may start with: groups and single-word commands.
    public var heads: [String] {
        var seen: [String] = []
        for spec in commands where !seen.contains(spec.group ?? spec.verb) { seen.append(spec.group ?? spec.verb) }
        return seen
    }

    /// Commands of one group, in registration order.
    public func commands(inGroup group: String) -> [CommandSpec] {
        commands.filter { $0.group == group }
    }

    /// The command with this exact full name (`trial run`, `seed`).
    public func spec(named name: String) -> CommandSpec? {
        commands.first { $0.name == name }
    }

    /// Finds the command named by the first words of a line.
    ///
    /// Returns the spec and how many words its name took. Throws a usage error
    /// for an unknown, ambiguous or incomplete name, with a suggestion.
    public func resolve(_ words: [String]) throws -> (spec: CommandSpec, consumed: Int) {
        guard let first = words.first else { throw QuantlabError.usage(command: nil, synopsis: nil, message: "empty command") }
        let head = try match(first, among: heads, what: "command", otherwise: "type 'help' for the list of commands") {
            let verbs = commands.filter { $0.verb == first && $0.group != nil }.map(\.name)
            if !verbs.isEmpty { return verbs }
            return EditDistance.nearest(to: first, in: heads).map { [$0] } ?? []
        }
        if let single = commands.first(where: { $0.group == nil && $0.verb == head }) {
            return (single, 1)
        }
        let members = commands(inGroup: head)
        let verbs = members.map(\.verb)
        guard words.count > 1 else {
            throw QuantlabError.usage(command: nil, synopsis: nil,
                message: "'\(head)' needs a verb: \(verbs.joined(separator: ", ")); see 'help \(head)'")
        }
        let verb = try match(words[1], among: verbs, what: "\(head) command", prefix: "\(head) ",
                             otherwise: "\(head) commands: \(verbs.joined(separator: ", "))") {
            EditDistance.nearest(to: words[1], in: verbs).map { ["\(head) \($0)"] } ?? []
        }
        return (members.first { $0.verb == verb }!, 2)
    }

    /// Exact match, else unique prefix, else an error with suggestions.
    private func match(_ word: String, among names: [String], what: String, prefix: String = "",
                       otherwise hint: String, suggest: () -> [String]) throws -> String {
        if names.contains(word) { return word }
        let candidates = names.filter { $0.hasPrefix(word) }
        if candidates.count == 1 { return candidates[0] }
        let shown = "'\(prefix)\(word)'"
        if candidates.count > 1 {
            let list = candidates.map { "'\(prefix)\($0)'" }.joined(separator: ", ")
            throw QuantlabError.usage(command: nil, synopsis: nil, message: "ambiguous \(what) \(shown): could be \(list)")
        }
        let suggestions = suggest()
        if suggestions.isEmpty {
            throw QuantlabError.usage(command: nil, synopsis: nil,
                message: "unknown \(what) \(shown); \(hint)")
        }
        let list = suggestions.map { "'\($0)'" }.joined(separator: " or ")
        throw QuantlabError.usage(command: nil, synopsis: nil, message: "unknown \(what) \(shown); did you mean \(list)?")
    }
}
