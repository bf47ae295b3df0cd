/// One row of the command table: the names, the help text and the code of a command.
///
/// Commands are `group verb` (`data load`, `trial run`) or a single word
/// (`seed`, `help`); for a single word `group` is nil. Help screens, completion,
/// prefix matching and usage errors all come from these fields, so a command
/// is documented in exactly one place.
///
///     CommandSpec(group: "trial", verb: "run",
///                 synopsis: "trial run CONFIG... [epochs=N] [batch=N]",
///                 abstract: "Train configurations side by side.",
///                 options: ["epochs", "batch"], completes: [.config]) { inv, ws in
///         let epochs = try inv.int("epochs", default: 3, in: 1...1000)
///         …
///     }
public struct CommandSpec {
    /// The group word (`trial`), or nil for a single-word command.
    public var group: String?
    /// The verb (`run`), or the whole name of a single-word command (`seed`).
    public var verb: String
    /// How to call it, e.g. `trial run CONFIG... [epochs=N]`. Shown in usage errors.
    public var synopsis: String
    /// One sentence for the command list.
    public var abstract: String
    /// Further paragraphs for `help COMMAND`; may be empty.
    public var discussion: String
    /// The option keys the command accepts (`epochs`), for checking and completion.
    public var options: [String]
    /// What each positional argument names, for completion. The last kind
    /// applies to every further positional argument.
    public var completes: [ArgKind]
    /// What an option's value names, for completion (e.g. `["svg": .path]`).
    public var optionValues: [String: ArgKind]
    /// When true, option keys are not checked against `options`: the command
    /// reads `Invocation.rest` or takes free keys (layer patterns like `conv*=w4a4`).
    public var freeForm: Bool
    /// The code. Throw `QuantlabError` (or any error) to fail; never crash.
    public var run: (Invocation, Workspace) throws -> CommandOutput

    public init(group: String? = nil, verb: String, synopsis: String, abstract: String,
                discussion: String = "", options: [String] = [], completes: [ArgKind] = [],
                optionValues: [String: ArgKind] = [:], freeForm: Bool = false,
                run: @escaping (Invocation, Workspace) throws -> CommandOutput) {
        self.group = group
        self.verb = verb
        self.synopsis = synopsis
        self.abstract = abstract
        self.discussion = discussion
        self.options = options
        self.completes = completes
        self.optionValues = optionValues
        self.freeForm = freeForm
        self.run = run
    }

    /// The full name as typed: `trial run` or `seed`.
    public var name: String { group.map { "\($0) \(verb)" } ?? verb }

    /// Number of words the name takes on the line (1 or 2).
    public var nameWordCount: Int { group == nil ? 1 : 2 }

    /// The kind of the positional argument at `index` (0-based), if any.
    public func kind(ofPositional index: Int) -> ArgKind? {
        guard let last = completes.last else { return nil }
        return index < completes.count ? completes[index] : last
    }
}
