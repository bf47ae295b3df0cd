/// A table as Markdown (GitHub pipes) and as LaTeX with booktabs rules, for a paper.
extension TextTable {
    /// `| a | b |` rows after a header and an alignment row (`---:` for right-aligned
    /// columns); `|` inside a cell is escaped.
    public func markdown() -> String {
        let n = columnCount
        let cell = { (s: String) in s.replacingOccurrences(of: "|", with: "\\|") }
        func row(_ r: [String]) -> String { "| " + (0..<n).map { cell($0 < r.count ? r[$0] : "") }.joined(separator: " | ") + " |" }
        let rule = "|" + (0..<n).map { alignment(ofColumn: $0) == .right ? " ---: |" : " --- |" }.joined()
        return ([row(header), rule] + rows.map(row)).joined(separator: "\n") + "\n"
    }

    /// A `tabular` with `\toprule`, `\midrule`, `\bottomrule` (package booktabs); columns
    /// `l` or `r` as in the text table; LaTeX's special characters escaped, and `±`,
    /// `×`, `µ`, `ρ`, `τ` written as math.
    public func latex() -> String {
        let n = columnCount
        func row(_ r: [String]) -> String { (0..<n).map { TextTable.latexEscape($0 < r.count ? r[$0] : "") }.joined(separator: " & ") + " \\\\" }
        let spec = (0..<n).map { alignment(ofColumn: $0) == .right ? "r" : "l" }.joined()
        return (["\\begin{tabular}{\(spec)}", "\\toprule", row(header), "\\midrule"] + rows.map(row)
                + ["\\bottomrule", "\\end{tabular}"]).joined(separator: "\n") + "\n"
    }

    static func latexEscape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": out += "\\" + String(ch)
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            case "±": out += "$\\pm$"
            case "×": out += "$\\times$"
            case "µ": out += "$\\mu$"
            case "ρ": out += "$\\rho$"
            case "τ": out += "$\\tau$"
            case "−": out += "$-$"
            default: out.append(ch)
            }
        }
        return out
    }
}
