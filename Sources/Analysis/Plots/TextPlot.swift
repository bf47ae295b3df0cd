/// Charts for the terminal, as plain strings. ASCII by default, so output is the
/// same in tests, logs and non-UTF-8 terminals; `.unicode` draws box-drawing axes
/// and geometric markers instead. Layout: see `TextFrame`.
///
/// `width` × `height` is the whole chart in characters (default 72 × 20): every line
/// is at most `width` long and there are exactly `height` lines when the legend
/// leaves at least 3 plot rows; sizes below 20 × 5 are raised to it. Output is
/// deterministic and has no final newline.
public enum TextPlot {
    public enum Style: Sendable { case ascii, unicode }

    /// Marker characters by series index; they repeat after the last one. The ASCII
    /// set avoids `+`, `-` and `|`, which draw the axes.
    public static let asciiMarkers = Array("*ox#@%&=$~^ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    public static let unicodeMarkers = Array("●○■□▲△◆◇★☆") + Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// The marker of series `i`.
    public static func marker(_ i: Int, style: Style = .ascii) -> Character {
        let set = style == .ascii ? asciiMarkers : unicodeMarkers
        return set[i % set.count]
    }

    /// A line chart, one trace per series (e.g. validation accuracy per epoch, one
    /// series per configuration). Consecutive points are joined with the series'
    /// marker; data points are drawn last, on top. A NaN breaks the line. Where data
    /// points of several series fall in one cell, the cell shows how many (`2`…`9`)
    /// and the legend says whose, so no series hides under another.
    public static func lines(_ series: [Series], title: String, xLabel: String, yLabel: String,
                             width: Int = 72, height: Int = 20, style: Style = .ascii) -> String {
        let (frame, shared) = settledFrame(series, title: title, xLabel: xLabel, yLabel: yLabel, width: width, height: height, style: style)
        var canvas = frame.makeCanvas()
        for (i, s) in series.enumerated() {
            var previous: (column: Int, row: Int)?
            for p in s.points {
                let cell = p.flatMap { frame.cell($0.x, $0.y) }
                if let a = previous, let b = cell { canvas.segment(from: a, to: b, marker(i, style: style)) }
                previous = cell
            }
        }
        drawPoints(shared, frame: frame, on: &canvas, style: style)
        return frame.render(canvas)
    }

    /// A scatter plot, one marker per series (e.g. early vs final accuracy, one
    /// series per quantizer family); coinciding points of several series as in `lines`.
    public static func scatter(_ series: [Series], title: String, xLabel: String, yLabel: String,
                               width: Int = 72, height: Int = 20, style: Style = .ascii) -> String {
        let (frame, shared) = settledFrame(series, title: title, xLabel: xLabel, yLabel: yLabel, width: width, height: height, style: style)
        var canvas = frame.makeCanvas()
        drawPoints(shared, frame: frame, on: &canvas, style: style)
        return frame.render(canvas)
    }

    /// Accuracy against cost with the Pareto front (`paretoFront`) joined by its
    /// staircase (`-` then `|`: the best accuracy reachable for a cost). Without
    /// `labels`, front points are `*` and dominated ones `o`; with labels, each point
    /// is drawn as its key (A, B, … in order of cost) and the legend names it, `*`
    /// marking the front; a point hidden under another in the same cell says so.
    /// `logCost` puts cost on a log₁₀ axis, useful when costs span binary to float.
    public static func pareto(accuracy: [Double], cost: [Double], labels: [String]? = nil, title: String,
                              xLabel: String = "cost", yLabel: String = "accuracy", logCost: Bool = false,
                              width: Int = 72, height: Int = 20, style: Style = .ascii) -> String {
        precondition(accuracy.count == cost.count, "pareto: \(accuracy.count) accuracies but \(cost.count) costs")
        let front = paretoFront(accuracy: accuracy, cost: cost)
        let onFront = Set(front)
        let (frontMark, otherMark): (Character, Character) = style == .ascii ? ("*", "o") : ("●", "○")
        let (across, up): (Character, Character) = style == .ascii ? ("-", "|") : ("─", "│")
        let byCost = accuracy.indices.sorted { (cost[$0], $0) < (cost[$1], $1) }
        var mark: [Int: Character] = [:]
        if labels != nil { for (k, i) in byCost.enumerated() { mark[i] = keys[k % keys.count] } }
        else { for i in accuracy.indices { mark[i] = onFront.contains(i) ? frontMark : otherMark } }
        func frame(_ legend: [(marker: Character, name: String)]) -> TextFrame {
            TextFrame(title: title, xLabel: xLabel, yLabel: yLabel, legend: legend, xValues: cost, yValues: accuracy,
                      logX: logCost, width: width, height: height, style: style)
        }
        var legend: [(marker: Character, name: String)] = [(frontMark, "Pareto front (\(front.count))"), (otherMark, "dominated (\(accuracy.count - front.count))")]
        var f = frame(legend)
        if let labels {
            // Which point shows in a cell: the front first, then by cost (as drawn below).
            var shown: [String: Int] = [:]
            var hidden: [Int: Int] = [:]
            func entries(_ f: TextFrame) -> [(marker: Character, name: String)] {
                shown = [:]; hidden = [:]
                for i in front + byCost.filter({ !onFront.contains($0) }) {
                    guard let c = f.cell(cost[i], accuracy[i]) else { continue }
                    if let other = shown["\(c.column),\(c.row)"] { hidden[i] = other } else { shown["\(c.column),\(c.row)"] = i }
                }
                return byCost.map { i in
                    let name = (i < labels.count ? labels[i] : "#\(i)") + (onFront.contains(i) ? " *" : "")
                    return (mark[i]!, name + (hidden[i].map { " (under \(mark[$0]!))" } ?? ""))
                }
            }
            legend = [(frontMark, "on the Pareto front, joined by \(across) and \(up)")]
            f = frame(legend + entries(f))
            f = frame(legend + entries(f))  // the legend's height can move points; once more settles it
        }
        var canvas = f.makeCanvas()
        let cells = front.compactMap { f.cell(cost[$0], accuracy[$0]) }
        for (a, b) in zip(cells, cells.dropFirst()) {
            canvas.segment(from: a, to: (b.column, a.row), across)
            canvas.segment(from: (b.column, a.row), to: b, up)
        }
        for i in byCost.reversed() where !onFront.contains(i) {
            if let c = f.cell(cost[i], accuracy[i]) { canvas[c.column, c.row] = mark[i]! }
        }
        for i in front.reversed() { if let c = f.cell(cost[i], accuracy[i]) { canvas[c.column, c.row] = mark[i]! } }
        if cells.isEmpty { noData(&canvas) }
        return f.render(canvas)
    }

    /// Point keys of labelled plots: letters, then digits.
    static let keys = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    // MARK: - Shared

    private static func makeFrame(_ series: [Series], extra: [(marker: Character, name: String)], title: String, xLabel: String,
                                  yLabel: String, width: Int, height: Int, style: Style) -> TextFrame {
        let points = series.flatMap { $0.points.compactMap { $0 } }
        return TextFrame(title: title, xLabel: xLabel, yLabel: yLabel,
                         legend: series.enumerated().map { (marker($0.offset, style: style), $0.element.name) } + extra,
                         xValues: points.map(\.x), yValues: points.map(\.y), logX: false,
                         width: width, height: height, style: style)
    }

    /// The frame with its legend complete: the series, then one entry per set of series
    /// that share cells (one entry for all of them when the chart is too small). The legend's height moves points between cells, so
    /// the shared cells are found again until the legend stops changing.
    private static func settledFrame(_ series: [Series], title: String, xLabel: String, yLabel: String,
                                     width: Int, height: Int, style: Style) -> (TextFrame, PointCells) {
        var extra: [(marker: Character, name: String)] = []
        var compact = false
        for _ in 0..<4 {
            let frame = makeFrame(series, extra: extra, title: title, xLabel: xLabel, yLabel: yLabel, width: width, height: height, style: style)
            let cells = PointCells(series, frame: frame)
            // A chart too small for one line per set gets one line for every shared cell.
            if frame.overflows && extra.count > 1 { compact = true }
            let next = compact ? cells.compactLegend() : cells.legend(style: style)
            if next.map(\.name) == extra.map(\.name) { return (frame, cells) }
            extra = next
        }
        let frame = makeFrame(series, extra: extra, title: title, xLabel: xLabel, yLabel: yLabel, width: width, height: height, style: style)
        return (frame, PointCells(series, frame: frame))
    }

    /// Which series have a data point in each cell of a frame.
    struct PointCells {
        /// (column, row) → the series there, ascending, each once.
        var series: [Int: [Int]] = [:]
        let columns: Int

        init(_ all: [Series], frame: TextFrame) {
            columns = frame.columns
            for (i, s) in all.enumerated() {
                for case let p? in s.points {
                    guard let c = frame.cell(p.x, p.y) else { continue }
                    let key = c.row * columns + c.column
                    if series[key]?.last != i { series[key, default: []].append(i) }
                }
            }
        }

        /// The mark of a cell shared by `n` series: the digit n (9 for nine or more).
        static func mark(_ n: Int) -> Character { Character(String(min(n, 9))) }

        /// The digits only: `2 to 4 = that many series at one point`.
        func compactLegend() -> [(marker: Character, name: String)] {
            let counts = series.values.map { min($0.count, 9) }.filter { $0 > 1 }
            guard let low = counts.min(), let high = counts.max() else { return [] }
            return [(PointCells.mark(low), (low == high ? "" : "to \(high) ") + "= that many series at one point")]
        }

        /// One legend entry per set of series sharing cells, keyed by the digit the cells
        /// show: `2 = * and o (3 points)`, `3 = * o and x (1 point)`; at most four sets per
        /// digit, the last saying how many more.
        func legend(style: Style) -> [(marker: Character, name: String)] {
            var sets: [[Int]: Int] = [:]
            for members in series.values where members.count > 1 { sets[members, default: 0] += 1 }
            return Dictionary(grouping: sets.keys) { min($0.count, 9) }.sorted { $0.key < $1.key }.flatMap { n, groups in
                let shown = groups.sorted { $0.lexicographicallyPrecedes($1) }
                return shown.prefix(4).enumerated().map { k, g in
                    let names = g.map { String(marker($0, style: style)) }
                    var text = "= " + names.dropLast().joined(separator: " ") + " and " + names.last! + " (\(sets[g]!) point\(sets[g]! == 1 ? "" : "s"))"
                    if k == 3 && shown.count > 4 { text += "; \(shown.count - 4) more such sets" }
                    return (PointCells.mark(n), text)
                }
            }
        }
    }

    private static func drawPoints(_ cells: PointCells, frame: TextFrame, on canvas: inout TextCanvas, style: Style) {
        for (key, members) in cells.series {
            canvas[key % cells.columns, key / cells.columns] = members.count > 1 ? PointCells.mark(members.count) : marker(members[0], style: style)
        }
        if cells.series.isEmpty { noData(&canvas) }
    }

    private static func noData(_ canvas: inout TextCanvas) {
        let text = "(no data)"
        canvas.write(text, column: max(0, (canvas.columns - text.count) / 2), row: canvas.rows / 2)
    }
}
