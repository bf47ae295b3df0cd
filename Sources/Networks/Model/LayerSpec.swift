/// One layer as written in a model description.
public indirect enum LayerSpec: Hashable, Sendable {
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
    /// `gap` (or `avgpool global`): global average pooling, C×H×W → C.
    case globalAvgPool
    /// `pad F [sS]`: the option-A shortcut of He et al. 2016 — every S-th row and column
    /// (from the first), channels 0…C−1 kept and C…F−1 zero: C×H×W → F×⌈H/S⌉×⌈W/S⌉.
    case channelPad(channels: Int, stride: Int)
    /// `res(MAIN)` or `res(MAIN ; SHORTCUT)`: y = main(x) + shortcut(x), the shortcut
    /// being the identity when `shortcut` is empty (see `ResidualBlock`).
    case residual(main: [LayerSpec], shortcut: [LayerSpec])

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
        case .globalAvgPool: return "gap"
        case let .channelPad(f, s): return "pad \(f)" + (s != 1 ? " s\(s)" : "")
        case let .residual(main, shortcut):
            let m = main.map(\.text).joined(separator: " | ")
            return "res(" + m + (shortcut.isEmpty ? "" : " ; " + shortcut.map(\.text).joined(separator: " | ")) + ")"
        }
    }

    /// Weighted layers in this layer, nested ones included (a residual block's main
    /// path, then its shortcut).
    var weightedCount: Int {
        switch self {
        case let .residual(main, shortcut): return (main + shortcut).reduce(0) { $0 + $1.weightedCount }
        default: return isWeighted ? 1 : 0
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
        case .globalAvgPool: return "gap"
        case .channelPad: return "pad"
        case .residual: return "res"
        }
    }

    static let kinds = ["conv", "dense", "bn", "relu", "htanh", "maxpool", "avgpool", "flatten", "dropout", "gap", "pad", "res"]
}

private func formatRate(_ r: Double) -> String {
    var s = String(r)
    if s.hasSuffix(".0") { s.removeLast(2) }
    return s
}
