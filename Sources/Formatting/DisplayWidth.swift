/// How many terminal columns text takes, for padding tables and fitting labels.
///
/// A Character (grapheme cluster) is not a column: `量` takes two, the `◌́` of a
/// decomposed `é` none. glibc's `wcwidth` knows this but only under a UTF-8 locale,
/// which a pipe, a Slurm job or a Jupyter kernel often lacks, so the rule is here:
/// East Asian Wide and Fullwidth code points count 2, combining marks (general
/// category Mn, Me) and the zero-width joiner 0, every other code point 1.
public enum DisplayWidth {
    /// East Asian Width W and F: the main blocks of Unicode's EastAsianWidth.txt
    /// (Unicode 15), sorted. Ranges hold a few unassigned code points, which no
    /// terminal draws narrower.
    static let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F,    // Hangul Jamo initial consonants
        0x2E80...0x303E,    // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
        0x3041...0x33FF,    // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK compatibility
        0x3400...0x4DBF,    // CJK unified ideographs extension A
        0x4E00...0x9FFF,    // CJK unified ideographs
        0xA000...0xA4CF,    // Yi syllables and radicals
        0xAC00...0xD7A3,    // Hangul syllables
        0xF900...0xFAFF,    // CJK compatibility ideographs
        0xFE30...0xFE4F,    // CJK compatibility forms
        0xFF00...0xFF60,    // fullwidth forms
        0xFFE0...0xFFE6,    // fullwidth signs (¢ £ ¬ ¯ ¦ ¥ ₩)
        0x1F300...0x1F64F,  // pictographs and emoticons
        0x1F900...0x1F9FF,  // supplemental symbols and pictographs
        0x20000...0x2FFFD,  // CJK extension B and later (plane 2)
        0x30000...0x3FFFD,  // plane 3
    ]

    /// Columns of one code point: 0, 1 or 2.
    public static func columns(scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x300 { return 1 }   // ASCII and Latin-1: no marks, nothing wide
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark: return 0
        default: break
        }
        if v == 0x200D { return 0 }  // zero-width joiner (emoji sequences)
        // Binary search: the last range starting at or before v.
        var lo = 0, hi = wide.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if wide[mid].lowerBound <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && wide[lo - 1].contains(v) ? 2 : 1
    }

    /// Columns of one Character: the sum over its code points (a base and its marks: the base's).
    public static func columns(character: Character) -> Int {
        character.unicodeScalars.reduce(0) { $0 + columns(scalar: $1) }
    }

    /// Columns of `text`: the sum over its code points.
    public static func columns(_ text: some StringProtocol) -> Int {
        text.unicodeScalars.reduce(0) { $0 + columns(scalar: $1) }
    }

    /// `text` if it fits in `limit` columns, else its longest prefix of whole
    /// Characters that fits with an ellipsis `…` after it (one column):
    /// `truncated("w4a4-very-long", to: 8)` is `w4a4-ve…`. A limit below 1 gives "".
    public static func truncated(_ text: String, to limit: Int) -> String {
        guard columns(text) > limit else { return text }
        guard limit >= 1 else { return "" }
        var out = "", used = 0
        for ch in text {
            let w = columns(character: ch)
            if used + w > limit - 1 { break }
            out.append(ch)
            used += w
        }
        return out + "…"
    }

    /// `text` padded with spaces to `width` columns, on the right (`.left`
    /// alignment) or on the left; text already as wide is unchanged.
    public static func padded(_ text: String, to width: Int, right: Bool = false) -> String {
        let pad = String(repeating: " ", count: max(0, width - columns(text)))
        return right ? pad + text : text + pad
    }
}
