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
