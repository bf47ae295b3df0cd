import CEditLine
import Foundation
import Notebook
import Synchronization

/// Shows progress frames: in the interactive shell on a terminal, one live region
/// redrawn in place (cursor up, clear line) and erased (`clear`) before the command's
/// own output; otherwise (scripts under `run` and `replay`, logs, pipes) the lines of
/// final frames that changed since the previous one, so the output gets one line per
/// epoch and no frame noise. Thread-safe: trials call it from their own threads.
final class ProgressPrinter: Sendable {
    let terminal: Bool
    /// Where the text goes (stdout, flushed); tests capture it.
    let write: @Sendable (String) -> Void
    /// Terminal width; long lines are cut so the cursor arithmetic stays right.
    let columns: @Sendable () -> Int
    /// What is on screen, under a mutex that is held while writing (frames from
    /// several trial threads do not interleave). It was NSLock-guarded vars in an
    /// `@unchecked Sendable` class; now the compiler checks it.
    private struct Screen {
        /// Lines of the frame currently on screen (0: nothing to overwrite).
        var drawn = 0
        /// Lines of the last final frame printed as plain lines (not a terminal).
        var printed: [String] = []
    }
    private let screen = Mutex(Screen())

    init(terminal: Bool, columns: @escaping @Sendable () -> Int = ProgressPrinter.columns,
         write: @escaping @Sendable (String) -> Void = { fputs($0, ql_stdout()); fflush(ql_stdout()) }) {
        self.terminal = terminal
        self.columns = columns
        self.write = write
    }

    func show(_ frame: ProgressFrame) {
        screen.withLock { screen in
            guard terminal else {
                // Plain lines: only what changed since the last final frame.
                if frame.final {
                    let printed = screen.printed
                    let changed = frame.lines.enumerated().filter { $0.offset >= printed.count || printed[$0.offset] != $0.element }
                    write(changed.map { $0.element + "\n" }.joined())
                    screen.printed = frame.lines
                }
                return
            }
            let width = columns()
            let drawn = screen.drawn
            var out = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
            for line in frame.lines {
                out += "\r\u{1B}[2K" + String(line.prefix(max(1, width - 1))) + "\n"
            }
            if drawn > frame.lines.count {
                let extra = drawn - frame.lines.count
                out += String(repeating: "\r\u{1B}[2K\n", count: extra) + "\u{1B}[\(extra)A"
            }
            screen.drawn = frame.lines.count
            write(out)
        }
    }

    /// Erases the frame on screen (a terminal's live region), so that what is printed
    /// next (the command's table) takes its place; elsewhere forgets it.
    func clear() {
        screen.withLock { screen in
            if terminal && screen.drawn > 0 { write("\u{1B}[\(screen.drawn)A\r\u{1B}[J") }
            screen = Screen()
        }
    }

    /// Forget the frame on screen (after a command ends, its output follows it).
    func reset() {
        screen.withLock { $0 = Screen() }
    }

    static func columns() -> Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}
