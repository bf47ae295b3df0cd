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
    /// Where commands may write files: anywhere (the shell, `run`, the kernel), or
    /// only below `workingDirectory` (`replay`, unless `--allow-writes-anywhere`).
    public var writePolicy: PathPolicy = .anywhere
    /// Where commands may read files and folders named by a path in the command:
    /// anywhere (the shell, `run`, the kernel), or only below `workingDirectory`
    /// (`replay`, unless `--allow-reads-anywhere`). Data installed with the system
    /// and read without a path (`data load fashion-mnist`) is always allowed.
    public var readPolicy: PathPolicy = .anywhere
    /// The session file being recorded (set by `Notebook`), never an output.
    public var recordingPath: () -> String? = { nil }
    /// The session file being replayed, never an output.
    public var replayingPath: String?
    /// Session name and line of the command now running, stored with its runs
    /// (`runs.session`, `runs.session_line`); nil when neither recording nor replaying.
    public var sessionName: String?
    public var sessionLine: Int?
    /// Set by a run that Ctrl-C stopped (finished epochs per configuration);
    /// the recorder writes it after the command. Cleared before each command.
    public var runStop: RunStop?
    /// Set by replay for a command recorded with a `# stopped:` line: the run
    /// stops each configuration after the recorded epochs.
    public var replayStop: RunStop?
    /// Set by replay for a search recorded with a `# time budget: ran N rungs` line:
    /// the search runs N rungs instead of measuring CPU seconds.
    public var replayRungCap: RungCap?
    /// Comments a command leaves in the session after its results (`# slurm: job 123
    /// plan …`): facts of this run that replay does not compare. Cleared before each command.
    public var notes: [String] = []
    /// Set by `replay --on slurm`: recorded `on=slurm` runs go to Slurm again instead
    /// of running locally.
    public var replayOnSlurm = false

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

    /// Checks a path a command will write and returns where to write it.
    ///
    /// Refused, with an error naming the path: the results store and its
    /// `-wal`, `-shm` and `-journal` files, the session file being recorded or
    /// replayed (compared after resolving symbolic links, and by inode for hard
    /// links), a folder, and during replay anything not below the working
    /// directory. Every command that writes a file goes through here.
    public func outputPath(_ typed: String) throws -> OutputTarget {
        guard !typed.isEmpty else { throw QuantlabError.runtime("empty output file name") }
        try checkBelowWorkingDirectory(typed, purpose: "write")
        let path = CanonicalPath.of(resolve(path: typed))
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists && isDirectory.boolValue {
            throw QuantlabError.runtime("\(typed): is a folder; give a file name")
        }
        let identity = CanonicalPath.identity(path)
        for (protected, what) in protectedFiles() {
            let canonical = CanonicalPath.of(protected)
            let sameFile = identity != nil && CanonicalPath.identity(canonical).map { $0 == identity! } == true
            if canonical == path || sameFile {
                throw QuantlabError.runtime("\(typed): refusing to write over \(what); choose another file name")
            }
        }
        return OutputTarget(typed: typed, path: path, replaces: exists)
    }

    /// Writes `text` to the checked output path `typed`; returns `wrote FILE`
    /// or `replaced FILE` for the command's output.
    @discardableResult
    public func writeFile(_ text: String, to typed: String) throws -> String {
        try outputPath(typed).write(text)
    }

    /// During replay (`writePolicy` restricted), throws unless `typed`, a path a
    /// command will write, is a relative path without `..` whose resolved location
    /// stays below the working directory. `purpose` names the access in the message.
    public func checkBelowWorkingDirectory(_ typed: String, purpose: String) throws {
        try confine(typed, writePolicy, hint: "during replay, commands \(purpose) only below the current folder (replay --allow-writes-anywhere allows more)")
    }

    /// Checks a path a command will read (a file, or a folder and what it holds)
    /// and returns it resolved against the working directory.
    ///
    /// During replay (`readPolicy` restricted) the path must stay below the
    /// working directory by the rule of ``checkBelowWorkingDirectory(_:purpose:)``,
    /// and so must every symbolic link a named folder holds (two levels down, what
    /// the loaders read), so a shipped folder cannot lead a session to a private
    /// file. Messages name the path, never what the file holds. Every command that
    /// reads a file or folder by a path it was given goes through here.
    ///
    /// `installed` names a folder the system installed (a dataset's default
    /// location): a path that leads exactly there reads what the command reads
    /// without a path, so it is not confined either.
    @discardableResult
    public func inputPath(_ typed: String, installed: String? = nil) throws -> String {
        if let installed, CanonicalPath.of(resolve(path: typed)) == CanonicalPath.of(installed) { return installed }
        let hint = "during replay, commands read files only below the current folder (replay --allow-reads-anywhere allows more)"
        try confine(typed, readPolicy, hint: hint)
        let path = resolve(path: typed)
        if case .belowWorkingDirectory = readPolicy, let link = linkLeadingOutside(in: path) {
            let shown = QuantlabError.clip((typed.hasSuffix("/") ? typed : typed + "/") + link)
            throw QuantlabError.runtime("'\(shown)' leads outside through a symbolic link; \(hint)")
        }
        return path
    }

    /// Under `policy` `.belowWorkingDirectory`, throws unless `typed` is a relative
    /// path without `..` whose resolved location stays below the working directory;
    /// `hint` ends the message.
    private func confine(_ typed: String, _ policy: PathPolicy, hint: String) throws {
        guard case .belowWorkingDirectory = policy else { return }
        let shown = QuantlabError.clip(typed)
        if typed.hasPrefix("/") || typed.hasPrefix("~") {
            throw QuantlabError.runtime("'\(shown)' is an absolute path; \(hint)")
        }
        if typed.split(separator: "/").contains("..") {
            throw QuantlabError.runtime("'\(shown)' leads outside with '..'; \(hint)")
        }
        if !CanonicalPath.isBelow(CanonicalPath.of(resolve(path: typed)), CanonicalPath.of(workingDirectory)) {
            throw QuantlabError.runtime("'\(shown)' leads outside through a symbolic link; \(hint)")
        }
    }

    /// The first symbolic link in the folder at `path` (at most `depth` levels down,
    /// named relative to it) whose target is not below the working directory; nil
    /// when there is none or `path` is not a folder.
    func linkLeadingOutside(in path: String, depth: Int = 2) -> String? {
        let folder = CanonicalPath.of(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue,
              let walk = FileManager.default.enumerator(atPath: folder) else { return nil }
        let below = CanonicalPath.of(workingDirectory)
        for case let name as String in walk {
            if walk.level >= depth { walk.skipDescendants() }
            guard walk.fileAttributes?[.type] as? FileAttributeType == .typeSymbolicLink else { continue }
            if !CanonicalPath.isBelow(CanonicalPath.of(folder + "/" + name), below) { return name }
        }
        return nil
    }

    /// Files no command may write over, with how messages name them.
    func protectedFiles() -> [(String, String)] {
        let store = resolve(path: state.storePath)
        var files = [(store, "the results store")]
        for suffix in ["-wal", "-shm", "-journal"] { files.append((store + suffix, "the results store's \(suffix) file")) }
        if let recording = recordingPath() { files.append((recording, "the session file being recorded")) }
        if let replaying = replayingPath { files.append((resolve(path: replaying), "the session file being replayed")) }
        return files
    }

    /// Names defined in this session, for TAB completion of arguments of `kind`.
    /// Domain commands fill this from their state (models, configurations, …).
    public func names(_ kind: ArgKind) -> [String] {
        state.names(kind)
    }
}

/// Where commands may write, or read by a path they were given.
public enum PathPolicy: Equatable, Sendable {
    case anywhere
    /// Replay of a session file: only below the working directory.
    case belowWorkingDirectory
}
