import Testing
@testable import Formatting

/// Terminal columns: wide East Asian characters 2, combining marks 0, the rest 1.
@Suite struct DisplayWidthTests {
    @Test func wideCharactersTakeTwoColumnsAndMarksNone() {
        #expect(DisplayWidth.columns("w4a4") == 4)
        #expect(DisplayWidth.columns("量化网络") == 8)             // CJK unified ideographs
        #expect(DisplayWidth.columns("양자화") == 6)              // Hangul syllables
        #expect(DisplayWidth.columns("カタカナ") == 8)             // Katakana
        #expect(DisplayWidth.columns("ＡＢ") == 4)                // fullwidth forms
        #expect(DisplayWidth.columns("e\u{301}") == 1)          // e + combining acute (Mn)
        #expect(DisplayWidth.columns("\u{20DD}") == 0)           // combining enclosing circle (Me)
        #expect(DisplayWidth.columns("µ±×—…ρ") == 6)             // narrow non-ASCII
        #expect(DisplayWidth.columns("\u{303F}") == 1)           // half-fill space, just past 2E80–303E
        #expect(DisplayWidth.columns("\u{20000}") == 2)          // CJK extension B
        #expect(DisplayWidth.columns("") == 0)
    }

    @Test func aCharacterCountsItsCodePoints() {
        #expect(DisplayWidth.columns(character: "量") == 2)
        #expect(DisplayWidth.columns(character: "e\u{301}") == 1)     // one Character, a base and a mark
        #expect(DisplayWidth.columns(character: "w") == 1)
        #expect(DisplayWidth.columns(character: "\u{20DD}") == 0)
    }

    @Test func truncatedEndsInAnEllipsisWithinTheLimit() {
        #expect(DisplayWidth.truncated("w4a4-ends8", to: 10) == "w4a4-ends8")
        #expect(DisplayWidth.truncated("w4a4-ends8", to: 8) == "w4a4-en…")
        // A wide character that would cross the limit is left out whole.
        #expect(DisplayWidth.truncated("量化网络", to: 6) == "量化…")
        #expect(DisplayWidth.truncated("量化网络", to: 7) == "量化网…")
        #expect(DisplayWidth.truncated("abc", to: 1) == "…")
        #expect(DisplayWidth.truncated("abc", to: 0) == "")
        #expect(DisplayWidth.truncated(String(repeating: "x", count: 5000), to: 40) == String(repeating: "x", count: 39) + "…")
    }

    @Test func paddedCountsColumns() {
        #expect(DisplayWidth.padded("量化", to: 6) == "量化  ")
        #expect(DisplayWidth.padded("量化", to: 6, right: true) == "  量化")
        #expect(DisplayWidth.padded("toolong", to: 3) == "toolong")
    }
}
