import CEditLine
import Foundation
import Notebook
import Tensors

/// What every entry point does first.
enum Startup {
    /// UTF-8 locale (or libedit drops non-ASCII input), line-buffered stdout and
    /// one BLAS thread (trials run side by side instead, for bit-identical results).
    /// No GEMM warm-up: oneDNN's kernel generation (33–55 ms of CPU, half of a
    /// process's start-up) waits for the first trial (`BLAS.generateKernels`), and
    /// `bench` warms up both libraries itself; the session header's cpu and BLAS lines
    /// (cpuid, oneDNN's ISA) need no GEMM.
    static func prepare() {
        setUTF8Locale()
        setvbuf(ql_stdout(), nil, _IOLBF, 0)
        BLAS.setThreads(1)
    }

    /// The user's locale if it is UTF-8, else C.UTF-8 for character handling.
    static func setUTF8Locale() {
        if setlocale(LC_ALL, "") == nil || !isUTF8() {
            if setlocale(LC_ALL, "C.UTF-8") == nil { setlocale(LC_CTYPE, "C.UTF-8") }
        }
    }

    private static func isUTF8() -> Bool {
        guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
        let name = String(cString: codeset).uppercased()
        return name == "UTF-8" || name == "UTF8"
    }

    /// Ctrl-C sets the workspace's interrupt flag; progress frames go to `progress`,
    /// by default as plain lines, one per epoch (`run` and `replay`: a script's output
    /// reads as a log even on a terminal, with no redrawn frames between its commands).
    static func connect(_ workspace: Workspace, progress: ProgressPrinter? = nil) {
        InterruptHandler.install(workspace.interrupt)
        let printer = progress ?? ProgressPrinter(terminal: false)
        workspace.progress = { printer.show($0) }
    }
}
