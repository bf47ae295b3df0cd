/// One redraw of the progress display while a long command runs.
///
/// `lines` holds one line per running configuration (e.g. `fp  epoch 2/3  val 0.871`).
/// A terminal redraws the frame in place; a log or pipe shows only frames with
/// `final == true`, so scripts stay short and stable.
public struct ProgressFrame: Equatable, Sendable {
    public var lines: [String]
    /// The last frame of a phase (an epoch ended, a run finished): always shown.
    public var final: Bool

    public init(lines: [String], final: Bool = false) {
        self.lines = lines
        self.final = final
    }
}
