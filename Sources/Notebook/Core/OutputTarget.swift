import Foundation

/// A file a command is about to write, checked by `Workspace.outputPath(_:)`.
///
/// Writing is atomic: the bytes go to a temporary file in the same folder,
/// are flushed to disk and renamed over the target, so a failed write never
/// leaves half a file and never truncates what was there.
public struct OutputTarget {
    /// The path as the user typed it (shown in messages).
    public let typed: String
    /// The file that will be written: absolute, symbolic links resolved. A
    /// symbolic link given as the target is written through, not replaced.
    public let path: String
    /// True when a file exists at `path` and will be replaced.
    public let replaces: Bool

    /// `wrote FILE` or `replaced FILE`, for the command's output.
    public var message: String { (replaces ? "replaced " : "wrote ") + typed }

    /// Writes `text` as UTF-8 and returns `message`.
    @discardableResult
    public func write(_ text: String) throws -> String {
        try write(bytes: Array(text.utf8))
    }

    /// Writes `bytes` and returns `message`.
    @discardableResult
    public func write(bytes: [UInt8]) throws -> String {
        try write { temporary in
            let fd = open(temporary, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard fd >= 0 else { throw OutputTarget.posixError(typed, "cannot write") }
            defer { close(fd) }
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw OutputTarget.posixError(typed, "cannot write")
                }
                written += n
            }
            guard fsync(fd) == 0 else { throw OutputTarget.posixError(typed, "cannot write") }
        }
    }

    /// Lets `body` write the file at a temporary path in the target's folder,
    /// then renames it over the target. On any error the temporary file is
    /// removed and the target is left as it was.
    @discardableResult
    public func write(using body: (String) throws -> Void) throws -> String {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            // Name the part of the path that is a file, the usual reason.
            var blocker = folder
            var isDirectory: ObjCBool = false
            while !blocker.isEmpty && blocker != "/" {
                if FileManager.default.fileExists(atPath: blocker, isDirectory: &isDirectory) { break }
                blocker = (blocker as NSString).deletingLastPathComponent
            }
            let reason = isDirectory.boolValue ? "" : " ('\(blocker)' is a file)"
            throw QuantlabError.runtime("\(typed): cannot create the folder '\(folder)'\(reason)")
        }
        var template = Array((folder + "/." + (path as NSString).lastPathComponent + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw OutputTarget.posixError(typed, "cannot write in '\(folder)'") }
        let temporary = String(cString: template)
        // mkstemp makes the file private (0600): give it the mode the replaced
        // file had, or the usual 0666 less the umask.
        var mode: mode_t = 0o666 & ~OutputTarget.umaskValue
        var existing = stat()
        if replaces, stat(path, &existing) == 0 { mode = existing.st_mode & 0o7777 }
        fchmod(fd, mode)
        close(fd)
        do {
            try body(temporary)
            guard rename(temporary, path) == 0 else { throw OutputTarget.posixError(typed, "cannot write") }
        } catch {
            unlink(temporary)
            throw error
        }
        return message
    }

    static let umaskValue: mode_t = {
        let m = umask(0o022)
        umask(m)
        return m
    }()

    static func posixError(_ typed: String, _ what: String) -> QuantlabError {
        .runtime("\(typed): \(what) (\(String(cString: strerror(errno))))")
    }
}

/// Path arithmetic for output checks.
enum CanonicalPath {
    /// `path` made absolute with every symbolic link resolved, including in the
    /// last component; the part that does not exist yet is normalised lexically
    /// (`.` and `..`), which is right because it cannot hold links.
    static func of(_ path: String) -> String {
        var existing = path
        var missing: [String] = []
        while !existing.isEmpty && existing != "/" {
            var info = stat()
            if lstat(existing, &info) == 0 { break }
            missing.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        if existing.isEmpty { existing = "." }
        var base = existing
        if let resolved = realpath(existing, nil) {
            base = String(cString: resolved)
            free(resolved)
        }
        var parts = base.split(separator: "/").map(String.init)
        for part in missing {
            switch part {
            case "", ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Whether `path` is `folder` or below it (both canonical).
    static func isBelow(_ path: String, _ folder: String) -> Bool {
        folder == "/" || path == folder || path.hasPrefix(folder + "/")
    }

    /// Device and inode of an existing file (links followed), for hard links.
    static func identity(_ path: String) -> (dev_t, ino_t)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (info.st_dev, info.st_ino)
    }
}
