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
        // A Ctrl-C during the last command leaves errno at EINTR, and readLine
        // retries getline while errno is EINTR: at end of input (sticky EOF, so
        // no system call resets errno) it spun forever instead of returning nil.
        errno = 0
        if let line = readLine(strippingNewline: true) { return .line(line) }
        if interrupt.isSet {
            clearerr(ql_stdin())
            if showPrompt { fputs("\n", ql_stdout()) }
            return .interrupted
        }
        return .end
    }

    func remember(_ line: String) {}
}
