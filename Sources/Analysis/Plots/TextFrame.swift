import Formatting

/// Layout of a terminal chart within `width` × `height` characters:
///
///     title                      (centred, wrapped at spaces to the width; omitted when empty)
///     y label                    (omitted when empty)
///     0.9 +          *           ← `rows` plot rows, y tick labels at the left
///         |     *
///     0.8 + *
///         +-+----+----+----+     ← x axis with tick marks (column 0 left empty)
///           1    2    3    4     ← x tick labels
///             epoch              (x label, centred; omitted when empty)
///     * fp   o w4a4              ← legend, wrapped to the width
///
/// The plot rows take whatever height the other lines leave (at least 3), so the
/// chart is exactly `height` lines unless that is too small; no line is longer than
/// `width`. Trailing spaces are trimmed.
struct TextFrame {
    let width: Int
    let titleLines: [String], xLabel: String, yLabel: String
    let legendLines: [String]
    let xScale: AxisScale, yScale: AxisScale
    let rows: Int, columns: Int
    let labelWidth: Int
    let yTickLabels: [Int: String]
    let glyphs: Glyphs
    /// Whether the title, labels and legend leave fewer than 3 plot rows, so the chart
    /// is taller than asked.
    let overflows: Bool

    struct Glyphs {
        let vertical: Character, yTick: Character, corner: Character, horizontal: Character, xTick: Character
        static let ascii = Glyphs(vertical: "|", yTick: "+", corner: "+", horizontal: "-", xTick: "+")
        static let unicode = Glyphs(vertical: "│", yTick: "┤", corner: "└", horizontal: "─", xTick: "┬")
    }

    init(title: String, xLabel: String, yLabel: String, legend: [(marker: Character, name: String)],
         xValues: [Double], yValues: [Double], logX: Bool, width: Int, height: Int, style: TextPlot.Style) {
        let width = max(width, 20), height = max(height, 5)  // smaller cannot hold the axes
        self.width = width
        titleLines = TextFrame.wrapWords(title, width: width)
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.glyphs = style == .ascii ? .ascii : .unicode
        legendLines = TextFrame.wrap(legend.map { "\($0.marker) \($0.name)" }, width: width)
        let overhead = titleLines.count + (yLabel.isEmpty ? 0 : 1) + 2
            + (xLabel.isEmpty ? 0 : 1) + legendLines.count
        rows = max(3, height - overhead)
        overflows = height - overhead < 3
        let plotRows = rows
        let y = AxisScale.linear(yValues, targetTicks: 6, integral: false) { $0.ticks.count <= (plotRows + 1) / 2 + 1 }
        yScale = y
        var labels: [Int: String] = [:]
        for tick in y.ticks {
            let r = Int(((1 - y.fraction(tick)!) * Double(rows - 1)).rounded())
            if labels[r] == nil { labels[r] = y.label(tick) }
        }
        yTickLabels = labels
        labelWidth = labels.values.map(\.count).max() ?? 0
        columns = max(10, width - labelWidth - 2)
        let plotColumns = columns
        xScale = logX ? .logarithmic(xValues, targetTicks: max(2, columns / 10))
            : .linear(xValues, targetTicks: 10, integral: AxisScale.allIntegral(xValues)) { scale in
                let widest = scale.ticks.map { scale.label($0).count }.max() ?? 1
                return scale.ticks.count * (widest + 2) <= plotColumns
            }
    }

    /// Column of the cell for x, nil when x cannot be shown. Column 0 stays empty,
    /// so points at the lowest x do not merge into the y axis.
    func column(_ x: Double) -> Int? {
        xScale.fraction(x).map { 1 + Int(($0 * Double(columns - 2)).rounded()) }
    }

    /// Row of the cell for y (0 at the top), nil when y cannot be shown.
    func row(_ y: Double) -> Int? {
        yScale.fraction(y).map { Int(((1 - $0) * Double(rows - 1)).rounded()) }
    }

    func cell(_ x: Double, _ y: Double) -> (column: Int, row: Int)? {
        guard let c = column(x), let r = row(y) else { return nil }
        return (c, r)
    }

    func makeCanvas() -> TextCanvas { TextCanvas(columns: columns, rows: rows) }

    /// The finished chart around a drawn canvas.
    func render(_ canvas: TextCanvas) -> String {
        var lines: [String] = []
        lines += titleLines.map { TextFrame.centred($0, in: width, offset: 0) }
        if !yLabel.isEmpty { lines.append(DisplayWidth.truncated(yLabel, to: width)) }
        for r in 0..<rows {
            let label = yTickLabels[r] ?? ""
            let pad = String(repeating: " ", count: labelWidth - label.count)
            let axis = yTickLabels[r] == nil ? glyphs.vertical : glyphs.yTick
            lines.append(pad + label + " " + String(axis) + canvas.line(r))
        }
        var axis = Array(repeating: glyphs.horizontal, count: columns)
        var tickLine = Array(repeating: Character(" "), count: width)
        var nextFree = 0
        for tick in xScale.ticks {
            guard let c = column(tick) else { continue }
            axis[c] = glyphs.xTick
            let text = Array(xScale.label(tick))
            var start = labelWidth + 2 + c - text.count / 2
            start = max(0, min(start, width - text.count))
            guard start >= nextFree else { continue }
            for (i, ch) in text.enumerated() where start + i < width { tickLine[start + i] = ch }
            nextFree = start + text.count + 1
        }
        lines.append(String(repeating: " ", count: labelWidth + 1) + String(glyphs.corner) + String(axis))
        lines.append(String(tickLine))
        if !xLabel.isEmpty { lines.append(TextFrame.centred(xLabel, in: columns, offset: labelWidth + 2)) }
        lines += legendLines
        return lines.map { DisplayWidth.truncated(TextFrame.trimmed($0), to: width) }.joined(separator: "\n")
    }

    /// Greedy wrap of a title at its spaces, so a long one (`Pareto front: final test accuracy
    /// vs training time (CPU ms per image, measured)`, 74 characters in a 72-wide chart) is
    /// not cut mid-word; a word wider than the chart ends in `…`. Measured in terminal
    /// columns (a configuration name in a title may be CJK, two columns a character). No
    /// lines for an empty title.
    static func wrapWords(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            if current.isEmpty { current = String(word) }
            else if DisplayWidth.columns(current) + 1 + DisplayWidth.columns(word) <= width { current += " " + word }
            else { lines.append(current); current = String(word) }
        }
        if !current.isEmpty { lines.append(current) }
        return lines.map { DisplayWidth.truncated($0, to: width) }
    }

    /// Greedy wrap of legend entries, three spaces apart, measured in terminal columns
    /// (a CJK name takes two a character); an entry wider than the chart ends in `…`.
    static func wrap(_ entries: [String], width: Int) -> [String] {
        var lines: [String] = [], current = ""
        for entry in entries.map({ DisplayWidth.truncated($0, to: width) }) {
            if current.isEmpty {
                current = entry
            } else if DisplayWidth.columns(current) + 3 + DisplayWidth.columns(entry) <= width {
                current += "   " + entry
            } else {
                lines.append(current)
                current = entry
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// `text` centred in the `span` columns after `offset` (terminal columns).
    static func centred(_ text: String, in span: Int, offset: Int) -> String {
        let t = DisplayWidth.truncated(text, to: span + offset), w = DisplayWidth.columns(t)
        let start = offset + max(0, (span - w) / 2)
        return String(repeating: " ", count: max(0, min(start, span + offset - w))) + t
    }

    static func trimmed(_ s: String) -> String {
        var s = s
        while s.last == " " { s.removeLast() }
        return s
    }
}
