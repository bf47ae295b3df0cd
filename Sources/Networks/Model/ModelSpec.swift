/// A network as people type it: layers separated by `|`.
///
///     conv 32 k3 | relu | maxpool 2 | conv 64 k3 | relu | maxpool 2 | dense 10
///
/// Grammar per layer: `conv F kK [sS] [pP] [nobias]`, `dense N [nobias]`, `bn`, `relu`,
/// `htanh`, `maxpool W [sS]`, `avgpool W [sS]`, `flatten`, `dropout P`. Flattening
/// before `dense` is implicit.
public struct ModelSpec: Hashable, Sendable, CustomStringConvertible {
    public var layers: [LayerSpec]

    public init(layers: [LayerSpec]) { self.layers = layers }

    /// Parses the text form; errors name the layer (1-based), its text, what was expected and what was found.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !(parts.count == 1 && parts[0].isEmpty) else {
            throw ModelError("empty model: expected layers separated by '|', e.g. conv 16 k3 | relu | dense 10")
        }
        layers = try parts.enumerated().map { i, part in try Self.parseLayer(part, index: i + 1) }
        guard layers.contains(where: \.isWeighted) else {
            throw ModelError("model has no conv or dense layer: nothing to train")
        }
    }

    /// Largest count, size, stride or padding a layer may name: bounds the arithmetic on
    /// shapes (no overflow) before `Sequential` checks what the layers would allocate.
    public static let maxSize = 1 << 20

    public var text: String { layers.map(\.text).joined(separator: " | ") }
    public var description: String { text }

    static func parseLayer(_ part: String, index: Int) throws -> LayerSpec {
        let words = part.split(separator: " ").map(String.init)
        func fail(_ why: String) -> ModelError { ModelError("layer \(index) '\(part)': \(why)") }
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
