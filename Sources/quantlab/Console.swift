import CEditLine
import Foundation

/// Where the executable writes: command text to stdout, errors to stderr.
enum Console {
    static func out(_ text: String) {
        print(text)
    }

    /// Flushes stdout first so errors appear after the output that preceded them.
    static func err(_ text: String) {
        fflush(ql_stdout())
        fputs(text + "\n", ql_stderr())
    }
}
