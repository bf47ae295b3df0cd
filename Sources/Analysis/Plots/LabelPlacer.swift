import Formatting

/// Places point labels so that no two overlap, none covers a marker and none leaves
/// the plot area: the first free spot among 8 positions around the point, on rings
/// of growing distance (a leader line joins a label placed away from its point).
/// A label that finds no free spot is dropped, and the caller keys the point in its
/// legend instead, so every point stays named.
///
/// Boxes are estimated at `charWidth` px per terminal column (``DisplayWidth``) and `lineHeight` px high (0.62
/// and 1.2 × the font size fit DejaVu Sans and Liberation Sans, what Chromium and
/// cairo pick for `sans-serif` on Debian).
struct LabelPlacer {
    struct Box: Equatable {
        var x0: Double, y0: Double, x1: Double, y1: Double
        func overlaps(_ b: Box) -> Bool { x0 < b.x1 && b.x0 < x1 && y0 < b.y1 && b.y0 < y1 }
    }

    struct Placement {
        /// Text anchor position (start anchor, baseline).
        var x: Double, y: Double
        var box: Box
        /// Whether a leader line should join the label to its point.
        var leader: Bool
    }

    let area: Box
    let fontSize: Double
    var charWidth: Double { fontSize * 0.62 }
    var lineHeight: Double { fontSize * 1.2 }
    private(set) var taken: [Box] = []

    init(area: Box, fontSize: Double = 11, markers: [(x: Double, y: Double)], markerRadius: Double = 5) {
        self.area = area
        self.fontSize = fontSize
        taken = markers.map { Box(x0: $0.x - markerRadius, y0: $0.y - markerRadius, x1: $0.x + markerRadius, y1: $0.y + markerRadius) }
    }

    /// The estimated box of `text` with its start at `x` and baseline at `y`.
    func box(_ text: String, x: Double, y: Double) -> Box {
        Box(x0: x - 1, y0: y - fontSize, x1: x + Double(DisplayWidth.columns(text)) * charWidth + 1, y1: y - fontSize + lineHeight)
    }

    /// A free spot for `text` near (`px`, `py`), marking it taken; nil when none is free.
    mutating func place(_ text: String, near px: Double, _ py: Double) -> Placement? {
        let w = Double(DisplayWidth.columns(text)) * charWidth, h = lineHeight   // as `box` measures it
        for ring in 0..<6 {
            let d = 7 + Double(ring) * 11
            // (dx, dy) of the box's top-left corner: right, upper right, above, …
            let candidates: [(Double, Double)] = [
                (d, -h / 2), (d * 0.7, -h - d * 0.7), (-w / 2, -h - d), (-w - d * 0.7, -h - d * 0.7),
                (-w - d, -h / 2), (-w - d * 0.7, d * 0.7), (-w / 2, d), (d * 0.7, d * 0.7),
            ]
            for (dx, dy) in candidates {
                let x = px + dx, top = py + dy
                let b = box(text, x: x, y: top + fontSize)
                guard b.x0 >= area.x0, b.x1 <= area.x1, b.y0 >= area.y0, b.y1 <= area.y1 else { continue }
                guard !taken.contains(where: { $0.overlaps(b) }) else { continue }
                taken.append(b)
                return Placement(x: x, y: top + fontSize, box: b, leader: ring > 0)
            }
        }
        return nil
    }
}
