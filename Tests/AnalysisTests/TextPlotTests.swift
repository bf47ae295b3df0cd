import Testing
import Formatting
@testable import Analysis

@Suite struct TextPlotTests {
    static let curves = [
        Series(name: "fp", y: [0.62, 0.74, 0.81, 0.85]),
        Series(name: "w4a4", y: [0.55, 0.70, 0.78, 0.80]),
        Series(name: "w2a2", y: [0.40, 0.52, 0.58, 0.61]),
        Series(name: "w1a1", y: [0.20, 0.31, 0.33, 0.36]),
    ]

    func checkDimensions(_ text: String, width: Int, height: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == height, "\(lines.count) lines:\n\(text)", sourceLocation: sourceLocation)
        #expect(lines.allSatisfy { $0.count <= width }, "a line is wider than \(width):\n\(text)", sourceLocation: sourceLocation)
        #expect(lines.allSatisfy { $0.last != " " }, "trailing spaces", sourceLocation: sourceLocation)
    }

    /// The plot rows: lines that start with a y tick label or the axis bar.
    func plotArea(_ text: String) -> String {
        text.split(separator: "\n").filter { $0.contains("|") || $0.contains("+ ") }.joined(separator: "\n")
    }

    /// The plot rows without their y tick labels and axis: only what was drawn.
    func canvasCells(_ text: String) -> String {
        plotArea(text).split(separator: "\n").map { line in
            line.firstIndex { $0 == "|" || $0 == "+" }.map { String(line[line.index(after: $0)...]) } ?? ""
        }.joined(separator: "\n")
    }

    @Test func lineChartDimensionsAndMarkers() {
        let text = TextPlot.lines(Self.curves, title: "Validation accuracy", xLabel: "epoch", yLabel: "val_acc")
        checkDimensions(text, width: 72, height: 20)
        for (i, s) in Self.curves.enumerated() {
            let m = TextPlot.marker(i)
            #expect(plotArea(text).contains(m), "marker \(m) of \(s.name) not drawn:\n\(text)")
            #expect(text.contains("\(m) \(s.name)"), "legend entry for \(s.name) missing")
        }
        #expect(Set((0..<4).map { TextPlot.marker($0) }).count == 4, "markers must differ")
        #expect(text.hasPrefix(String(repeating: " ", count: 26) + "Validation accuracy"))
        #expect(text.contains("epoch") && text.contains("val_acc"))
        #expect(text == TextPlot.lines(Self.curves, title: "Validation accuracy", xLabel: "epoch", yLabel: "val_acc"))
    }

    @Test func otherSizesAndStyles() {
        for (w, h) in [(40, 12), (100, 30), (72, 20)] {
            checkDimensions(TextPlot.lines(Self.curves, title: "t", xLabel: "x", yLabel: "y", width: w, height: h), width: w, height: h)
            checkDimensions(TextPlot.scatter(Self.curves, title: "t", xLabel: "x", yLabel: "y", width: w, height: h), width: w, height: h)
            checkDimensions(TextPlot.pareto(accuracy: [0.9, 0.8, 0.7], cost: [3e9, 1e8, 2e6], title: "t", logCost: true,
                                            width: w, height: h), width: w, height: h)
        }
        let unicode = TextPlot.lines(Self.curves, title: "t", xLabel: "x", yLabel: "y", style: .unicode)
        checkDimensions(unicode, width: 72, height: 20)
        #expect(unicode.contains("└") && unicode.contains("●"))
        #expect(TextPlot.lines(Self.curves, title: "t", xLabel: "x", yLabel: "y").unicodeScalars.allSatisfy { $0.isASCII })
    }

    @Test func scatterMarksEverySeries() {
        let groups = [Series(name: "k-bit", x: [0.6, 0.7, 0.8], y: [0.85, 0.88, 0.90]),
                      Series(name: "binary", x: [0.3, 0.4], y: [0.60, 0.65])]
        let text = TextPlot.scatter(groups, title: "early vs final", xLabel: "val_acc", yLabel: "test_acc")
        checkDimensions(text, width: 72, height: 20)
        #expect(plotArea(text).filter { $0 == "*" }.count == 3)
        #expect(plotArea(text).filter { $0 == "o" }.count == 2)
    }

    /// Seven configurations whose curves coincide in places (as float, w8 and w4 do in
    /// a short run): no series may vanish under another; a shared cell shows how many
    /// series meet there and the legend says which.
    @Test func coincidingPointsStayVisible() {
        let same = [0.70, 0.80, 0.85]
        let series = [Series(name: "fp", y: same), Series(name: "w8a8", y: same), Series(name: "w4a4", y: same),
                      Series(name: "w2a2", y: [0.60, 0.80, 0.75]), Series(name: "wta2", y: [0.50, 0.65, 0.70]),
                      Series(name: "w1a2", y: [0.40, 0.50, 0.55]), Series(name: "w1a1", y: [0.40, 0.50, 0.62])]
        let text = TextPlot.lines(series, title: "val acc", xLabel: "epoch", yLabel: "acc", width: 72, height: 24)
        checkDimensions(text, width: 72, height: 24)
        let area = canvasCells(text)
        // fp, w8a8 and w4a4 share all three points; w2a2 joins them at epoch 2; w1a2 and w1a1 share two.
        #expect(area.filter { $0 == "3" }.count == 2, "got:\n\(text)")
        #expect(area.filter { $0 == "4" }.count == 1, "got:\n\(text)")
        #expect(area.filter { $0 == "2" }.count == 2, "got:\n\(text)")
        #expect(text.contains("2 = % and & (2 points)"), "got:\n\(text)")
        #expect(text.contains("3 = * o and x (2 points)"), "got:\n\(text)")
        #expect(text.contains("4 = * o x and # (1 point)"), "got:\n\(text)")
        // Every series still shows: its own marker somewhere or its marker in a shared-cell entry.
        let shared = text.split(separator: "\n").filter { $0.contains(" = ") }
        for i in series.indices {
            let m = TextPlot.marker(i)
            #expect(area.contains(m) || shared.contains { $0.split(separator: " ").contains(Substring(String(m))) }, "\(series[i].name) hidden")
        }
        // Scatter: two series on exactly the same points.
        let scatter = TextPlot.scatter([Series(name: "a", x: [0.5, 0.6], y: [0.7, 0.8]), Series(name: "b", x: [0.5, 0.6], y: [0.7, 0.8])],
                                       title: "", xLabel: "x", yLabel: "y", width: 40, height: 12)
        checkDimensions(scatter, width: 40, height: 12)
        #expect(canvasCells(scatter).filter { $0 == "2" }.count == 2 && !canvasCells(scatter).contains("*") && !canvasCells(scatter).contains("o"))
        #expect(scatter.contains("2 = * and o (2 points)"), "got:\n\(scatter)")
    }

    /// `pareto cost=time` titled its chart "Pareto front: final test accuracy vs training time
    /// (CPU ms per image, me": a title wider than the chart was cut (twelfth-pass audit). It
    /// wraps at spaces, and the chart keeps its height.
    @Test func longTitleWrapsAtSpaces() {
        let title = "Pareto front: final test accuracy vs training time (CPU ms per image, measured)"
        let text = TextPlot.pareto(accuracy: [0.9, 0.8], cost: [0.02, 0.01], title: title, width: 72, height: 24)
        checkDimensions(text, width: 72, height: 24)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == " Pareto front: final test accuracy vs training time (CPU ms per image,")
        #expect(lines[1] == String(repeating: " ", count: 31) + "measured)")
    }

    /// Titles and labels are measured in terminal columns: a title naming a CJK configuration
    /// ("量化网络 conv2 activations …", as `quantizer histogram` and the activation probe write)
    /// was centred by its Characters (2 columns right of centre for 4 of them), and a long one ran past the chart.
    @Test func wideTitleIsCentredInColumns() {
        let text = TextPlot.lines(Self.curves, title: "量化网络 activations", xLabel: "epoch", yLabel: "val_acc")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // 20 columns in 72: 26 spaces before it (16 Characters would have put it at 28).
        #expect(lines[0] == String(repeating: " ", count: 26) + "量化网络 activations", "\(lines[0])")
        let long = TextPlot.lines(Self.curves, title: String(repeating: "量化 ", count: 12), xLabel: "epoch",
                                  yLabel: String(repeating: "网", count: 50), width: 40, height: 16)
        let rows = long.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rows.count == 16, "\(long)")
        #expect(rows.allSatisfy { DisplayWidth.columns($0) <= 40 }, "a line is wider than 40 columns:\n\(long)")
        #expect(rows.contains { $0.hasSuffix("网…") }, "the y label is cut at 40 columns with an ellipsis:\n\(long)")
    }

    @Test func paretoHighlightsTheFront() {
        let text = TextPlot.pareto(accuracy: [0.9, 0.8, 0.7, 0.75], cost: [8, 2, 1, 4], title: "front")
        #expect(text.contains("* Pareto front (3)") && text.contains("o dominated (1)"))
        #expect(plotArea(text).filter { $0 == "*" }.count == 3)
        #expect(plotArea(text).filter { $0 == "o" }.count == 1)
    }

    @Test func emptyAndGappySeries() {
        let empty = TextPlot.lines([], title: "none", xLabel: "x", yLabel: "y", width: 40, height: 10)
        checkDimensions(empty, width: 40, height: 10)
        #expect(empty.contains("(no data)"))
        let gap = TextPlot.lines([Series(name: "a", y: [0.5, .nan, 0.7])], title: "", xLabel: "", yLabel: "", width: 40, height: 10)
        checkDimensions(gap, width: 40, height: 10)
    }

    /// Golden output, checked by eye once: rows map y by round((1 − f)·(rows − 1)),
    /// columns map x by 1 + round(f·(columns − 2)); epochs 1…4 land on columns 1, 11,
    /// 20, 30 of a 31-column plot area.
    @Test func golden() {
        let text = TextPlot.lines([Self.curves[0], Self.curves[2]], title: "val acc", xLabel: "epoch", yLabel: "acc",
                                  width: 36, height: 12)
        let expected = """
                          val acc
            acc
            1.0 +
                |                         ******
            0.8 +      *******************
            0.6 + *****                   oooooo
                |      ooooooooooooooooooo
            0.4 + ooooo
                +-+---------+--------+---------+
                  1         2        3         4
                              epoch
            * fp   o w2a2
            """
        #expect(text == expected, "got:\n\(text)")
    }
}
