import Foundation

/// The `quantlab` binary built next to this test bundle (SwiftPM puts both in
/// the same products directory), or `$QUANTLAB_BIN`.
func quantlabBinary() -> String? {
    if let path = ProcessInfo.processInfo.environment["QUANTLAB_BIN"] { return path }
    let candidates = [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])]
        .compactMap { $0?.resolvingSymlinksInPath().deletingLastPathComponent() }
        .flatMap { [$0, $0.deletingLastPathComponent()] }
        .map { $0.appendingPathComponent("quantlab").path }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Output of a finished process.
struct Finished {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion, through `posix_spawn` and `waitpid`.
///
/// Not Foundation's `Process`: its `waitUntilExit()` never returned for
/// `tmux new-session -d` (the client exits, leaving a daemon behind). Output
/// goes through temporary files, so a daemon holding them cannot block us.
@discardableResult
func execute(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:],
             input: String? = nil) throws -> Finished {
    let base = NSTemporaryDirectory() + "quantlab-exec-\(UUID().uuidString)"
    try Data((input ?? "").utf8).write(to: URL(fileURLWithPath: base + ".in"))
    defer { for suffix in [".in", ".out", ".err"] { try? FileManager.default.removeItem(atPath: base + suffix) } }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, base + ".in", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)

    // `env [-C DIR] KEY=VALUE… PROGRAM ARGS…` sets the directory and environment.
    var argv = ["/usr/bin/env"]
    if let directory { argv += ["-C", directory] }
    argv += environment.map { "\($0.key)=\($0.value)" } + arguments
    let cArguments = argv.map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    // Default signal handling and an empty mask: test runners call this from
    // dispatch threads, whose blocked signals the child would otherwise inherit.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, cArguments, environ)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return Finished(status: exitStatus, stdout: contents(base + ".out"), stderr: contents(base + ".err"))
}

/// A fresh directory with a `home` inside, for HOME.
func scratchDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "quantlab-shell-\(name)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path + "/home", withIntermediateDirectories: true)
    return path
}

func contents(_ path: String) -> String {
    (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}
