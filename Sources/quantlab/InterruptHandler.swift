import Foundation
import Notebook
import Synchronization

/// The flag the SIGINT handler sets. A plain global pointer: the handler must
/// not retain, allocate or lock.
nonisolated(unsafe) private var sigintTarget: UnsafeMutablePointer<Atomic<Bool>>? = nil

/// Ctrl-C handling, installed with `sigaction` and without `SA_RESTART`, so a
/// blocked `read` returns `EINTR`: at the prompt the line is abandoned, while a
/// command runs `Workspace.interrupted` becomes true and the command stops at
/// its next `checkInterrupted()`.
enum InterruptHandler {
    static func install(_ flag: InterruptFlag) {
        sigintTarget = flag.address
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            if let target = sigintTarget { InterruptFlag.set(at: target) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        // A parent may have left SIGINT blocked (the mask survives exec; test
        // runners spawn from dispatch threads that block every signal).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }
}

/// What the SIGTERM/SIGHUP handler reads and writes (a plain global for the same reason).
nonisolated(unsafe) private var termination: UnsafeMutablePointer<TerminationHandler.State>? = nil

/// SIGTERM, and SIGHUP (the terminal was closed), in the interactive shell. While a
/// command runs they stop it as Ctrl-C does (finished epochs kept, `# stopped:` recorded),
/// then the shell ends the session file with `# end: SIGTERM` and exits with 128 + the
/// signal: killed by default, a trial's finished epochs were in the store but not in the
/// session, and its run stayed `running`. At the prompt the file already ends with the
/// last whole command, so the signal's default action ends the process at once.
enum TerminationHandler {
    struct State: ~Copyable {
        let busy = Atomic<Bool>(false)
        let signal = Atomic<Int32>(0)
    }

    static func install() {
        let state = UnsafeMutablePointer<State>.allocate(capacity: 1)
        state.initialize(to: State())
        termination = state
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in
            guard let state = termination, state.pointee.busy.load(ordering: .acquiring) else {
                // Blocked while the handler runs: delivered with the default action on return.
                signal(number, SIG_DFL)
                raise(number)
                return
            }
            state.pointee.signal.store(number, ordering: .releasing)
            if let target = sigintTarget { InterruptFlag.set(at: target) }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        for number in [SIGTERM, SIGHUP] { sigaction(number, &action, nil) }
    }

    /// Runs `body` (a command) with the signals stopping it rather than the process.
    static func whileBusy<T>(_ body: () -> T) -> T {
        termination?.pointee.busy.store(true, ordering: .releasing)
        defer { termination?.pointee.busy.store(false, ordering: .releasing) }
        return body()
    }

    /// The signal that arrived during the last command, if any.
    static var received: Int32? {
        guard let n = termination?.pointee.signal.load(ordering: .acquiring), n != 0 else { return nil }
        return n
    }

    /// `SIGTERM` or `SIGHUP`, for the session's end marker.
    static func name(_ number: Int32) -> String {
        number == SIGHUP ? "SIGHUP" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
    }
}
