import Foundation

/// A minimal SVG writer: elements are appended in order and attributes keep the
/// order given, so output is deterministic and diffable.
struct SVGDocument {
    let width: Int
    let height: Int
    private var body: [String] = []
    private var depth = 1

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// An element with attributes, optional text content, and no children.
    mutating func element(_ name: String, _ attributes: [(String, String)], text: String? = nil) {
        let open = "<" + name + SVGDocument.attributeText(attributes)
        if let text {
            body.append(indent + open + ">" + SVGDocument.escape(text) + "</" + name + ">")
        } else {
            body.append(indent + open + "/>")
        }
    }

    /// Lines of markup inserted as they are (already escaped: another plot's SVG).
    mutating func raw(_ markup: String) {
        body += markup.split(separator: "\n", omittingEmptySubsequences: false).map { indent + $0 }
    }

    /// An element with children added by `content`.
    mutating func group(_ name: String = "g", _ attributes: [(String, String)], _ content: (inout SVGDocument) -> Void) {
        body.append(indent + "<" + name + SVGDocument.attributeText(attributes) + ">")
        depth += 1
        content(&self)
        depth -= 1
        body.append(indent + "</" + name + ">")
    }

    /// The whole file: XML declaration, `<svg>` root with the title first (what
    /// browsers show as the tooltip and screen readers read), then the body.
    func render(title: String) -> String {
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
                + "viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"12\">",
            "  <title>" + SVGDocument.escape(title) + "</title>",
        ]
        lines += body
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    private var indent: String { String(repeating: "  ", count: depth) }

    private static func attributeText(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    /// XML escaping for text and attribute values: & < > " ' become entities, and
    /// characters XML 1.0 forbids (controls other than tab, LF, CR) are dropped.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || v == 0xFFFE || v == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A coordinate with at most two decimals and no trailing zeros: 12.5, 3, 0.25.
    static func number(_ v: Double) -> String {
        var s = String(format: "%.2f", v)
        while s.last == "0" { s.removeLast() }
        if s.last == "." { s.removeLast() }
        return s == "-0" ? "0" : s
    }
}
