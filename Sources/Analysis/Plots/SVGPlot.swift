import Foundation

/// The terminal charts as standalone SVG files (returned as strings; the caller
/// writes them). Well-formed XML, every label escaped, one `<path class="series">`
/// per series in line charts and one `<circle class="point">` per scatter point,
/// so tests and scripts can find the data. Sizes are in pixels (default 640 × 400,
/// at least 200 × 150); the image grows when a long legend needs room.
public enum SVGPlot {
    /// Series colours (Tableau 10). After ten series the colours repeat with dashes.
    public static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                 "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
    static let dashes: [String?] = [nil, "6 3", "2 2", "8 3 2 3"]

    /// Colour and dash pattern of series `i`.
    static func style(_ i: Int) -> (color: String, dash: String?) {
        (palette[i % palette.count], dashes[(i / palette.count) % dashes.count])
    }

    /// A line chart: one `<path class="series">` per series, with a small circle at
    /// each data point. A NaN starts a new subpath (a gap in the line).
    public static func lines(_ series: [Series], title: String, xLabel: String, yLabel: String,
                             width: Int = 640, height: Int = 400) -> String {
        let frame = makeFrame(series, kind: .line, title: title, xLabel: xLabel, yLabel: yLabel, width: width, height: height)
        var doc = SVGDocument(width: frame.width, height: frame.height)
        frame.drawChrome(into: &doc)
        doc.group("g", [("class", "data"), ("fill", "none")]) { g in
            for (i, s) in series.enumerated() {
                let (color, dash) = style(i)
                var d: [String] = []
                var pen = "M"
                for p in s.points {
                    guard let p, let q = frame.point(p.x, p.y) else { pen = "M"; continue }
                    d.append("\(pen)\(q.x),\(q.y)")
                    pen = "L"
                }
                var attributes = [("class", "series"), ("d", d.joined(separator: " ")), ("stroke", color), ("stroke-width", "2")]
                if let dash { attributes.append(("stroke-dasharray", dash)) }
                g.group("path", attributes) { $0.element("title", [], text: s.name) }
            }
            for (i, s) in series.enumerated() {
                for case let p? in s.points {
                    guard let q = frame.point(p.x, p.y) else { continue }
                    g.element("circle", [("class", "marker"), ("cx", q.x), ("cy", q.y), ("r", "2.5"), ("fill", style(i).color)])
                }
            }
        }
        frame.drawLegend(into: &doc)
        return doc.render(title: title)
    }

    /// A scatter plot: one `<circle class="point">` per point, coloured by series,
    /// with a tooltip "name (x, y)".
    public static func scatter(_ series: [Series], title: String, xLabel: String, yLabel: String,
                               width: Int = 640, height: Int = 400) -> String {
        let frame = makeFrame(series, kind: .point, title: title, xLabel: xLabel, yLabel: yLabel, width: width, height: height)
        var doc = SVGDocument(width: frame.width, height: frame.height)
        frame.drawChrome(into: &doc)
        doc.group("g", [("class", "data")]) { g in
            for (i, s) in series.enumerated() {
                for case let p? in s.points {
                    guard let q = frame.point(p.x, p.y) else { continue }
                    g.group("circle", [("class", "point"), ("cx", q.x), ("cy", q.y), ("r", "4"),
                                       ("fill", style(i).color), ("fill-opacity", "0.85")]) {
                        $0.element("title", [], text: "\(s.name) (\(SVGDocument.number(p.x)), \(SVGDocument.number(p.y)))")
                    }
                }
            }
        }
        frame.drawLegend(into: &doc)
        return doc.render(title: title)
    }

    /// Accuracy against cost: dominated points hollow grey, the Pareto front filled
    /// and joined by its staircase `<path class="front">`, front points labelled with
    /// `labels[i]` when given.
    public static func pareto(accuracy: [Double], cost: [Double], labels: [String]? = nil, title: String,
                              xLabel: String = "cost", yLabel: String = "accuracy", logCost: Bool = false,
                              width: Int = 640, height: Int = 400) -> String {
        precondition(accuracy.count == cost.count, "pareto: \(accuracy.count) accuracies but \(cost.count) costs")
        let front = paretoFront(accuracy: accuracy, cost: cost)
        let onFront = Set(front)
        let frontColor = palette[2], otherColor = "#8c8c8c"
        let frame = SVGFrame(title: title, xLabel: xLabel, yLabel: yLabel,
                             legend: [.init(name: "Pareto front (\(front.count))", color: frontColor, dash: nil, kind: .line),
                                      .init(name: "dominated (\(accuracy.count - front.count))", color: otherColor, dash: nil, kind: .hollowPoint)],
                             xValues: cost, yValues: accuracy, logX: logCost, width: width, height: height)
        var doc = SVGDocument(width: frame.width, height: frame.height)
        frame.drawChrome(into: &doc)
        func tooltip(_ i: Int) -> String {
            let name = labels.flatMap { i < $0.count ? $0[i] : nil } ?? "#\(i)"
            return "\(name): accuracy \(String(format: "%.4g", accuracy[i])), cost \(String(format: "%.4g", cost[i]))"
        }
        doc.group("g", [("class", "data")]) { g in
            let corners = front.compactMap { i in frame.px(cost[i]).flatMap { x in frame.py(accuracy[i]).map { (x, $0) } } }
            var d = corners.first.map { ["M\(SVGDocument.number($0.0)),\(SVGDocument.number($0.1))"] } ?? []
            for b in corners.dropFirst() {  // across at the old accuracy, then up
                d.append("H\(SVGDocument.number(b.0))")
                d.append("V\(SVGDocument.number(b.1))")
            }
            g.element("path", [("class", "front"), ("d", d.joined(separator: " ")), ("fill", "none"),
                               ("stroke", frontColor), ("stroke-width", "1.5")])
            for i in accuracy.indices where !onFront.contains(i) {
                guard let q = frame.point(cost[i], accuracy[i]) else { continue }
                g.group("circle", [("class", "point dominated"), ("cx", q.x), ("cy", q.y), ("r", "3.5"),
                                   ("fill", "white"), ("stroke", otherColor)]) { $0.element("title", [], text: tooltip(i)) }
            }
            for i in front {
                guard let q = frame.point(cost[i], accuracy[i]) else { continue }
                g.group("circle", [("class", "point front"), ("cx", q.x), ("cy", q.y), ("r", "4.5"),
                                   ("fill", frontColor)]) { $0.element("title", [], text: tooltip(i)) }
                if let labels, i < labels.count {
                    g.element("text", [("class", "point-label"), ("x", q.x), ("y", q.y), ("dx", "6"), ("dy", "-6"),
                                       ("font-size", "11")], text: labels[i])
                }
            }
        }
        frame.drawLegend(into: &doc)
        return doc.render(title: title)
    }

    private static func makeFrame(_ series: [Series], kind: SVGFrame.LegendEntry.Kind, title: String,
                                  xLabel: String, yLabel: String, width: Int, height: Int) -> SVGFrame {
        let points = series.flatMap { $0.points.compactMap { $0 } }
        let legend = series.enumerated().map { i, s in
            SVGFrame.LegendEntry(name: s.name, color: style(i).color, dash: kind == .line ? style(i).dash : nil, kind: kind)
        }
        return SVGFrame(title: title, xLabel: xLabel, yLabel: yLabel, legend: legend,
                        xValues: points.map(\.x), yValues: points.map(\.y), logX: false, width: width, height: height)
    }
}
