/// A network as people type it: layers separated by `|`.
///
///     conv 32 k3 | relu | maxpool 2 | conv 64 k3 | relu | maxpool 2 | dense 10
///
/// Grammar per layer: `conv F kK [sS] [pP] [nobias]`, `dense N [nobias]`, `bn`, `relu`,
/// `htanh`, `maxpool W [sS]`, `avgpool W [sS]`, `gap` (or `avgpool global`), `pad F [sS]`,
/// `flatten`, `dropout P`, and residual blocks `res(MAIN)` (identity shortcut) or
/// `res(MAIN ; SHORTCUT)`, MAIN and SHORTCUT being chains of the layers above:
///
///     res(conv 16 k3 | bn | relu | conv 16 k3 | bn) | relu
///     res(conv 32 k3 s2 | bn | relu | conv 32 k3 | bn ; conv 32 k1 s2 | bn) | relu
///
/// Blocks do not nest. Flattening before `dense` is implicit.
public struct ModelSpec: Hashable, Sendable, CustomStringConvertible {
    public var layers: [LayerSpec]

    public init(layers: [LayerSpec]) { self.layers = layers }

    /// Parses the text form; errors name the layer (1-based), its text, what was expected and what was found.
    /// Inside a residual block they name the block (`res block 2`, counted from the left), the path and
    /// the layer's place on it.
    public init(parsing text: String) throws {
        let parts = try Self.split(text, on: "|", what: "model")
        guard !(parts.count == 1 && parts[0].isEmpty) else {
            throw ModelError("empty model: expected layers separated by '|', e.g. conv 16 k3 | relu | dense 10")
        }
        var blocks = 0
        var layers: [LayerSpec] = []
        for (i, part) in parts.enumerated() {
            if Self.isBlock(part) {
                blocks += 1
                layers.append(try Self.parseBlock(part, index: i + 1, block: blocks))
            } else {
                layers.append(try Self.parseLayer(part, label: "layer \(i + 1)"))
            }
        }
        self.layers = layers
        guard layers.contains(where: { $0.weightedCount > 0 }) else {
            throw ModelError("model has no conv or dense layer: nothing to train")
        }
    }

    /// Largest count, size, stride or padding a layer may name: bounds the arithmetic on
    /// shapes (no overflow) before `Sequential` checks what the layers would allocate.
    public static let maxSize = 1 << 20

    public var text: String { layers.map(\.text).joined(separator: " | ") }
    public var description: String { text }

    /// Parses one layer; `label` starts its errors (`layer 3`, `res block 1 (layer 4), main path layer 2`).
    static func parseLayer(_ part: String, label: String) throws -> LayerSpec {
        let words = part.split(separator: " ").map(String.init)
        func fail(_ why: String) -> ModelError { ModelError("\(label) '\(part)': \(why)") }
        if part.contains("(") || part.contains(")") {
            throw fail(Self.isBlock(part) ? "res blocks do not nest" : "only res(…) takes parentheses")
        }
        guard let head = words.first?.lowercased() else { throw fail("empty layer between '|'") }
        let args = Array(words.dropFirst())
        func positive(_ s: String?, _ what: String) throws -> Int {
            guard let s else { throw fail("expected \(what), found nothing") }
            guard let v = Int(s), v > 0, v <= Self.maxSize else {
                throw fail("expected \(what) (an integer 1…\(Self.maxSize)), found '\(s)'")
            }
            return v
        }
        func flags(_ allowed: [Character], from rest: ArraySlice<String>) throws -> ([Character: Int], Bool) {
            var out: [Character: Int] = [:]
            var nobias = false
            for w in rest {
                if w == "nobias" && allowed.contains("b") { nobias = true; continue }
                guard let c = w.first, allowed.contains(c), c != "b", let v = Int(w.dropFirst()), v <= Self.maxSize else {
                    let options = allowed.map { $0 == "b" ? "nobias" : "\($0)N" }.joined(separator: ", ")
                    throw fail("unexpected '\(w)'; options are \(options)")
                }
                let least = c == "p" ? 0 : 1
                guard v >= least else {
                    let what = ["k": "kernel size", "s": "stride", "p": "padding"][c] ?? "\(c)"
                    throw fail("\(what) must be ≥ \(least), found '\(w)'")
                }
                out[c] = v
            }
            return (out, nobias)
        }
        switch head {
        case "conv":
            let f = try positive(args.first, "a filter count")
            let (o, nobias) = try flags(["k", "s", "p", "b"], from: args.dropFirst())
            let k = o["k"] ?? 3
            return .conv(filters: f, kernel: k, stride: o["s"] ?? 1, padding: o["p"] ?? k / 2, bias: !nobias)
        case "dense", "fc", "linear":
            let n = try positive(args.first, "a unit count")
            let (_, nobias) = try flags(["b"], from: args.dropFirst())
            return .dense(units: n, bias: !nobias)
        case "avgpool" where args.first?.lowercased() == "global", "gap":
            let extra = head == "gap" ? args : Array(args.dropFirst())
            guard extra.isEmpty else { throw fail("global average pooling takes no options, found '\(extra.joined(separator: " "))'") }
            return .globalAvgPool
        case "pad":
            let f = try positive(args.first, "a channel count")
            let (o, _) = try flags(["s"], from: args.dropFirst())
            return .channelPad(channels: f, stride: o["s"] ?? 1)
        case "maxpool", "avgpool":
            let w = try positive(args.first, "a window size")
            let (o, _) = try flags(["s"], from: args.dropFirst())
            return head == "maxpool" ? .maxPool(window: w, stride: o["s"] ?? w) : .avgPool(window: w, stride: o["s"] ?? w)
        case "dropout":
            guard let s = args.first, let r = Double(s), r >= 0, r < 1 else {
                throw fail("expected a rate in [0, 1), found '\(args.first ?? "")'")
            }
            guard args.count == 1 else { throw fail("unexpected '\(args[1])'") }
            return .dropout(rate: r)
        case "res":
            throw fail("expected res(LAYERS) or res(LAYERS ; SHORTCUT)")
        case "bn", "batchnorm", "relu", "htanh", "hardtanh", "flatten":
            guard args.isEmpty else { throw fail("'\(head)' takes no arguments, found '\(args.joined(separator: " "))'") }
            switch head {
            case "bn", "batchnorm": return .batchNorm
            case "relu": return .relu
            case "htanh", "hardtanh": return .hardTanh
            default: return .flatten
            }
        default:
            let near = LayerSpec.kinds.min { editDistance($0, head) < editDistance($1, head) }!
            let hint = editDistance(near, head) <= 2 ? "; did you mean '\(near)'?" : ""
            throw fail("unknown layer '\(head)'\(hint) (layers: \(LayerSpec.kinds.joined(separator: ", ")))")
        }
    }
}

extension ModelSpec {
    /// Whether a layer's text opens a residual block (`res(`, `res (`).
    static func isBlock(_ part: String) -> Bool {
        let t = part.lowercased()
        guard t.hasPrefix("res") else { return false }
        return t.dropFirst(3).drop { $0 == " " }.first == "("
    }

    /// `res(MAIN)` or `res(MAIN ; SHORTCUT)`, the `index`-th layer and the `block`-th block.
    static func parseBlock(_ part: String, index: Int, block: Int) throws -> LayerSpec {
        let label = "res block \(block) (layer \(index))"
        guard part.hasSuffix(")"), let open = part.firstIndex(of: "(") else {
            throw ModelError("\(label) '\(part)': expected res(LAYERS) or res(LAYERS ; SHORTCUT), found text after ')'")
        }
        let inner = String(part[part.index(after: open)..<part.index(before: part.endIndex)])
        let branches = try split(inner, on: ";", what: label)
        guard branches.count <= 2 else {
            throw ModelError("\(label) '\(part)': expected one ';' between the main path and the shortcut, found \(branches.count - 1)")
        }
        func chain(_ text: String, _ path: String) throws -> [LayerSpec] {
            guard !text.isEmpty else {
                throw ModelError("\(label) '\(part)': empty \(path)" + (path == "shortcut" ? " after ';' (res(LAYERS) has an identity shortcut)" : ""))
            }
            return try split(text, on: "|", what: label).enumerated().map { j, p in
                try parseLayer(p, label: "\(label), \(path) layer \(j + 1)")
            }
        }
        let main = try chain(branches[0], "main path")
        guard main.contains(where: \.isWeighted) else {
            throw ModelError("\(label) '\(part)': the main path has no conv or dense layer")
        }
        return .residual(main: main, shortcut: branches.count == 2 ? try chain(branches[1], "shortcut") : [])
    }

    /// Splits `text` at `separator`s outside parentheses, trimming spaces; errors on
    /// unbalanced parentheses name the character position (1-based).
    static func split(_ text: String, on separator: Character, what: String) throws -> [String] {
        var parts: [String] = [], current = "", depth = 0
        for (i, c) in text.enumerated() {
            if c == "(" { depth += 1 }
            if c == ")" {
                depth -= 1
                guard depth >= 0 else { throw ModelError("\(what): ')' at character \(i + 1) closes no '('") }
            }
            if c == separator && depth == 0 {
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(c)
            }
        }
        guard depth == 0 else { throw ModelError("\(what): \(depth) '(' without its ')'") }
        parts.append(current.trimmingCharacters(in: .whitespaces))
        return parts
    }
}

/// Levenshtein distance, for suggestions.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}

import Foundation
