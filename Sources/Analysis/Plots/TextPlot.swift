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
    /// marker; data points are drawn last, on top. A NaN breaks the line.
    public static func lines(_ series: [Series], title: String, xLabel: String, yLabel: String,
                             width: Int = 72, height: Int = 20, style: Style = .ascii) -> String {
        let frame = makeFrame(series, title: title, xLabel: xLabel, yLabel: yLabel, width: width, height: height, style: style)
        var canvas = frame.makeCanvas()
        for (i, s) in series.enumerated() {
            var previous: (column: Int, row: Int)?
            for p in s.points {
                let cell = p.flatMap { frame.cell($0.x, $0.y) }
                if let a = previous, let b = cell { canvas.segment(from: a, to: b, marker(i, style: style)) }
                previous = cell
            }
        }
        drawPoints(series, frame: frame, on: &canvas, style: style)
        return frame.render(canvas)
    }

    /// A scatter plot, one marker per series (e.g. early vs final accuracy, one
    /// series per quantizer family).
    public static func scatter(_ series: [Series], title: String, xLabel: String, yLabel: String,
                               width: Int = 72, height: Int = 20, style: Style = .ascii) -> String {
        let frame = makeFrame(series, title: title, xLabel: xLabel, yLabel: yLabel, width: width, height: height, style: style)
        var canvas = frame.makeCanvas()
        drawPoints(series, frame: frame, on: &canvas, style: style)
        return frame.render(canvas)
    }

    /// Accuracy against cost with the Pareto front (`paretoFront`) marked `*` and
    /// joined by its staircase (`-` then `|`: the best accuracy reachable for a cost);
    /// dominated points are `o`. `logCost` puts cost on a log₁₀ axis, useful when
    /// costs span binary to float (BOPs differ ~1000×).
    public static func pareto(accuracy: [Double], cost: [Double], title: String,
                              xLabel: String = "cost", yLabel: String = "accuracy", logCost: Bool = false,
                              width: Int = 72, height: Int = 20, style: Style = .ascii) -> String {
        precondition(accuracy.count == cost.count, "pareto: \(accuracy.count) accuracies but \(cost.count) costs")
        let front = paretoFront(accuracy: accuracy, cost: cost)
        let onFront = Set(front)
        let (frontMark, otherMark): (Character, Character) = style == .ascii ? ("*", "o") : ("●", "○")
        let (across, up): (Character, Character) = style == .ascii ? ("-", "|") : ("─", "│")
        let frame = TextFrame(title: title, xLabel: xLabel, yLabel: yLabel,
                              legend: [(frontMark, "Pareto front (\(front.count))"),
                                       (otherMark, "dominated (\(accuracy.count - front.count))")],
                              xValues: cost, yValues: accuracy, logX: logCost,
                              width: width, height: height, style: style)
        var canvas = frame.makeCanvas()
        let cells = front.compactMap { frame.cell(cost[$0], accuracy[$0]) }
        for (a, b) in zip(cells, cells.dropFirst()) {
            canvas.segment(from: a, to: (b.column, a.row), across)
            canvas.segment(from: (b.column, a.row), to: b, up)
        }
        for i in accuracy.indices where !onFront.contains(i) {
            if let c = frame.cell(cost[i], accuracy[i]) { canvas[c.column, c.row] = otherMark }
        }
        for c in cells { canvas[c.column, c.row] = frontMark }
        if cells.isEmpty { noData(&canvas) }
        return frame.render(canvas)
    }

    // MARK: - Shared

    private static func makeFrame(_ series: [Series], title: String, xLabel: String, yLabel: String,
                                  width: Int, height: Int, style: Style) -> TextFrame {
        let points = series.flatMap { $0.points.compactMap { $0 } }
        return TextFrame(title: title, xLabel: xLabel, yLabel: yLabel,
                         legend: series.enumerated().map { (marker($0.offset, style: style), $0.element.name) },
                         xValues: points.map(\.x), yValues: points.map(\.y), logX: false,
                         width: width, height: height, style: style)
    }

    private static func drawPoints(_ series: [Series], frame: TextFrame, on canvas: inout TextCanvas, style: Style) {
        var any = false
        for (i, s) in series.enumerated() {
            for case let p? in s.points {
                guard let c = frame.cell(p.x, p.y) else { continue }
                canvas[c.column, c.row] = marker(i, style: style)
                any = true
            }
        }
        if !any { noData(&canvas) }
    }

    private static func noData(_ canvas: inout TextCanvas) {
        let text = "(no data)"
        canvas.write(text, column: max(0, (canvas.columns - text.count) / 2), row: canvas.rows / 2)
    }
}
