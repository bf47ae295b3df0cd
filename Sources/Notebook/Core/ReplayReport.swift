/// The outcome of a replay.
public struct ReplayReport: Equatable {
    public init(file: String, verified: Bool) {
        self.file = file
        self.verified = verified
    }

    public var file: String
    /// Whether results were compared (`--verify`).
    public var verified: Bool
    /// Commands run.
    public var commands = 0
    /// `#=` lines compared and found equal.
    public var resultsChecked = 0
    /// The first failed command or difference, as `FILE:LINE: …`; nil when all went well.
    public var failure: String?
    /// Set when numbers were compared within a tolerance, and why.
    public var note: String?
    /// How results were compared (`exact comparison`, or the tolerance and why).
    public var comparison: String?

    public var passed: Bool { failure == nil }

    /// One line for the end of a replay.
    public var summary: String {
        if let failure { return failure }
        let count = commands == 1 ? "1 command" : "\(commands) commands"
        return "\(file): \(count) replayed"
            + (verified ? ", \(resultsChecked) results verified" + (comparison.map { " (\($0))" } ?? "") : "")
    }
}
