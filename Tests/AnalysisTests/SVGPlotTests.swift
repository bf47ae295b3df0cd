import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Analysis

/// Parses SVG with Foundation's XMLParser: fails on ill-formed XML, and collects
/// elements with their attributes and the text inside them.
final class SVGCollector: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String]; var text = "" }
    var elements: [Element] = []
    private(set) var open: [Int] = []
    var error: Error?

    static func parse(_ svg: String) -> SVGCollector {
        let collector = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        if !parser.parse() { collector.error = parser.parserError ?? CocoaError(.coderReadCorrupt) }
        if !collector.open.isEmpty { collector.error = collector.error ?? CocoaError(.coderReadCorrupt) }
        return collector
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes))
        open.append(elements.count - 1)
    }

    /// swift-corelibs-foundation's parser recovers from some mismatched end tags
    /// (`<svg><g></svg>`) without an error, so tag balance is checked here too.
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard let top = open.last, elements[top].name == name else {
            error = error ?? CocoaError(.coderReadCorrupt)
            parser.abortParsing()
            return
        }
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = open.last { elements[i].text += string }
    }

    func all(_ name: String, class cls: String? = nil) -> [Element] {
        elements.filter { $0.name == name && (cls == nil || ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(cls!))) }
    }

    /// Every text node in the document.
    var texts: [String] { elements.map(\.text).filter { !$0.isEmpty } }
}

@Suite struct SVGPlotTests {
    static let curves = TextPlotTests.curves + [Series(name: "w4a4 <per-channel> & \"PACT\" 'clip'", y: [0.5, 0.6, .nan, 0.7])]

    @Test func lineChartIsWellFormedWithOnePathPerSeries() {
        let svg = SVGPlot.lines(Self.curves, title: "Accuracy & <loss>", xLabel: "epoch", yLabel: "val_acc")
        let doc = SVGCollector.parse(svg)
        #expect(doc.error == nil, "XMLParser: \(String(describing: doc.error))\n\(svg)")
        #expect(doc.elements.first?.name == "svg")
        let paths = doc.all("path", class: "series")
        #expect(paths.count == Self.curves.count)
        #expect(paths.allSatisfy { ($0.attributes["d"] ?? "").hasPrefix("M") })
        // The NaN at epoch 3 starts a second subpath.
        #expect(paths.last?.attributes["d"]?.filter { $0 == "M" }.count == 2)
        // Title (both <title> and the visible heading), legend names, axis labels, escaped correctly.
        #expect(doc.texts.filter { $0 == "Accuracy & <loss>" }.count == 2)
        let legend = doc.texts
        for s in Self.curves { #expect(legend.contains(s.name), "legend lacks \(s.name)") }
        #expect(legend.contains("epoch") && legend.contains("val_acc"))
        #expect(svg.contains("&lt;per-channel&gt; &amp; &quot;PACT&quot; &apos;clip&apos;"))
        #expect(!svg.contains("<loss>"))
        // Ticks are 1-2-5 numbers with labels.
        #expect(doc.all("g", class: "tick-labels").count == 1)
        #expect(legend.contains("0.2") && legend.contains("0.9") && legend.contains("3"))
    }

    @Test func scatterHasOneCirclePerPoint() {
        let groups = [Series(name: "k-bit", x: [0.6, 0.7, 0.8], y: [0.85, 0.88, 0.90]),
                      Series(name: "binary", x: [0.3, 0.4], y: [0.60, 0.65])]
        let svg = SVGPlot.scatter(groups, title: "early vs final", xLabel: "val_acc @ epoch 2", yLabel: "test_acc")
        let doc = SVGCollector.parse(svg)
        #expect(doc.error == nil)
        #expect(doc.all("circle", class: "point").count == 5)
        #expect(doc.texts.contains("val_acc @ epoch 2") && doc.texts.contains("binary"))
    }

    @Test func paretoMarksTheFront() {
        let labels = ["w8a8", "w4a4", "w2a2", "w1a1 <bc>"]
        let svg = SVGPlot.pareto(accuracy: [0.9, 0.8, 0.7, 0.75], cost: [8e9, 2e9, 1e8, 4e9], labels: labels,
                                 title: "Pareto", xLabel: "BOPs", logCost: true)
        let doc = SVGCollector.parse(svg)
        #expect(doc.error == nil)
        #expect(doc.all("circle", class: "front").count == 3)
        #expect(doc.all("circle", class: "dominated").count == 1)
        #expect(doc.all("path", class: "front").count == 1)
        #expect(doc.texts.contains("w8a8") && doc.texts.contains("Pareto front (3)"))
        #expect(doc.texts.contains("1G") && doc.texts.contains("10G"), "log ticks by decade")
    }

    @Test func deterministicAndSizedFromArguments() {
        let a = SVGPlot.lines(Self.curves, title: "t", xLabel: "x", yLabel: "y", width: 800, height: 500)
        #expect(a == SVGPlot.lines(Self.curves, title: "t", xLabel: "x", yLabel: "y", width: 800, height: 500))
        #expect(a.contains("width=\"800\" height=\"500\""))
        let empty = SVGCollector.parse(SVGPlot.lines([], title: "", xLabel: "", yLabel: ""))
        #expect(empty.error == nil)
        #expect(empty.all("path", class: "series").isEmpty)
    }

    /// The well-formedness check itself can fail.
    @Test func collectorRejectsIllFormedXML() {
        #expect(SVGCollector.parse("<svg><text>a & b</text></svg>").error != nil)
        #expect(SVGCollector.parse("<svg><g></svg>").error != nil)
        #expect(SVGCollector.parse("<svg><text>a &amp; b</text></svg>").error == nil)
    }

    @Test func escapingDropsCharactersXMLForbids() {
        #expect(SVGDocument.escape("a\u{1}b\tc") == "ab\tc")
        #expect(SVGDocument.escape("<&>\"'") == "&lt;&amp;&gt;&quot;&apos;")
        #expect(SVGDocument.number(12.5) == "12.5" && SVGDocument.number(3) == "3" && SVGDocument.number(-0.001) == "0")
    }
}
