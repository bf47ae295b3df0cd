/// What happened to one line given to `Notebook.execute(_:lineNumber:)`.
public enum LineOutcome {
    /// Blank or comment-only line: nothing ran.
    case blank
    /// The command ran; its text was already written to `Notebook.output`.
    case success(CommandOutput)
    /// The command failed; the rendered message (see `QuantlabError.render`).
    case failure(String)

    public var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
