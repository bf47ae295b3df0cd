import Foundation

/// TAB completion: candidates for the word being typed at the end of a line.
///
/// At the start of a line: command and group names. After a group: its verbs.
/// After a command: its option keys (`epochs=`, not yet given), then what the
/// next positional argument names (see `CommandSpec.completes`): file paths,
/// command names, fixed keywords, or names defined in the session
/// (`Workspace.names(_:)`). After `key=`: what the option's value names
/// (`CommandSpec.optionValues`). Candidates are whole words, sorted;
/// directories end in `/` and options in `=`.
public struct Completer {
    public var registry: CommandRegistry
    public var workspace: Workspace

    public init(registry: CommandRegistry, workspace: Workspace) {
        self.registry = registry
        self.workspace = workspace
    }

    public func completions(for line: String) -> [String] {
        if line.contains("#") { return [] }
        var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let current = (line.last.map { $0 == " " || $0 == "\t" } ?? true) ? "" : words.removeLast()
        guard let first = words.first else { return starting(current, in: registry.heads) }
        let heads = registry.heads.filter { $0 == first } + registry.heads.filter { $0.hasPrefix(first) && $0 != first }
        if words.count == 1, heads.count >= 1, heads[0] == first || heads.count == 1,
           registry.groups.contains(heads[0]) {
            return starting(current, in: registry.commands(inGroup: heads[0]).map(\.verb))
        }
        guard let (spec, consumed) = try? registry.resolve(Array(words.prefix(2))) else { return [] }
        let arguments = Array(words.dropFirst(consumed))
        let given = arguments.compactMap(optionKey)
        let positionals = arguments.filter { optionKey($0) == nil }

        if let key = optionKey(current) {
            let valuePrefix = String(current.dropFirst(key.count + 1))
            guard let kind = spec.optionValues[key] else { return [] }
            return values(kind, valuePrefix, positionals: []).map { "\(key)=\($0)" }
        }
        var found = spec.options.filter { !given.contains($0) }.map { $0 + "=" }.filter { $0.hasPrefix(current) }
        if let kind = spec.kind(ofPositional: positionals.count) {
            found += values(kind, current, positionals: positionals)
        }
        return Array(Set(found)).sorted()
    }

    /// `key` for a word `key=…` with a non-empty unquoted key.
    private func optionKey(_ word: String) -> String? {
        guard let eq = word.firstIndex(of: "="), eq != word.startIndex, !word.hasPrefix("\"") else { return nil }
        return String(word[..<eq])
    }

    private func starting(_ prefix: String, in names: [String]) -> [String] {
        Array(Set(names.filter { $0.hasPrefix(prefix) })).sorted()
    }

    private func values(_ kind: ArgKind, _ prefix: String, positionals: [String]) -> [String] {
        switch kind {
        case .path:
            return paths(prefix)
        case .command:
            if let group = positionals.last, positionals.count == 1, registry.groups.contains(group) {
                return starting(prefix, in: registry.commands(inGroup: group).map(\.verb))
            }
            return positionals.isEmpty ? starting(prefix, in: registry.heads) : []
        case .choice(let words):
            return starting(prefix, in: words)
        default:
            return starting(prefix, in: workspace.names(kind))
        }
    }

    /// Files and directories whose path starts with `prefix`; hidden ones only
    /// when the typed name starts with a dot.
    func paths(_ prefix: String) -> [String] {
        let slash = prefix.lastIndex(of: "/")
        let directoryPart = slash.map { String(prefix[...$0]) } ?? ""
        let base = slash.map { String(prefix[prefix.index(after: $0)...]) } ?? prefix
        let directory = workspace.resolve(path: directoryPart.isEmpty ? "." : directoryPart)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasPrefix(base) && (base.hasPrefix(".") || !$0.hasPrefix(".")) }
            .map { name in
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory)
                return directoryPart + name + (isDirectory.boolValue ? "/" : "")
            }
            .sorted()
    }
}
