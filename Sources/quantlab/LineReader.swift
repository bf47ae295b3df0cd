import CEditLine
import Foundation
import Notebook

/// What reading a line at the prompt gave.
enum ReadResult: Equatable {
    case line(String)
    /// Ctrl-C at the prompt: the line was abandoned.
    case interrupted
    /// Ctrl-D or end of input: leave the shell.
    case end
}

/// A source of typed lines: libedit on a terminal, plain `readLine()` otherwise.
protocol LineReader: AnyObject {
    func read(prompt: String) -> ReadResult
    /// Adds a line to the history.
    func remember(_ line: String)
}

/// `readLine()` for pipes and files: no editing, a prompt only when stdin is a terminal.
final class PlainLineReader: LineReader {
    private let interrupt: InterruptFlag
    private let showPrompt = isatty(STDIN_FILENO) == 1

    init(interrupt: InterruptFlag) {
        self.interrupt = interrupt
    }

    func read(prompt: String) -> ReadResult {
        if showPrompt {
            fputs(prompt, ql_stdout())
            fflush(ql_stdout())
        }
        while true {
            switch Self.readStdinLine() {
            case .line(let line):
                return .line(line)
            case .stopped(let code):
                if interrupt.isSet {
                    if showPrompt { fputs("\n", ql_stdout()) }
                    return .interrupted
                }
                // Another signal's handler ran (none of ours): read on.
                if code == EINTR { continue }
                return .end
            }
        }
    }

    private enum Read {
        case line(String)
        /// getline(3) gave no line: errno (EINTR when a signal interrupted the read).
        case stopped(errno: Int32)
    }

    /// One line of standard input through getline(3), its newline (`\n` or `\r\n`) removed
    /// and invalid UTF-8 repaired, as `readLine` does. Not `readLine`: it retries getline
    /// while errno is EINTR, and after Ctrl-C at a prompt fed by a pipe it spun at full CPU
    /// without reading the lines that followed (found by the twelfth-pass audit). The
    /// stream's error and end flags are cleared after a failed read, so the next one reads.
    private static func readStdinLine() -> Read {
        var buffer: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(buffer) }
        errno = 0
        let count = getline(&buffer, &capacity, ql_stdin())
        guard count >= 0, let buffer else {
            let code = errno
            clearerr(ql_stdin())
            return .stopped(errno: code)
        }
        var bytes = UnsafeRawBufferPointer(start: buffer, count: count).bindMemory(to: UInt8.self)
        if bytes.last == UInt8(ascii: "\n") {
            bytes = UnsafeBufferPointer(rebasing: bytes.dropLast())
            if bytes.last == UInt8(ascii: "\r") { bytes = UnsafeBufferPointer(rebasing: bytes.dropLast()) }
        }
        return .line(String(decoding: bytes, as: UTF8.self))
    }

    func remember(_ line: String) {}
}
