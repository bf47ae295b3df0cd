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
                        $0.element("title", [], text: "\(s.name) (\(p.x), \(p.y))")
                    }
                }
            }
        }
        frame.drawLegend(into: &doc)
        return doc.render(title: title)
    }

    /// Accuracy against cost: dominated points hollow grey, the Pareto front filled
    /// and joined by its staircase `<path class="front">`. Every point is labelled
    /// with `labels[i]` (`<text class="point-label">`), placed by `LabelPlacer` so that
    /// no two labels overlap; a label with no free spot near its point is replaced by
    /// a number keyed in the legend ("3 = name"). Tooltips give the exact values.
    public static func pareto(accuracy: [Double], cost: [Double], labels: [String]? = nil, title: String,
                              xLabel: String = "cost", yLabel: String = "accuracy", logCost: Bool = false,
                              width: Int = 640, height: Int = 400) -> String {
        precondition(accuracy.count == cost.count, "pareto: \(accuracy.count) accuracies but \(cost.count) costs")
        let front = paretoFront(accuracy: accuracy, cost: cost)
        let onFront = Set(front)
        let frontColor = palette[2], otherColor = "#8c8c8c"
        func name(_ i: Int) -> String? { labels.flatMap { i < $0.count ? $0[i] : nil } }
        var legend: [SVGFrame.LegendEntry] = [.init(name: "Pareto front (\(front.count))", color: frontColor, dash: nil, kind: .line),
                                              .init(name: "dominated (\(accuracy.count - front.count))", color: otherColor, dash: nil, kind: .hollowPoint)]
        // Labels are placed in the frame's plot area; keying a label adds a legend row,
        // which can change the frame, so placement repeats until the keyed set is stable.
        let order = front + accuracy.indices.filter { !onFront.contains($0) }
        func frame(_ legend: [SVGFrame.LegendEntry]) -> SVGFrame {
            SVGFrame(title: title, xLabel: xLabel, yLabel: yLabel, legend: legend, xValues: cost, yValues: accuracy,
                     logX: logCost, width: width, height: height)
        }
        var f = frame(legend)
        var placements: [Int: (LabelPlacer.Placement, String)] = [:]
        var keyed: [Int] = []
        for _ in 0..<4 where labels != nil {
            let keys = keyed.enumerated().map { k, i in
                SVGFrame.LegendEntry(name: "\(k + 1) = " + (name(i) ?? ""), color: "none", dash: nil, kind: .text)
            }
            f = frame(legend + keys)
            let markers = accuracy.indices.compactMap { i in f.px(cost[i]).flatMap { x in f.py(accuracy[i]).map { (x: x, y: $0) } } }
            var placer = LabelPlacer(area: .init(x0: f.left + 1, y0: f.top + 1, x1: f.right - 1, y1: f.bottom - 1), markers: markers)
            placements = [:]
            var unplaced: [Int] = []
            for i in order {
                guard let text = name(i), let x = f.px(cost[i]), let y = f.py(accuracy[i]) else { continue }
                if !keyed.contains(i), let p = placer.place(text, near: x, y) { placements[i] = (p, text) } else { unplaced.append(i) }
            }
            let before = keyed
            keyed = before + unplaced.filter { !before.contains($0) }
            for (k, i) in keyed.enumerated() {
                guard let x = f.px(cost[i]), let y = f.py(accuracy[i]), let p = placer.place("\(k + 1)", near: x, y) else { continue }
                placements[i] = (p, "\(k + 1)")
            }
            if keyed == before { legend += keys; break }
        }
        let fr = f
        var doc = SVGDocument(width: fr.width, height: fr.height)
        fr.drawChrome(into: &doc)
        func tooltip(_ i: Int) -> String {
            "\(name(i) ?? "#\(i)"): \(yLabel) \(accuracy[i]), \(xLabel) \(cost[i])"
        }
        let n = SVGDocument.number
        doc.group("g", [("class", "data")]) { g in
            let corners = front.compactMap { i in fr.px(cost[i]).flatMap { x in fr.py(accuracy[i]).map { (x, $0) } } }
            var d = corners.first.map { ["M\(n($0.0)),\(n($0.1))"] } ?? []
            for b in corners.dropFirst() {  // across at the old accuracy, then up
                d.append("H\(n(b.0))")
                d.append("V\(n(b.1))")
            }
            g.element("path", [("class", "front"), ("d", d.joined(separator: " ")), ("fill", "none"),
                               ("stroke", frontColor), ("stroke-width", "1.5")])
            for i in accuracy.indices where !onFront.contains(i) {
                guard let q = fr.point(cost[i], accuracy[i]) else { continue }
                g.group("circle", [("class", "point dominated"), ("cx", q.x), ("cy", q.y), ("r", "3.5"),
                                   ("fill", "white"), ("stroke", otherColor)]) { $0.element("title", [], text: tooltip(i)) }
            }
            for i in front {
                guard let q = fr.point(cost[i], accuracy[i]) else { continue }
                g.group("circle", [("class", "point front"), ("cx", q.x), ("cy", q.y), ("r", "4.5"),
                                   ("fill", frontColor)]) { $0.element("title", [], text: tooltip(i)) }
            }
        }
        if !placements.isEmpty {
            doc.group("g", [("class", "point-labels"), ("font-size", "11"), ("fill", "#222")]) { g in
                for i in order {
                    guard let (p, text) = placements[i], let x = fr.px(cost[i]), let y = fr.py(accuracy[i]) else { continue }
                    if p.leader {
                        let cx = min(max(x, p.box.x0), p.box.x1), cy = min(max(y, p.box.y0), p.box.y1)
                        g.element("line", [("class", "leader"), ("x1", n(x)), ("y1", n(y)), ("x2", n(cx)), ("y2", n(cy)),
                                           ("stroke", "#999"), ("stroke-width", "0.75")])
                    }
                    g.element("text", [("class", "point-label"), ("x", n(p.x)), ("y", n(p.y))], text: text)
                }
            }
        }
        fr.drawLegend(into: &doc)
        return doc.render(title: title)
    }

    /// Several plots side by side (`columns` per row), each an SVG this type wrote,
    /// nested as `<svg class="panel">` in one figure: for a slide or a paper.
    public static func panels(_ plots: [String], columns: Int? = nil) -> String {
        let perRow = max(1, columns ?? plots.count)
        let sizes = plots.map { svg -> (Int, Int) in
            let root = try? SVGElement.parse(svg)
            return (Int(root?.attributes["width"] ?? "") ?? 640, Int(root?.attributes["height"] ?? "") ?? 400)
        }
        var widths = [Int](repeating: 0, count: perRow), heights: [Int] = []
        for (k, s) in sizes.enumerated() {
            widths[k % perRow] = max(widths[k % perRow], s.0)
            if k % perRow == 0 { heights.append(0) }
            heights[k / perRow] = max(heights[k / perRow], s.1)
        }
        var doc = SVGDocument(width: widths.reduce(0, +), height: heights.reduce(0, +))
        doc.element("rect", [("width", "\(doc.width)"), ("height", "\(doc.height)"), ("fill", "white")])
        for (k, svg) in plots.enumerated() {
            let x = widths.prefix(k % perRow).reduce(0, +), y = heights.prefix(k / perRow).reduce(0, +)
            let body = svg.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("<?xml") }
                .joined(separator: "\n")
                .replacingOccurrences(of: "<svg xmlns=\"http://www.w3.org/2000/svg\" ", with: "<svg class=\"panel\" x=\"\(x)\" y=\"\(y)\" ")
            doc.raw(body.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let titles = plots.compactMap { (try? SVGElement.parse($0))?.children.first { $0.name == "title" }?.text }
        return doc.render(title: titles.joined(separator: " · "))
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
