import Foundation
import Notebook

/// The read–run loop of the interactive shell.
///
/// Reads with libedit when stdin and stdout are both terminals, with plain
/// `readLine()` otherwise; runs each line on the notebook; prints errors to
/// stderr; never ends on a failed command. Ctrl-C abandons the line at the
/// prompt and interrupts a running command; Ctrl-D (or `quit`) leaves and
/// writes the session's end marker, as SIGTERM and SIGHUP do after stopping a
/// running command (``TerminationHandler``).
final class REPL {
    let notebook: Notebook
    let reader: LineReader
    let progress: ProgressPrinter
    static let prompt = "qlab> "

    init(sessionName: String?, record: Bool) throws {
        let interactive = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
        let progress = ProgressPrinter(terminal: isatty(STDOUT_FILENO) == 1)
        self.progress = progress
        // The live progress region is erased before a command prints its result.
        notebook = Notebook(output: { progress.clear(); Console.out($0) })
        notebook.warning = { progress.clear(); Console.err($0) }
        notebook.interruptCause = { TerminationHandler.received.map(TerminationHandler.name) ?? "Ctrl-C" }
        if interactive {
            // Output taller than the terminal goes through $PAGER, at the prompt only.
            let pager = Pager(), shown = notebook
            shown.output = { [unowned shown] text in
                progress.clear()
                if shown.sourceDepth == 0 { pager.show(text, print: Console.out) } else { Console.out(text) }
            }
        }
        let workspace = notebook.workspace
        Startup.connect(workspace, progress: progress)
        TerminationHandler.install()
        if interactive {
            let notebook = self.notebook
            reader = EditLineReader(historyPath: REPL.historyPath(), interrupt: workspace.interrupt,
                                    completer: { notebook.completions(for: $0) })
        } else {
            reader = PlainLineReader(interrupt: workspace.interrupt)
        }
        if record {
            let header = SessionHeader(seed: workspace.seed, threads: workspace.threads)
            notebook.recorder = try SessionRecorder.start(directory: workspace.resolve(path: "sessions"),
                                                          name: sessionName, header: header)
        }
    }

    func run() {
        if isatty(STDIN_FILENO) == 1 {
            Console.out("quantlab \(Notebook.version): type 'help' for commands, Ctrl-D to leave")
            if let recorder = notebook.recorder { Console.out("recording to \(relative(recorder.path))") }
        }
        while true {
            notebook.workspace.interrupted = false
            switch reader.read(prompt: REPL.prompt) {
            case .end:
                finish("end of input")
                return
            case .interrupted:
                continue
            case .line(let line):
                reader.remember(line)
                // Keys typed while a command runs are not echoed (they would break the
                // progress region); they stay queued and appear at the next prompt.
                let echo = EchoGuard()
                let outcome = TerminationHandler.whileBusy { notebook.execute(line) }
                echo.restore()
                if case .failure(let message) = outcome {
                    progress.clear()
                    // After ^C the terminal's echo leaves the cursor mid-line.
                    Console.err(notebook.workspace.interrupted ? "\n" + message : message)
                }
                progress.clear()
                if let signal = TerminationHandler.received {
                    finish(TerminationHandler.name(signal))
                    exit(128 + signal)
                }
                if notebook.quitRequested {
                    finish(line.trimmingCharacters(in: .whitespaces))
                    return
                }
            }
        }
    }

    /// Writes the session's end marker: a file without one was cut short.
    private func finish(_ reason: String) {
        try? notebook.recorder?.recordEnd(reason)
    }

    /// `~/.quantlab_history`.
    static func historyPath() -> String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + "/.quantlab_history"
    }

    private func relative(_ path: String) -> String {
        let cwd = notebook.workspace.workingDirectory + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }
}

/// Turns terminal echo off while a command runs and back on after (nothing when
/// stdin is not a terminal). Canonical mode and signals are untouched: Ctrl-C works.
struct EchoGuard {
    private var saved: termios?

    init() {
        guard isatty(STDIN_FILENO) == 1 else { return }
        var t = termios()
        guard tcgetattr(STDIN_FILENO, &t) == 0 else { return }
        saved = t
        t.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &t)
    }

    func restore() {
        guard var t = saved else { return }
        tcsetattr(STDIN_FILENO, TCSANOW, &t)
    }
}
