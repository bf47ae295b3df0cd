import Foundation

extension SVGPlot {
    /// Two histograms over the same bins, a tensor before and after quantization: the
    /// values before as wide light bars (`<rect class="bar before">`), after as narrow
    /// dark bars centred in each bin (`<rect class="bar after">`), so each quantization
    /// level shows as a spike over the spread of the values it replaces. `marks` draws
    /// dashed vertical lines with a label (`<line class="mark">`), e.g. the clip c.
    /// Tooltips give each bin's range and both counts.
    public static func histogram(edges: [Double], before: [Int], after: [Int], title: String,
                                 xLabel: String, yLabel: String = "count", names: (before: String, after: String),
                                 marks: [(x: Double, label: String)] = [], width: Int = 640, height: Int = 400) -> String {
        precondition(edges.count == before.count + 1 && before.count == after.count, "histogram: edges must be one more than the counts")
        let peak = Double(max(before.max() ?? 0, after.max() ?? 0, 1))
        let (light, dark) = ("#a0cbe8", "#e15759")
        let legend = [SVGFrame.LegendEntry(name: names.before, color: light, dash: nil, kind: .point),
                      SVGFrame.LegendEntry(name: names.after, color: dark, dash: nil, kind: .point)]
        let frame = SVGFrame(title: title, xLabel: xLabel, yLabel: yLabel, legend: legend,
                             xValues: edges + marks.map(\.x), yValues: [0, peak], logX: false, width: width, height: height)
        let n = SVGDocument.number
        var doc = SVGDocument(width: frame.width, height: frame.height)
        frame.drawChrome(into: &doc)
        doc.group("g", [("class", "data")]) { g in
            guard let base = frame.py(0) else { return }
            for b in before.indices {
                guard let x0 = frame.px(edges[b]), let x1 = frame.px(edges[b + 1]) else { continue }
                let range = "[\(edges[b]), \(edges[b + 1])\(b == before.count - 1 ? "]" : ")")"
                for (count, kind) in [(before[b], "before"), (after[b], "after")] where count > 0 {
                    guard let top = frame.py(Double(count)) else { continue }
                    let inset = kind == "before" ? 0.5 : (x1 - x0) * 0.3
                    let name = kind == "before" ? names.before : names.after
                    g.group("rect", [("class", "bar \(kind)"), ("x", n(x0 + inset)), ("y", n(top)),
                                     ("width", n(max(0.5, x1 - x0 - 2 * inset))), ("height", n(max(0, base - top))),
                                     ("fill", kind == "before" ? light : dark)]) {
                        $0.element("title", [], text: "\(name): \(count) in \(range)")
                    }
                }
            }
            for m in marks {
                guard let x = frame.px(m.x) else { continue }
                g.element("line", [("class", "mark"), ("x1", n(x)), ("y1", n(frame.top)), ("x2", n(x)), ("y2", n(frame.bottom)),
                                   ("stroke", "#333"), ("stroke-width", "1"), ("stroke-dasharray", "4 3")])
                g.element("text", [("class", "mark-label"), ("x", n(x + 4)), ("y", n(frame.top + 12))], text: m.label)
            }
        }
        frame.drawLegend(into: &doc)
        return doc.render(title: title)
    }
}
