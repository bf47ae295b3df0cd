import Foundation

/// Writes a session file as the session goes: the header, then each command as
/// typed with its key results as `#= ` lines; failed commands become comments
/// (`# failed: LINE`, `# error: MESSAGE`).
///
/// Every command is appended with one `write` and then `fsync`ed, so a killed
/// shell leaves a file that replays up to the last finished command. A clean
/// exit appends an end marker (`# end: quit`); a file without one was cut short.
/// A command that Ctrl-C stopped part-way is followed by a `# stopped:` line
/// (see `RunStop`) that replay honours.
public final class SessionRecorder {
    /// Path of the session file (changes on `rename(to:)`).
    public private(set) var path: String
    private let fd: Int32
    /// Lines in the file so far.
    public private(set) var lineCount = 0

    /// The `write(2)` the recorder appends with; tests put a failing one here to
    /// stand for a full disk.
    var writeBytes: (Int32, UnsafeRawPointer?, Int) -> Int = { write($0, $1, $2) }

    /// The session's name: the file name without `.qlab` (stored with its runs).
    public var name: String {
        let file = (path as NSString).lastPathComponent
        return file.hasSuffix(".qlab") ? String(file.dropLast(".qlab".count)) : file
    }

    /// The line the next recorded command will be written at.
    public var nextLine: Int { lineCount + 1 }

    /// Opens (creating or appending to) the file at `path`; writes `header`
    /// when the file is new or empty.
    public init(path: String, header: SessionHeader) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw QuantlabError.runtime("cannot record to '\(path)': \(String(cString: strerror(errno)))") }
        self.fd = fd
        self.path = path
        if lseek(fd, 0, SEEK_END) == 0 {
            try append(header.lines)
        } else if let data = FileManager.default.contents(atPath: path) {
            lineCount = data.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            if data.last != 10 { try append([""]) }   // finish a cut-off last line
        }
    }

    /// Starts a new file `directory/NAME.qlab`, NAME defaulting to the local
    /// date and time (`2025-11-23-140509`). An existing file is never
    /// overwritten: `-2`, `-3`, … is added to the name instead.
    public static func start(directory: String, name: String? = nil, header: SessionHeader) throws -> SessionRecorder {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let base = fileName(name ?? SessionHeader.now(format: "%Y-%m-%d-%H%M%S"))
        let stem = String(base.dropLast(".qlab".count))
        for n in 1...1000 {
            let candidate = directory + "/" + (n == 1 ? base : "\(stem)-\(n).qlab")
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd >= 0 {
                close(fd)
                return try SessionRecorder(path: candidate, header: header)
            }
            guard errno == EEXIST else {
                throw QuantlabError.runtime("cannot create '\(candidate)': \(String(cString: strerror(errno)))")
            }
        }
        throw QuantlabError.runtime("too many sessions named '\(stem)' in \(directory)")
    }

    deinit { close(fd) }

    /// A successful command and its key results.
    public func record(line: String, results: [String]) throws {
        try append([clean(line)] + SessionRecorder.resultLines(results).map { "#= " + $0 })
    }

    /// A failed command, as comments, so replay skips it. The rendered
    /// message's leading `error: ` is not repeated.
    public func recordFailure(line: String, message: String) throws {
        let text = message.hasPrefix("error: ") ? String(message.dropFirst("error: ".count)) : message
        let errors = text.split(separator: "\n", omittingEmptySubsequences: false).map { "# error: " + $0 }
        try append(["# failed: " + clean(line)] + errors)
    }

    /// Where Ctrl-C stopped the command just recorded.
    public func recordStop(_ stop: RunStop) throws {
        try append([stop.line])
    }

    /// The end marker of a clean exit, e.g. `# end: quit`.
    public func recordEnd(_ reason: String) throws {
        try append(["# end: \(reason)"])
    }

    /// A comment written by quantlab itself (e.g. around an inlined `source`).
    public func recordNote(_ text: String) throws {
        try append(text.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 })
    }

    /// A comment typed at the prompt (blank lines and `#=` lines are skipped).
    public func recordComment(_ line: String) throws {
        let text = clean(line)
        guard text.hasPrefix("#"), !text.hasPrefix("#=") else { return }
        try append([text])
    }

    /// Renames the file to `NAME.qlab` in the same directory and goes on recording there.
    public func rename(to name: String) throws {
        guard !name.isEmpty, !name.contains("/") else {
            throw QuantlabError.runtime("session name '\(name)' must be a plain file name")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let target = (directory.isEmpty ? "" : directory + "/") + SessionRecorder.fileName(name)
        if target == path { return }
        if FileManager.default.fileExists(atPath: target) {
            throw QuantlabError.runtime("'\(target)' exists; choose another name")
        }
        guard Foundation.rename(path, target) == 0 else {
            throw QuantlabError.runtime("cannot rename '\(path)' to '\(target)': \(String(cString: strerror(errno)))")
        }
        path = target
    }

    /// Results as file lines: a result with newlines becomes several lines.
    public static func resultLines(_ results: [String]) -> [String] {
        results.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    }

    static func fileName(_ name: String) -> String {
        name.hasSuffix(".qlab") ? name : name + ".qlab"
    }

    private func clean(_ line: String) -> String {
        line.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One write for the whole group of lines, then fsync. A write that fails part-way
    /// (a full disk writes what fits) is cut back to where the group began, so the file
    /// never ends in half a command that replay would run as another one.
    private func append(_ lines: [String]) throws {
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        let start = lseek(fd, 0, SEEK_END)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { writeBytes(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                let cut = start >= 0 && ftruncate(fd, start) == 0
                throw QuantlabError.runtime("cannot write '\(path)': \(reason)"
                    + (cut ? "; it ends with the last whole command" : "; its last line may be cut short"))
            }
            written += n
        }
        lineCount += lines.count
        fsync(fd)
    }
}
