@preconcurrency import CEditLine
import Foundation
import Notebook
import Synchronization

/// The completer and interrupt flag the C callbacks below reach (they cannot capture).
nonisolated(unsafe) private var activeCompleter: ((String) -> [String])?
nonisolated(unsafe) private var activeInterrupt: UnsafeMutablePointer<Atomic<Bool>>?

/// Line editing, history and TAB completion through libedit's readline interface.
///
/// Ctrl-C: libedit retries a `read` interrupted by a signal once, so one Ctrl-C
/// would be swallowed. We give libedit our own `rl_getc_function`, which
/// returns end-of-input when `read` fails with `EINTR` after our SIGINT handler
/// set the flag; `readline` then returns NULL and `read(prompt:)` reports
/// `.interrupted` rather than `.end` (see `readByte`). The function decodes UTF-8 itself, because
/// libedit takes each returned value as one character.
final class EditLineReader: LineReader {
    private let historyPath: String
    private let interrupt: InterruptFlag
    private var last: String?
    static let historySize: Int32 = 1000

    init(historyPath: String, interrupt: InterruptFlag, completer: @escaping (String) -> [String]) {
        self.historyPath = historyPath
        self.interrupt = interrupt
        activeCompleter = completer
        activeInterrupt = interrupt.address
        rl_readline_name = UnsafePointer(strdup("quantlab"))
        rl_catch_signals = 0
        rl_getc_function = editLineGetc
        ql_set_word_break_characters(UnsafePointer(strdup(" \t\n")))
        rl_attempted_completion_function = editLineComplete
        rl_initialize()
        stifle_history(EditLineReader.historySize)
        read_history(historyPath)
    }

    func read(prompt: String) -> ReadResult {
        guard let raw = readline(prompt) else {
            if interrupt.isSet {
                fputs("\n", ql_stdout())
                return .interrupted
            }
            fputs("\n", ql_stdout())
            return .end
        }
        defer { free(raw) }
        return .line(String(cString: raw))
    }

    /// Adds non-blank lines (not repeating the previous one) and saves the file
    /// at once, so a killed shell keeps its history.
    func remember(_ line: String) {
        guard !line.allSatisfy(\.isWhitespace), line != last else { return }
        last = line
        add_history(line)
        write_history(historyPath)
    }
}

/// One byte from stdin: -1 at end of input or on error, -2 after Ctrl-C.
///
/// Ctrl-C may arrive while we are not blocked in `read` (keys typed quickly),
/// so the flag is checked with SIGINT blocked, and `pselect` waits with it
/// unblocked: a Ctrl-C either is seen by the check or interrupts the wait.
private func readByte() -> Int32 {
    var byte: UInt8 = 0
    var sigint = sigset_t(), previous = sigset_t()
    sigemptyset(&sigint)
    sigaddset(&sigint, SIGINT)
    while true {
        pthread_sigmask(SIG_BLOCK, &sigint, &previous)
        if let flag = activeInterrupt, flag.pointee.load(ordering: .acquiring) {
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            return -2
        }
        var waitMask = previous
        sigdelset(&waitMask, SIGINT)
        let ready = ql_wait_readable(STDIN_FILENO, &waitMask)
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        if ready < 0 {
            if errno == EINTR { continue }
            return -1
        }
        let n = read(STDIN_FILENO, &byte, 1)
        if n == 1 { return Int32(byte) }
        if n == 0 { return -1 }
        if errno != EINTR { return -1 }
    }
}

/// `rl_getc_function`: one Unicode scalar, or -1 (end of input; also after Ctrl-C).
private let editLineGetc: @convention(c) (UnsafeMutablePointer<FILE>?) -> Int32 = { _ in
    let lead = readByte()
    if lead < 0 { return -1 }
    if lead < 0x80 { return lead }
    let (count, bits): (Int, Int32) = lead >= 0xF0 ? (3, lead & 0x07) : lead >= 0xE0 ? (2, lead & 0x0F)
        : lead >= 0xC0 ? (1, lead & 0x1F) : (0, -1)
    if bits < 0 { return 0xFFFD }
    var scalar = bits
    for _ in 0..<count {
        let next = readByte()
        if next < 0 { return -1 }
        if next & 0xC0 != 0x80 { return 0xFFFD }
        scalar = scalar << 6 | (next & 0x3F)
    }
    return scalar
}

/// `rl_attempted_completion_function`: asks the notebook and hands libedit a
/// NULL-terminated, malloc'ed array of strdup'ed strings (libedit frees them):
/// the common prefix first, then the candidates.
private let editLineComplete: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, start, _ in
    rl_attempted_completion_over = 1
    guard let completer = activeCompleter else { return nil }
    let word = text.map { String(cString: $0) } ?? ""
    let buffer = rl_line_buffer.map { String(cString: $0) } ?? ""
    let line = String(buffer.prefix(Int(start))) + word
    let candidates = completer(line)
    guard !candidates.isEmpty else { return nil }
    let single = candidates.count == 1
    rl_completion_append_character = single && (candidates[0].hasSuffix("/") || candidates[0].hasSuffix("=")) ? 0 : 32
    var common = candidates[0]
    for candidate in candidates.dropFirst() {
        common = String(zip(common, candidate).prefix { $0 == $1 }.map(\.0))
    }
    let count = candidates.count + 3
    let array = malloc(count * MemoryLayout<UnsafeMutablePointer<CChar>?>.stride)!
        .bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: count)
    array.initialize(repeating: nil, count: count)
    array[0] = strdup(common)
    if !single {
        for (i, candidate) in candidates.enumerated() { array[i + 1] = strdup(candidate) }
    }
    return array
}
