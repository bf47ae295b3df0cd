import CEditLine
import Foundation

/// Long output at the interactive prompt goes through a pager, as in git, IPython and
/// psql: text taller than the terminal is piped to `$PAGER` (default `less -R`, with
/// `LESS=FRX` when `LESS` is unset: quit at the end of one screen, keep colours, leave
/// the text on screen), shorter text is printed as usual.
///
/// Only the shell's own prompt pages (stdin and stdout both terminals, a command typed
/// at the prompt, not the commands of a `source`d file); `run`, `replay`, pipes, the
/// Jupyter kernel and tests print directly. `PAGER=` (empty) or `PAGER=cat` turns it off.
struct Pager {
    /// The shell command that pages, run by `/bin/sh -c`; nil: never page.
    let command: String?
    /// Terminal rows and columns (0 when unknown).
    let size: () -> (rows: Int, columns: Int)

    init(environment: [String: String] = ProcessInfo.processInfo.environment,
         size: @escaping () -> (rows: Int, columns: Int) = Pager.terminalSize) {
        command = Pager.command(environment)
        self.size = size
    }

    /// `$PAGER`, `less -R` when unset, nil when set empty or to `cat`.
    static func command(_ environment: [String: String]) -> String? {
        guard let p = environment["PAGER"] else { return "less -R" }
        let trimmed = p.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed == "cat" ? nil : trimmed
    }

    /// Screen lines `text` takes on a terminal `columns` wide (long lines wrap).
    static func screenLines(_ text: String, columns: Int) -> Int {
        text.split(separator: "\n", omittingEmptySubsequences: false).reduce(0) { n, line in
            n + (columns > 0 ? max(1, (line.count + columns - 1) / columns) : 1)
        }
    }

    /// Whether `text` is taller than the terminal, keeping a row for the next prompt.
    func needsPaging(_ text: String) -> Bool {
        let (rows, columns) = size()
        return command != nil && rows > 0 && Pager.screenLines(text, columns: columns) > rows - 1
    }

    /// Prints `text`, through the pager when it is taller than the terminal. Falls
    /// back to printing when the pager cannot be started or fails at once.
    func show(_ text: String, print: (String) -> Void) {
        guard needsPaging(text), let command else { return print(text) }
        fflush(ql_stdout())
        if !Pager.page(text + "\n", through: command) { print(text) }
    }

    /// Runs `/bin/sh -c command` with `text` on its stdin and waits for it; false when
    /// it could not start or exited with status 126/127 (command not found).
    static func page(_ text: String, through command: String) -> Bool {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return false }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var environment = ProcessInfo.processInfo.environment
        if environment["LESS"] == nil { environment["LESS"] = "FRX" }
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp)
        close(fds[0])
        guard spawned == 0 else { close(fds[1]); return false }
        // A pager quit early closes the pipe: EPIPE, not a SIGPIPE that would end the shell.
        let previous = signal(SIGPIPE, SIG_IGN)
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes = bytes.dropFirst(n)
        }
        close(fds[1])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        signal(SIGPIPE, previous)
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff
        return !(exited && (code == 126 || code == 127))
    }

    /// Rows and columns of the terminal on stdout (0, 0 when it is not one).
    static func terminalSize() -> (rows: Int, columns: Int) {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 else { return (0, 0) }
        return (Int(size.ws_row), Int(size.ws_col))
    }
}
