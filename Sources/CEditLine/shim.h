// libedit through its readline-compatible interface (Debian: libedit-dev).
// pkg-config gives -I/usr/include/editline; the path below works with or without it.
#include <stdio.h>
#include <editline/readline.h>

// Small helpers for Swift, which cannot call C variadic functions or take the
// address of some globals conveniently.

/// Sets the characters that separate words for completion (libedit keeps the pointer).
static inline void ql_set_word_break_characters(const char *chars) {
    rl_basic_word_break_characters = chars;
    rl_completer_word_break_characters = (char *)chars;
}

#include <signal.h>
#include <sys/select.h>

/// Waits until `fd` is readable with the signal mask `mask` in force, atomically
/// (pselect): -1 with errno EINTR when a signal arrived. FD_SET is a macro, so
/// Swift cannot build the fd_set itself.
static inline int ql_wait_readable(int fd, const sigset_t *mask) {
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    return pselect(fd + 1, &set, NULL, NULL, NULL, mask);
}

/// The C streams, for Swift 6: glibc declares `stdin`, `stdout` and `stderr` as
/// mutable globals, which Swift 6 rejects as shared mutable state. The C runtime sets
/// them before `main` and nothing in quantlab reassigns them (FILE objects lock
/// themselves), so reading them through these functions is safe.
static inline FILE *ql_stdin(void) { return stdin; }
static inline FILE *ql_stdout(void) { return stdout; }
static inline FILE *ql_stderr(void) { return stderr; }
