import Formatting

/// Layout of an SVG chart: title on top, plot area with grid, axes, 1-2-5 ticks and
/// their labels, axis labels (y rotated), legend to the right of the plot.
///
/// Text widths are estimated at 7 px per terminal column (``DisplayWidth``: a CJK
/// character is two) of 12 px sans-serif, enough to keep labels clear of each other
/// without measuring fonts.
struct SVGFrame {
    struct LegendEntry {
        enum Kind { case line, point, hollowPoint, text }
        var name: String
        var color: String
        var dash: String?
        var kind: Kind
    }

    let width: Int, height: Int
    let title: String, xLabel: String, yLabel: String
    let legend: [LegendEntry]
    let xScale: AxisScale, yScale: AxisScale
    /// Plot-area edges in pixels.
    let left: Double, right: Double, top: Double, bottom: Double

    static let charWidth = 7.0, legendRow = 18.0, inset = 8.0

    init(title: String, xLabel: String, yLabel: String, legend: [LegendEntry],
         xValues: [Double], yValues: [Double], logX: Bool, width: Int, height: Int) {
        let width = max(width, 200), height = max(height, 150)
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        // A legend name wider than the legend may be (half the width asked for, at least
        // 24 columns) ends in "…"; tooltips keep the whole name. Before, the image grew to
        // fit any name, and a 5,000-character configuration name made a 35,000-px-wide plot
        // that PNG and PDF refused ("no usable width and height").
        let nameColumns = max(24, Int((Double(width) / 2 - 60) / SVGFrame.charWidth))
        self.legend = legend.map { entry in
            var entry = entry
            entry.name = DisplayWidth.truncated(entry.name, to: nameColumns)
            return entry
        }
        let y = AxisScale.linear(yValues, targetTicks: 6)
        yScale = y
        let yLabelChars = y.ticks.map { y.label($0).count }.max() ?? 1
        left = 36 + Double(yLabelChars) * SVGFrame.charWidth
        top = title.isEmpty ? 20 : 46
        let legendWidth = self.legend.isEmpty ? 0 : 44 + Double(self.legend.map { DisplayWidth.columns($0.name) }.max() ?? 0) * SVGFrame.charWidth
        let rightMargin = legend.isEmpty ? 24 : legendWidth + 16
        let fullWidth = max(Double(width), left + 120 + rightMargin)
        let fullHeight = max(Double(height), top + 20 + Double(legend.count) * SVGFrame.legendRow + 56)
        self.width = Int(fullWidth.rounded(.up))
        self.height = Int(fullHeight.rounded(.up))
        right = fullWidth - rightMargin
        bottom = fullHeight - 56
        let span = right - left
        xScale = logX ? .logarithmic(xValues, targetTicks: max(2, Int(span / 70)))
            : .linear(xValues, targetTicks: 10, integral: AxisScale.allIntegral(xValues)) { scale in
                let widest = Double(scale.ticks.map { scale.label($0).count }.max() ?? 1)
                return Double(scale.ticks.count) * max(60, (widest + 3) * SVGFrame.charWidth) <= span
            }
    }

    /// Pixel x of a data x, nil if it cannot be shown. The scale spans the plot area
    /// less `inset` on each side, so points on the first or last tick clear the axes.
    func px(_ x: Double) -> Double? {
        xScale.fraction(x).map { left + SVGFrame.inset + $0 * (right - left - 2 * SVGFrame.inset) }
    }
    /// Pixel y of a data y (SVG y grows downwards), nil if it cannot be shown.
    func py(_ y: Double) -> Double? {
        yScale.fraction(y).map { bottom - SVGFrame.inset - $0 * (bottom - top - 2 * SVGFrame.inset) }
    }

    func point(_ x: Double, _ y: Double) -> (x: String, y: String)? {
        guard let a = px(x), let b = py(y) else { return nil }
        return (SVGDocument.number(a), SVGDocument.number(b))
    }

    /// Background, title, grid, axes, ticks, tick labels and axis labels.
    func drawChrome(into doc: inout SVGDocument) {
        let n = SVGDocument.number
        doc.element("rect", [("width", "\(width)"), ("height", "\(height)"), ("fill", "white")])
        if !title.isEmpty {
            doc.element("text", [("class", "title"), ("x", n(Double(width) / 2)), ("y", "28"),
                                 ("text-anchor", "middle"), ("font-size", "16"), ("font-weight", "bold")], text: title)
        }
        doc.group("g", [("class", "grid"), ("stroke", "#e6e6e6"), ("stroke-width", "1")]) { g in
            for t in xScale.ticks { if let x = px(t) { g.element("line", [("x1", n(x)), ("y1", n(top)), ("x2", n(x)), ("y2", n(bottom))]) } }
            for t in yScale.ticks { if let y = py(t) { g.element("line", [("x1", n(left)), ("y1", n(y)), ("x2", n(right)), ("y2", n(y))]) } }
        }
        doc.group("g", [("class", "axes"), ("stroke", "black"), ("stroke-width", "1")]) { g in
            g.element("line", [("x1", n(left)), ("y1", n(bottom)), ("x2", n(right)), ("y2", n(bottom))])
            g.element("line", [("x1", n(left)), ("y1", n(top)), ("x2", n(left)), ("y2", n(bottom))])
            for t in xScale.ticks { if let x = px(t) { g.element("line", [("class", "tick"), ("x1", n(x)), ("y1", n(bottom)), ("x2", n(x)), ("y2", n(bottom + 5))]) } }
            for t in yScale.ticks { if let y = py(t) { g.element("line", [("class", "tick"), ("x1", n(left - 5)), ("y1", n(y)), ("x2", n(left)), ("y2", n(y))]) } }
        }
        doc.group("g", [("class", "tick-labels"), ("fill", "#333")]) { g in
            for t in xScale.ticks {
                if let x = px(t) { g.element("text", [("x", n(x)), ("y", n(bottom + 19)), ("text-anchor", "middle")], text: xScale.label(t)) }
            }
            for t in yScale.ticks {
                if let y = py(t) { g.element("text", [("x", n(left - 8)), ("y", n(y + 4)), ("text-anchor", "end")], text: yScale.label(t)) }
            }
        }
        if !xLabel.isEmpty {
            doc.element("text", [("class", "axis-label"), ("x", n((left + right) / 2)), ("y", n(bottom + 42)),
                                 ("text-anchor", "middle")], text: xLabel)
        }
        if !yLabel.isEmpty {
            let cy = n((top + bottom) / 2)
            doc.element("text", [("class", "axis-label"), ("x", "18"), ("y", cy), ("text-anchor", "middle"),
                                 ("transform", "rotate(-90 18 \(cy))")], text: yLabel)
        }
    }

    /// The legend, one row per entry, right of the plot area.
    func drawLegend(into doc: inout SVGDocument) {
        guard !legend.isEmpty else { return }
        let n = SVGDocument.number
        let x0 = right + 16
        doc.group("g", [("class", "legend")]) { g in
            for (i, entry) in legend.enumerated() {
                let y = top + 8 + Double(i) * SVGFrame.legendRow
                if entry.kind == .line {
                    var attributes = [("x1", n(x0)), ("y1", n(y)), ("x2", n(x0 + 22)), ("y2", n(y)),
                                      ("stroke", entry.color), ("stroke-width", "2")]
                    if let dash = entry.dash { attributes.append(("stroke-dasharray", dash)) }
                    g.element("line", attributes)
                }
                if entry.kind == .text {   // a key: "3 = name", no marker
                    g.element("text", [("class", "key"), ("x", n(x0)), ("y", n(y + 4))], text: entry.name)
                    continue
                }
                let fill = entry.kind == .hollowPoint ? "white" : entry.color
                g.element("circle", [("cx", n(x0 + 11)), ("cy", n(y)), ("r", "3.5"), ("fill", fill), ("stroke", entry.color)])
                g.element("text", [("x", n(x0 + 30)), ("y", n(y + 4))], text: entry.name)
            }
        }
    }
}
