/// One layer as written in a model description.
public enum LayerSpec: Hashable, Sendable {
    /// `conv F kK [sS] [pP] [nobias]` — padding defaults to K/2 ("same" for odd K, stride 1).
    case conv(filters: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)
    /// `dense N [nobias]`
    case dense(units: Int, bias: Bool)
    case batchNorm                      // bn
    case relu                           // relu
    case hardTanh                       // htanh
    case maxPool(window: Int, stride: Int)   // maxpool W [sS]
    case avgPool(window: Int, stride: Int)   // avgpool W [sS]
    case flatten                        // flatten
    case dropout(rate: Double)          // dropout P

    /// Canonical text: what `ModelSpec(parsing:)` reads back to the same value.
    public var text: String {
        switch self {
        case let .conv(f, k, s, p, b):
            var t = "conv \(f) k\(k)"
            if s != 1 { t += " s\(s)" }
            if p != k / 2 { t += " p\(p)" }
            if !b { t += " nobias" }
            return t
        case let .dense(n, b): return "dense \(n)" + (b ? "" : " nobias")
        case .batchNorm: return "bn"
        case .relu: return "relu"
        case .hardTanh: return "htanh"
        case let .maxPool(w, s): return "maxpool \(w)" + (s != w ? " s\(s)" : "")
        case let .avgPool(w, s): return "avgpool \(w)" + (s != w ? " s\(s)" : "")
        case .flatten: return "flatten"
        case let .dropout(r): return "dropout \(formatRate(r))"
        }
    }

    /// Layers that carry a weight and an activation precision.
    public var isWeighted: Bool {
        switch self { case .conv, .dense: return true; default: return false }
    }

    /// Elementwise layers that belong to the preceding weighted layer's output
    /// (the activation quantizer goes after them).
    var isElementwise: Bool {
        switch self { case .batchNorm, .relu, .hardTanh, .dropout: return true; default: return false }
    }

    /// The layer kind, for naming (`conv1`, `relu2`).
    public var kind: String {
        switch self {
        case .conv: return "conv"
        case .dense: return "dense"
        case .batchNorm: return "bn"
        case .relu: return "relu"
        case .hardTanh: return "htanh"
        case .maxPool: return "maxpool"
        case .avgPool: return "avgpool"
        case .flatten: return "flatten"
        case .dropout: return "dropout"
        }
    }

    static let kinds = ["conv", "dense", "bn", "relu", "htanh", "maxpool", "avgpool", "flatten", "dropout"]
}

private func formatRate(_ r: Double) -> String {
    var s = String(r)
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s
}
