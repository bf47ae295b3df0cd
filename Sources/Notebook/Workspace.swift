import Foundation

/// The state a notebook session works on; every command receives it.
///
/// Shared file: the shell machinery owns the fields below; domain state
/// (datasets, models, configurations, results store) is added here as stored
/// properties by the domain commands, and `names(_:)` reports their names for
/// completion.
public final class Workspace {
    /// Seed of every random choice (sampling, initialization, shuffling).
    public var seed: UInt64 = 42
    /// How many trials run side by side (1 or 2); each uses one BLAS thread.
    public var threads: Int = 2
    /// Directory that relative paths in commands are resolved against.
    public var workingDirectory: String
    /// Receives progress frames from long commands. The shell redraws them in
    /// place on a terminal; tests and scripts may leave the default, which drops them.
    /// May be called from trial threads: sinks must be thread-safe.
    public var progress: (ProgressFrame) -> Void = { _ in }
    /// Set by the SIGINT handler while a command runs; cleared before each command.
    public let interrupt = InterruptFlag()
    /// Datasets, models, configurations and results of this session (Commands/).
    public let state = SessionState()

    public init(workingDirectory: String = FileManager.default.currentDirectoryPath) {
        self.workingDirectory = workingDirectory
    }

    /// True once Ctrl-C was pressed during the current command.
    public var interrupted: Bool {
        get { interrupt.isSet }
        set { newValue ? interrupt.set() : interrupt.clear() }
    }

    /// Throws `QuantlabError.interrupted` after Ctrl-C; long loops call this between batches.
    public func checkInterrupted() throws {
        if interrupt.isSet { throw QuantlabError.interrupted }
    }

    /// `path` resolved against `workingDirectory` (absolute paths and `~/` kept).
    public func resolve(path: String) -> String {
        if path.hasPrefix("/") { return path }
        if path == "~" || path.hasPrefix("~/") { return NSString(string: path).expandingTildeInPath }
        return workingDirectory.hasSuffix("/") ? workingDirectory + path : workingDirectory + "/" + path
    }

    /// Names defined in this session, for TAB completion of arguments of `kind`.
    /// Domain commands fill this from their state (models, configurations, …).
    public func names(_ kind: ArgKind) -> [String] {
        state.names(kind)
    }
}
