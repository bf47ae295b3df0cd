import Formatting

/// Text renderings of samples and class histograms, for `data show` and teaching.

/// The grayscale ramp, darkest first: level = value · 10 / 256.
let grayRamp: [Character] = Array(" .:-=+*#%@")

/// One sample as text: a title line, then for an image one line per row with two
/// characters per pixel (terminal cells are about twice as tall as wide), from the
/// ramp " .:-=+*#%@"; colour pixels by luminance 0.299 R + 0.587 G + 0.114 B. A
/// tabular sample is listed as its feature values.
public func renderImage(_ split: Split, index: Int, classNames: [String]) -> String {
    guard index >= 0 && index < split.count else {
        return "no sample \(index): the split has \(split.count) (0…\(split.count - 1))"
    }
    let label = Int(split.labels[index])
    let name = label < classNames.count ? " (\(classNames[label]))" : ""
    var out = "sample \(index): class \(label)\(name), \(shapeText(split.sampleShape))\n"
    let size = split.sampleSize, base = index * size
    guard split.sampleShape.count == 3 else {
        let values = (0..<size).map { formatValue(split.storage.value(at: base + $0)) }
        return out + values.joined(separator: " ") + "\n"
    }
    let (c, h, w) = (split.sampleShape[0], split.sampleShape[1], split.sampleShape[2])
    let plane = h * w
    // Gray level 0…255 of each pixel; float images are rescaled from their own range.
    var gray = [Float](repeating: 0, count: plane)
    for p in 0..<plane {
        if c == 3 {
            gray[p] = 0.299 * split.storage.value(at: base + p) + 0.587 * split.storage.value(at: base + plane + p)
                + 0.114 * split.storage.value(at: base + 2 * plane + p)
        } else {
            gray[p] = split.storage.value(at: base + p)
        }
    }
    if case .float = split.storage, let lo = gray.min(), let hi = gray.max(), hi > lo {
        gray = gray.map { ($0 - lo) / (hi - lo) * 255 }
    }
    for row in 0..<h {
        var line = ""
        for col in 0..<w {
            let level = min(max(Int(gray[row * w + col].rounded()) * grayRamp.count / 256, 0), grayRamp.count - 1)
            line.append(grayRamp[level])
            line.append(grayRamp[level])
        }
        while line.last == " " { line.removeLast() }
        out += line + "\n"
    }
    return out
}

/// A class histogram as aligned text bars, one line per class:
/// `   3 Dress        600 ██████████`. Names are padded to terminal columns (a CSV's
/// class names may be CJK, two columns a character) and cut at 16 with `…`.
public func renderHistogram(_ histogram: [Int], classNames: [String], width: Int = 30) -> String {
    let top = max(histogram.max() ?? 0, 1)
    let names = histogram.indices.map { k in k < classNames.count ? DisplayWidth.truncated(classNames[k], to: 16) : "" }
    let nameWidth = names.map { DisplayWidth.columns($0) }.max() ?? 0
    let countWidth = String(top).count
    var out = ""
    for (k, n) in histogram.enumerated() {
        let bar = String(repeating: "█", count: (n * width + top / 2) / top)
        out += pad(String(k), 4) + " " + DisplayWidth.padded(names[k], to: nameWidth)
            + " " + pad(String(n), countWidth) + " " + bar + "\n"
    }
    return out
}

func pad(_ s: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - s.count)) + s
}

func formatValue(_ v: Float) -> String {
    v == v.rounded() && abs(v) < 1e7 ? String(Int(v)) : String(v)
}
