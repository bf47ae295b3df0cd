import Foundation

/// Compares a recorded `#=` result with a new one, exactly or within a
/// relative tolerance on every number in it.
///
/// In tolerant mode both strings are split into text and number pieces
/// (`val_acc 0.8712 after 3 epochs` → text, 0.8712, text, 3, text); text must
/// match exactly and each pair of numbers must satisfy
/// `|a - b| <= relative * max(|a|, |b|)`.
///
/// Measurements (training time) are recorded for the reader, never compared: a
/// number written `~X` matches any `~Y`, and a whole line starting `~ ` matches any
/// line starting `~ ` (its content, e.g. a Pareto front by measured time, may differ).
///
/// Not-a-number is one value: `-nan` (printf's spelling of a NaN with its sign bit set,
/// which CPUs set differently) matches `nan` (``unsignedNaN(_:)``), so a session that
/// recorded a diverged run's `-nan` replays where the same NaN prints `nan`. Recorded
/// lines stay as the command wrote them.
public struct ResultComparator: Sendable {
    /// nil: exact comparison.
    public var relative: Double?

    public init(relative: Double? = nil) {
        self.relative = relative
    }

    public func matches(expected: String, found: String) -> Bool {
        if expected == found { return true }
        let expected = ResultComparator.unsignedNaN(expected), found = ResultComparator.unsignedNaN(found)
        if expected == found { return true }
        if expected.hasPrefix("~ ") && found.hasPrefix("~ ") { return true }
        // Exactly: only a line with measured numbers can differ from its record.
        if relative == nil && !expected.contains("~") { return false }
        let a = ResultComparator.pieces(expected), b = ResultComparator.pieces(found)
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case (.measured, .measured): continue
            case let (.text(s), .text(t)) where s == t: continue
            case let (.number(u), .number(v)):
                if u == v || (u.isNaN && v.isNaN) { continue }
                guard let relative else { return false }
                if abs(u - v) <= relative * max(abs(u), abs(v)) { continue }
                return false
            default: return false
            }
        }
        return true
    }

    /// `text` with each number `-nan` written `nan`: after the start, a space, `=`, `(`, `[`,
    /// `,` or `:`, and before the end or a character that cannot continue a name (`non-nan`,
    /// `a.-nan` and `-nan.1` stay). NaN has no sign to compare: printf writes the sign bit,
    /// which an operation producing NaN sets differently from one CPU to another.
    static func unsignedNaN(_ text: String) -> String {
        guard text.contains("-nan") else { return text }
        let chars = Array(text)
        func opens(_ k: Int) -> Bool { k < 0 || " =([,:".contains(chars[k]) }
        func closes(_ k: Int) -> Bool {
            k >= chars.count || !(chars[k].isLetter || chars[k].isNumber || chars[k] == "_" || chars[k] == "-" || chars[k] == ".")
        }
        var out = "", i = 0
        while i < chars.count {
            if chars[i] == "-", i + 3 < chars.count, chars[i + 1] == "n", chars[i + 2] == "a", chars[i + 3] == "n",
               opens(i - 1), closes(i + 4) {
                out += "nan"
                i += 4
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        return out
    }

    enum Piece: Equatable {
        case text(String)
        case number(Double)
        /// `~X`: a measured number, never compared.
        case measured
    }

    /// Splits into maximal runs of text and decimal numbers (`-1.5e-3`, `42`, `0.87`).
    static func pieces(_ s: String) -> [Piece] {
        let chars = Array(s)
        var result: [Piece] = []
        var text = ""
        var i = 0
        func isDigit(_ k: Int) -> Bool { k < chars.count && chars[k].isASCII && chars[k].isNumber }
        while i < chars.count {
            let startsNumber = isDigit(i)
                || ((chars[i] == "-" || chars[i] == "+") && (isDigit(i + 1) || (i + 2 < chars.count && chars[i + 1] == "." && isDigit(i + 2)))
                    && (i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber)))
                || (chars[i] == "." && isDigit(i + 1) && (i == 0 || !chars[i - 1].isNumber))
            let measured = chars[i] == "~" && (isDigit(i + 1) || (i + 2 < chars.count && chars[i + 1] == "-" && isDigit(i + 2)))
            guard startsNumber || measured else { text.append(chars[i]); i += 1; continue }
            var j = measured ? i + 1 : i
            if chars[j] == "-" || chars[j] == "+" { j += 1 }
            while isDigit(j) { j += 1 }
            if j < chars.count, chars[j] == ".", isDigit(j + 1) { j += 1; while isDigit(j) { j += 1 } }
            if j < chars.count, chars[j] == "e" || chars[j] == "E" {
                var k = j + 1
                if k < chars.count, chars[k] == "-" || chars[k] == "+" { k += 1 }
                if isDigit(k) { j = k; while isDigit(j) { j += 1 } }
            }
            if !text.isEmpty { result.append(.text(text)); text = "" }
            result.append(measured ? .measured : .number(Double(String(chars[i..<j])) ?? .nan))
            i = j
        }
        if !text.isEmpty { result.append(.text(text)) }
        return result
    }
}
