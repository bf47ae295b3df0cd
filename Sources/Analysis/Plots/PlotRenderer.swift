import Foundation
import CCairo

/// Draws a plot's SVG with cairo into a PNG or a PDF, so the three formats are one
/// drawing: the SVG that `SVGPlot` writes is parsed (`SVGElement`) and each element
/// it uses (svg, g, rect, line, path with M/L/H/V/Z, circle, text, title) becomes the
/// cairo call with the same geometry, colours, dashes and fonts.
public enum PlotRenderer {
    public enum Format: String, Sendable, CaseIterable { case svg, png, pdf }

    public struct RenderError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The plot in `format`: SVG text unchanged, PNG pixels at `scale` × the SVG's
    /// size (a white background), or a PDF page of the SVG's size in points.
    public static func render(svg: String, as format: Format, scale: Double = 1) throws -> [UInt8] {
        if format == .svg { return Array(svg.utf8) }
        let root: SVGElement
        do { root = try SVGElement.parse(svg) } catch { throw RenderError(description: "\(error)") }
        guard root.name == "svg", let w = Double(root.attributes["width"] ?? ""), let h = Double(root.attributes["height"] ?? ""),
              w > 0, h > 0, w * scale <= 20_000, h * scale <= 20_000 else {
            throw RenderError(description: "the plot's <svg> has no usable width and height (found \(root.attributes["width"] ?? "none") × \(root.attributes["height"] ?? "none"))")
        }
        let sink = ByteSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        let closure = unmanaged.toOpaque()
        let surface: OpaquePointer?
        switch format {
        case .png:
            surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32((w * scale).rounded(.up)), Int32((h * scale).rounded(.up)))
        default:
            surface = cairo_pdf_surface_create_for_stream(writeBytes, closure, w, h)
        }
        guard let surface, cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw RenderError(description: "cairo could not create a \(format.rawValue) surface of \(w) × \(h)")
        }
        defer { cairo_surface_destroy(surface) }
        let cr = cairo_create(surface)!
        if format == .png {
            cairo_scale(cr, scale, scale)
            cairo_set_source_rgb(cr, 1, 1, 1)
            cairo_paint(cr)
        }
        var painter = Painter(cr: cr)
        painter.draw(root, Style(), isRoot: true)
        cairo_destroy(cr)
        if format == .png {
            cairo_surface_flush(surface)
            let status = cairo_surface_write_to_png_stream(surface, writeBytes, closure)
            guard status == CAIRO_STATUS_SUCCESS else { throw RenderError(description: "cairo PNG: \(String(cString: cairo_status_to_string(status)))") }
        } else {
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            guard status == CAIRO_STATUS_SUCCESS else { throw RenderError(description: "cairo PDF: \(String(cString: cairo_status_to_string(status)))") }
        }
        return sink.bytes
    }

    /// The format a file name asks for by its extension (.svg, .png, .pdf), nil otherwise.
    public static func format(ofPath path: String) -> Format? {
        Format(rawValue: (path as NSString).pathExtension.lowercased())
    }
}

private final class ByteSink { var bytes: [UInt8] = [] }

private let writeBytes: cairo_write_func_t = { closure, data, length in
    guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
    let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
    return CAIRO_STATUS_SUCCESS
}

/// Inherited presentation attributes (SVG defaults: fill black, no stroke).
private struct Style {
    var fill: String = "black"
    var stroke: String = "none"
    var strokeWidth = 1.0
    var fillOpacity = 1.0
    var dash: [Double] = []
    var fontSize = 12.0
    var bold = false
    var anchor = "start"
    var family = "sans-serif"

    func inheriting(_ a: [String: String]) -> Style {
        var s = self
        if let v = a["fill"] { s.fill = v }
        if let v = a["stroke"] { s.stroke = v }
        if let v = a["stroke-width"].flatMap(Double.init) { s.strokeWidth = v }
        if let v = a["fill-opacity"].flatMap(Double.init) { s.fillOpacity = v }
        if let v = a["stroke-dasharray"] { s.dash = v == "none" ? [] : numbers(v) }
        if let v = a["font-size"].flatMap(Double.init) { s.fontSize = v }
        if let v = a["font-weight"] { s.bold = v == "bold" || (Int(v) ?? 400) >= 600 }
        if let v = a["text-anchor"] { s.anchor = v }
        if let v = a["font-family"] { s.family = v }
        return s
    }
}

private func numbers(_ s: String) -> [Double] {
    s.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Double($0) }
}

/// "#rrggbb", "#rgb" or a few names; nil for none or an unknown colour.
private func rgb(_ c: String) -> (Double, Double, Double)? {
    let named = ["black": "#000000", "white": "#ffffff", "red": "#ff0000", "gray": "#808080", "grey": "#808080"]
    var hex = named[c.lowercased()] ?? c
    guard hex.hasPrefix("#") else { return nil }
    hex.removeFirst()
    if hex.count == 3 { hex = hex.map { "\($0)\($0)" }.joined() }
    guard hex.count == 6, let v = Int(hex, radix: 16) else { return nil }
    return (Double((v >> 16) & 255) / 255, Double((v >> 8) & 255) / 255, Double(v & 255) / 255)
}

private struct Painter {
    let cr: OpaquePointer

    func d(_ a: [String: String], _ k: String) -> Double { a[k].flatMap(Double.init) ?? 0 }

    mutating func draw(_ e: SVGElement, _ parent: Style, isRoot: Bool = false) {
        let style = parent.inheriting(e.attributes)
        let a = e.attributes
        cairo_save(cr)
        defer { cairo_restore(cr) }
        if e.name == "svg" && !isRoot { cairo_translate(cr, d(a, "x"), d(a, "y")) }
        if let t = a["transform"] { transform(t) }
        switch e.name {
        case "svg", "g":
            for c in e.children { draw(c, style) }
        case "rect":
            cairo_rectangle(cr, d(a, "x"), d(a, "y"), d(a, "width"), d(a, "height"))
            paint(style)
        case "line":
            cairo_move_to(cr, d(a, "x1"), d(a, "y1"))
            cairo_line_to(cr, d(a, "x2"), d(a, "y2"))
            paint(style, fill: false)
        case "circle":
            cairo_new_sub_path(cr)
            cairo_arc(cr, d(a, "cx"), d(a, "cy"), d(a, "r"), 0, 2 * .pi)
            paint(style)
        case "path":
            path(a["d"] ?? "")
            paint(style)
        case "text":
            text(e.text, x: d(a, "x") + d(a, "dx"), y: d(a, "y") + d(a, "dy"), style)
        default:
            break   // title, desc: not drawn
        }
    }

    /// translate(x y) and rotate(a [cx cy]), as many as given, in order.
    func transform(_ t: String) {
        var rest = Substring(t)
        while let open = rest.firstIndex(of: "("), let close = rest.firstIndex(of: ")") {
            let op = rest[..<open].trimmingCharacters(in: .whitespaces)
            let v = numbers(String(rest[rest.index(after: open)..<close]))
            switch op {
            case "translate": cairo_translate(cr, v.first ?? 0, v.count > 1 ? v[1] : 0)
            case "scale": cairo_scale(cr, v.first ?? 1, v.count > 1 ? v[1] : (v.first ?? 1))
            case "rotate":
                let (cx, cy) = v.count >= 3 ? (v[1], v[2]) : (0, 0)
                cairo_translate(cr, cx, cy)
                cairo_rotate(cr, (v.first ?? 0) * .pi / 180)
                cairo_translate(cr, -cx, -cy)
            default: break
            }
            rest = rest[rest.index(after: close)...]
        }
    }

    /// Absolute M, L, H, V, Z (what the plots write).
    func path(_ d: String) {
        var command: Character = "M"
        var current = (x: 0.0, y: 0.0)
        var tokens: [String] = []
        var token = ""
        for ch in d {
            if ch.isLetter { if !token.isEmpty { tokens.append(token) }; tokens.append(String(ch)); token = "" }
            else if ch == " " || ch == "," { if !token.isEmpty { tokens.append(token) }; token = "" }
            else if ch == "-" && !token.isEmpty && token.last != "e" { tokens.append(token); token = "-" }
            else { token.append(ch) }
        }
        if !token.isEmpty { tokens.append(token) }
        var i = 0
        func next() -> Double? { guard i < tokens.count, let v = Double(tokens[i]) else { return nil }; i += 1; return v }
        while i < tokens.count {
            if let c = tokens[i].first, c.isLetter { command = c; i += 1 }
            switch command {
            case "M", "L":
                guard let x = next(), let y = next() else { return }
                if command == "M" { cairo_move_to(cr, x, y); command = "L" } else { cairo_line_to(cr, x, y) }
                current = (x, y)
            case "H":
                guard let x = next() else { return }
                cairo_line_to(cr, x, current.y); current.x = x
            case "V":
                guard let y = next() else { return }
                cairo_line_to(cr, current.x, y); current.y = y
            case "Z", "z":
                cairo_close_path(cr)
            default:
                return
            }
        }
    }

    func paint(_ s: Style, fill: Bool = true) {
        if fill, let c = rgb(s.fill) {
            cairo_set_source_rgba(cr, c.0, c.1, c.2, s.fillOpacity)
            if rgb(s.stroke) != nil { cairo_fill_preserve(cr) } else { cairo_fill(cr) }
        }
        if let c = rgb(s.stroke) {
            cairo_set_source_rgb(cr, c.0, c.1, c.2)
            cairo_set_line_width(cr, s.strokeWidth)
            s.dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32($0.count), 0) }
            cairo_stroke(cr)
        }
        cairo_new_path(cr)
    }

    func text(_ t: String, x: Double, y: Double, _ s: Style) {
        guard !t.isEmpty, let c = rgb(s.fill) else { return }
        let family = s.family.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "sans-serif"
        cairo_select_font_face(cr, family, CAIRO_FONT_SLANT_NORMAL, s.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, s.fontSize)
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, t, &extents)
        let shift = s.anchor == "middle" ? extents.x_advance / 2 : s.anchor == "end" ? extents.x_advance : 0
        cairo_set_source_rgba(cr, c.0, c.1, c.2, s.fillOpacity)
        cairo_move_to(cr, x - shift, y)
        cairo_show_text(cr, t)
        cairo_new_path(cr)
    }
}
