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
