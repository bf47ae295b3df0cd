import Foundation
import Analysis

/// The output options every plotting command takes: `svg=FILE`, `png=FILE`, `pdf=FILE`
/// (any of them, together; PNG and PDF are drawn by cairo from the same SVG) and
/// `size=WxH` in pixels (PDF: points), default 640x400.
enum PlotOutput {
    static let options = ["svg", "png", "pdf", "size"]
    static let optionValues: [String: ArgKind] = ["svg": .path, "png": .path, "pdf": .path]
    static let synopsis = "[svg=FILE] [png=FILE] [pdf=FILE] [size=WxH]"

    /// `size=WxH` (e.g. 800x500), each side 200…4000; the default when absent.
    static func size(_ inv: Invocation, default d: (Int, Int) = (640, 400)) throws -> (width: Int, height: Int) {
        guard let text = inv.string("size") else { return d }
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), (200...4000).contains(w), (150...4000).contains(h) else {
            throw inv.usageError("option 'size' expects WIDTHxHEIGHT in pixels, 200…4000 × 150…4000 (e.g. size=800x500), found '\(text)'")
        }
        return (w, h)
    }

    /// Writes `svg` to every file the invocation names; one line per file written.
    static func write(_ svg: String, _ inv: Invocation, _ ws: Workspace) throws -> String {
        try checkNames(inv)
        var lines: [String] = []
        for format in PlotRenderer.Format.allCases {
            guard let path = inv.string(format.rawValue) else { continue }
            let bytes: [UInt8]
            do { bytes = try PlotRenderer.render(svg: svg, as: format, scale: 1) }
            catch { throw QuantlabError.runtime("\(path): \(error)") }
            lines.append(try ws.outputPath(path).write(bytes: bytes))
        }
        return lines.joined(separator: "\n")
    }

    /// Refuses a file named for another of the formats (`pdf=out/x.svg` wrote a PDF named
    /// .svg, found by the twelfth-pass audit) before anything is written; other names pass.
    static func checkNames(_ inv: Invocation) throws {
        for format in PlotRenderer.Format.allCases {
            guard let path = inv.string(format.rawValue) else { continue }
            let suffix = (path as NSString).pathExtension.lowercased()
            if suffix != format.rawValue, let other = PlotRenderer.Format(rawValue: suffix) {
                throw inv.usageError("\(format.rawValue)=\(QuantlabError.clip(path)) would write \(format.rawValue.uppercased()) into a .\(other.rawValue) file; name it .\(format.rawValue), or use \(other.rawValue)=")
            }
        }
    }
}
