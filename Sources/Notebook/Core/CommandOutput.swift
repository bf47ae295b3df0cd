/// What a command gives back.
///
/// `text` is shown to the user. `results` are the key results, recorded in the
/// session file as `#= ` lines and compared on `replay --verify`, so they must be
/// deterministic: no timings, no dates, no paths that change between runs.
public struct CommandOutput: Equatable, Sendable {
    public var text: String
    public var results: [String]
    /// Rich renderings for front ends that show more than text (the Jupyter
    /// kernel), one MIME bundle per display, e.g. `["image/svg+xml": svg]`.
    /// The shell ignores them and they are not recorded.
    public var displays: [[String: String]] = []

    public init(text: String = "", results: [String] = []) {
        self.text = text
        self.results = results
    }

    /// Shows `text` and records nothing.
    public init(_ text: String) {
        self.init(text: text, results: [])
    }

    /// Nothing to show, nothing to record.
    public static let empty = CommandOutput()
}
