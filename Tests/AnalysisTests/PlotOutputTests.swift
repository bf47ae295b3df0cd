import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Analysis

/// Labelled Pareto plots and their PNG/PDF renderings: labels never overlap, every
/// point is named, the files are real PNG and PDF with the plot's size and ink.
@Suite struct PlotOutputTests {
    /// The teaching session's crowd: five configurations within 2 KiB of 400 KiB.
    static let names = ["c2-w32a8", "c2-w8a8", "c2-w4a8", "c2-w2a8", "c2-wta8", "c2-w1a8", "all-w4a4", "all-w1a1"]
    static let accuracy = [0.8952, 0.8867, 0.8942, 0.8784, 0.8895, 0.8904, 0.8709, 0.8325]
    static let memory = [411.2, 397.8, 395.5, 394.7, 394.7, 393.9, 51.9, 13.9]

    static var svg: String {
        SVGPlot.pareto(accuracy: accuracy, cost: memory, labels: names, title: "Pareto front: final test accuracy vs weight memory (KiB)",
                       xLabel: "weight memory (KiB)", yLabel: "final test accuracy", logCost: true)
    }

    /// (text, x, y) of every element with `class` containing `cls`.
    static func texts(_ svg: String, class cls: String) throws -> [(String, Double, Double)] {
        let root = try SVGElement.parse(svg)
        var out: [(String, Double, Double)] = []
        func walk(_ e: SVGElement) {
            if e.name == "text", (e.attributes["class"] ?? "").split(separator: " ").contains(Substring(cls)) {
                out.append((e.text, Double(e.attributes["x"] ?? "") ?? .nan, Double(e.attributes["y"] ?? "") ?? .nan))
            }
            e.children.forEach(walk)
        }
        walk(root)
        return out
    }

    @Test func everyPointIsNamedAndNoLabelsOverlap() throws {
        let svg = Self.svg
        let labels = try Self.texts(svg, class: "point-label")
        let keys = try Self.texts(svg, class: "key").map(\.0)
        // Each configuration is a label, or a number keyed in the legend ("3 = name").
        for n in Self.names {
            #expect(labels.contains { $0.0 == n } || keys.contains { $0.hasSuffix("= " + n) }, "\(n) is not named")
        }
        let placer = LabelPlacer(area: .init(x0: 0, y0: 0, x1: 1e9, y1: 1e9), markers: [])
        let boxes = labels.map { placer.box($0.0, x: $0.1, y: $0.2) }
        for i in boxes.indices { for j in boxes.indices where j > i {
            #expect(!boxes[i].overlaps(boxes[j]), "'\(labels[i].0)' overlaps '\(labels[j].0)'")
        } }
        // Tooltips carry the exact values, not rounded ones.
        #expect(svg.contains("c2-w4a8: final test accuracy 0.8942, weight memory (KiB) 395.5"))
    }

    /// The candidate spots around a point are laid out with the label's width in terminal
    /// columns, as its box is measured: a CJK label (量化网络: 8 columns in 4 Characters) had
    /// its spot left of the point computed half as wide, so that box covered the marker, and
    /// the label went to a worse spot though the left side was free.
    @Test func aWideLabelTakesTheFreeSpotLeftOfItsPoint() throws {
        let point = (x: 290.0, y: 100.0)
        var placer = LabelPlacer(area: .init(x0: 0, y0: 0, x1: 300, y1: 200), markers: [point])
        let placed = placer.place("量化网络", near: point.x, point.y)
        let spot = try #require(placed)
        #expect(spot.box.x1 <= point.x - 5 && spot.box.y0 < point.y && spot.box.y1 > point.y && !spot.leader, "\(spot.box)")
    }

    /// A 5,000-character configuration name made the SVG legend 35,000 px wide, and PNG and
    /// PDF refused every plot ("the plot's <svg> has no usable width and height"): now the
    /// legend cuts it with "…" (37 columns at 640 px: (640 / 2 − 60) / 7), tooltips keep it
    /// whole, and each kind of plot, and their panels, renders at the size asked for.
    @Test func aVeryLongNameIsShortenedInTheLegend() throws {
        let long = "w4a4-" + String(repeating: "x", count: 4995)
        let series = [Series(name: long, x: [1, 2], y: [0.5, 0.6]), Series(name: "fp", x: [1, 2], y: [0.7, 0.8])]
        let plots = [
            SVGPlot.lines(series, title: "curves", xLabel: "epoch", yLabel: "val acc"),
            SVGPlot.scatter(series, title: "scatter", xLabel: "trial", yLabel: "final"),
            SVGPlot.pareto(accuracy: [0.5, 0.7], cost: [10, 20], labels: [long, "fp"], title: "pareto", logCost: true),
        ]
        for svg in plots {
            let root = try SVGElement.parse(svg)
            #expect(root.attributes["width"] == "640" && root.attributes["height"] == "400")
            #expect(svg.contains("<title>" + long), "the tooltip keeps the whole name")
        }
        #expect(plots[0].contains(">w4a4-" + String(repeating: "x", count: 31) + "…</text>"))
        #expect(plots[1].contains(">w4a4-" + String(repeating: "x", count: 31) + "…</text>"))
        #expect(plots[2].contains(">1 = w4a4-" + String(repeating: "x", count: 27) + "…</text>"))
        for svg in plots + [SVGPlot.panels(plots)] {
            for format in [PlotRenderer.Format.png, .pdf] {
                #expect(throws: Never.self) { _ = try PlotRenderer.render(svg: svg, as: format) }
            }
        }
        // The terminal chart's legend ends the name with "…" within its width.
        let text = TextPlot.lines(series, title: "curves", xLabel: "epoch", yLabel: "val acc", width: 40, height: 12)
        let lines = text.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 40 })
        #expect(lines.contains { $0.hasSuffix("w4a4-" + String(repeating: "x", count: 32) + "…") }, "\(text)")
    }

    @Test func svgIsWellFormedXML() throws {
        #if canImport(FoundationXML)
        let parser = XMLParser(data: Data(Self.svg.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #endif
        let panels = SVGPlot.panels([Self.svg, Self.svg], columns: 2)
        let root = try SVGElement.parse(panels)
        #expect(root.children.filter { $0.name == "svg" }.count == 2)
        #expect(Int(root.attributes["width"] ?? "") == 2 * Int(try SVGElement.parse(Self.svg).attributes["width"] ?? "")!)
    }

    /// QUANTLAB_PLOT_DIR=DIR writes the plot as SVG, PNG and PDF there, to look at
    /// (e.g. in Chromium: chromium --headless --screenshot=p.png DIR/pareto.svg).
    @Test func writesFilesToLookAtWhenAsked() throws {
        guard let dir = ProcessInfo.processInfo.environment["QUANTLAB_PLOT_DIR"] else { return }
        for f in PlotRenderer.Format.allCases {
            try Data(try PlotRenderer.render(svg: Self.svg, as: f)).write(to: URL(fileURLWithPath: "\(dir)/pareto.\(f.rawValue)"))
        }
    }

    @Test func pngHasThePlotsSizeAndInk() throws {
        let png = try PlotRenderer.render(svg: Self.svg, as: .png)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR: width and height, big-endian, at bytes 16…23.
        let be = { (o: Int) in png[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
        let root = try SVGElement.parse(Self.svg)
        #expect(be(16) == Int(root.attributes["width"]!)! && be(20) == Int(root.attributes["height"]!)!)
        #expect(png.count > 5_000, "a plot with text and points compresses to more than \(png.count) bytes")
    }

    @Test func pdfIsAOnePageDocument() throws {
        let pdf = try PlotRenderer.render(svg: Self.svg, as: .pdf)
        let text = String(decoding: pdf, as: UTF8.self)
        #expect(text.hasPrefix("%PDF-1."))
        #expect(text.contains("/Type /Page") || text.contains("/Type/Page"))
        #expect(text.hasSuffix("%%EOF\n") || text.hasSuffix("%%EOF"))
    }

    @Test func renderingDamagedSVGIsAnError() {
        #expect(throws: PlotRenderer.RenderError.self) { try PlotRenderer.render(svg: "<svg width=\"10\"", as: .png) }
        #expect(throws: PlotRenderer.RenderError.self) { try PlotRenderer.render(svg: "<svg></svg>", as: .pdf) }
    }

    @Test func terminalParetoKeysEveryPoint() {
        let text = TextPlot.pareto(accuracy: Self.accuracy, cost: Self.memory, labels: Self.names, title: "t",
                                   xLabel: "weight memory (KiB)", logCost: true)
        for n in Self.names { #expect(text.contains(n), "\(n) missing from the key") }
        // Cheapest first: all-w1a1 is A, all-w4a4 B.
        #expect(text.contains("A all-w1a1 *") && text.contains("B all-w4a4 *"))
    }
}
