import Foundation

/// Drives a program in a real terminal: a detached tmux session on a private
/// socket, fed with `send-keys` and read with `capture-pane`.
final class Tmux {
    /// Whether tmux is installed.
    static let available: Bool = (try? execute(["tmux", "-V"]).status == 0) ?? false

    let socket = "quantlab-test-\(UUID().uuidString.prefix(8))"

    /// Starts `command` (a shell command line) in `directory` on a 120×40 terminal.
    init(_ command: String, in directory: String) throws {
        try tmux(["new-session", "-d", "-x", "120", "-y", "40", "-s", "t", "-c", directory, command])
    }

    deinit {
        _ = try? tmux(["kill-server"])
    }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> Finished {
        try execute(["tmux", "-L", socket, "-f", "/dev/null"] + arguments)
    }

    /// Types text literally.
    func type(_ text: String) throws { try tmux(["send-keys", "-t", "t", "-l", text]) }

    /// Presses keys by tmux name: `Left`, `BSpace`, `Tab`, `C-c`, `Enter`, …
    func press(_ keys: String...) throws { try tmux(["send-keys", "-t", "t"] + keys) }

    /// The visible screen, trailing blank lines removed.
    func screen() throws -> String {
        var lines = try tmux(["capture-pane", "-p", "-t", "t"]).stdout.split(separator: "\n", omittingEmptySubsequences: false)
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The screen for failure messages (empty if tmux cannot be reached).
    var shown: String { (try? screen()) ?? "" }

    /// The last non-blank screen line (the prompt being edited).
    func currentLine() throws -> String {
        String(try screen().split(separator: "\n").last ?? "")
    }

    /// Polls the screen until `condition` holds; false after `timeout` seconds.
    @discardableResult
    func wait(timeout: Double = 30, until condition: (String) -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(try screen()) { return true }
            usleep(30_000)
        }
        return false
    }

    /// Process id of the program in the pane (started with `exec`).
    func panePID() throws -> Int32 {
        Int32(try tmux(["display-message", "-p", "-t", "t", "#{pane_pid}"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Whether the session still exists (the program has not exited).
    func isRunning() throws -> Bool {
        try tmux(["has-session", "-t", "t"]).status == 0
    }
}
