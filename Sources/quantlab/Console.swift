import CEditLine
import Foundation

/// Where the executable writes: command text to stdout, errors to stderr.
enum Console {
    static func out(_ text: String) {
        print(text)
    }

    /// Flushes stdout first so errors appear after the output that preceded them.
    /// A NUL (quoted from a damaged file) is shown as `\0`: fputs would end the message there.
    static func err(_ text: String) {
        fflush(ql_stdout())
        fputs(text.replacingOccurrences(of: "\0", with: "\\0") + "\n", ql_stderr())
    }
}
