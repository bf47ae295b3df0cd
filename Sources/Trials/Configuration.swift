import Networks
import Tensors
import Quantization

/// A configuration: a model, one precision per weighted layer, quantizer options and
/// training-setting overrides. Its canonical text form names everything that
/// changes the result; its name is short and stable.
public struct Configuration: Hashable, Sendable {
    public var name: String
    public var modelName: String
    public var spec: ModelSpec
    public var inputShape: [Int]
    /// Weighted layer names in order (`conv1`, `conv2`, `dense1`).
    public var layerNames: [String]
    /// Precision of each weighted layer, same order.
    public var precisions: [LayerPrecision]
    public var options: QuantizerOptions
    public var overrides: [String: String]

    public init(name: String, modelName: String, spec: ModelSpec, inputShape: [Int], layerNames: [String],
                precisions: [LayerPrecision], options: QuantizerOptions = QuantizerOptions(), overrides: [String: String] = [:]) {
        precondition(layerNames.count == precisions.count, "Configuration: one precision per weighted layer")
        self.name = name; self.modelName = modelName; self.spec = spec; self.inputShape = inputShape
        self.layerNames = layerNames; self.precisions = precisions; self.options = options; self.overrides = overrides
    }

    public func precision(of layer: String) -> LayerPrecision {
        layerNames.firstIndex(of: layer).map { precisions[$0] } ?? .float
    }

    /// `conv1=w8a8 conv2=w4a4 dense1=w4a4 dense2=w32a32`
    public var precisionText: String {
        zip(layerNames, precisions).map { "\($0)=\($1)" }.joined(separator: " ")
    }

    /// Everything that determines the trained result, as one line.
    public var canonicalText: String {
        var parts = [modelName, precisionText]
        var opts: [String] = []
        if options.perChannel { opts.append("perchannel=true") }
        if options.binaryConnect { opts.append("binary=connect") }
        if options.stochastic { opts.append("stochastic=true") }
        if options.pact { opts.append("pact=true") }
        if let p = options.prox { opts.append("weights=\(p.text)") }
        if let q = options.stq { opts.append("stq=\(q.text)") }
        if let d = options.prune { opts.append("prune=\(d.text)") }
        if let m = options.method { opts.append("method=\(m.rawValue)") }
        if let schedule = options.precisionSchedule { opts.append("schedule=\(schedule)") }
        if let dual = options.dual { opts.append("dual=\(dual)") }
        parts += opts
        parts += overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return parts.joined(separator: " ")
    }

    /// Everything that determines the trained result, including what `canonicalText`
    /// only names: the model's layers and input shape. Two configurations with the same
    /// name and definition train the same network; the results store keys its rows on it.
    ///
    ///     net = conv 16 k3 | relu | dense 10 input=1x28x28; net conv1=w4a4 dense1=w4a4
    public var definition: String {
        "\(modelName) = \(spec.text) input=\(inputShape.map(String.init).joined(separator: "x")); \(canonicalText)"
    }

    /// A short summary of precisions: `w4a4` when uniform, else per layer `w8,4,4,32 a8,4,4,32`.
    public var precisionSummary: String {
        let set = Set(precisions)
        if set.count == 1 { return precisions[0].description }
        let wa = "w" + precisions.map(\.weight.token).joined(separator: ",") + " a" + precisions.map(\.activation.token).joined(separator: ",")
        if precisions.allSatisfy({ $0.gradient == .float }) { return wa }
        return wa + " g" + precisions.map(\.gradient.token).joined(separator: ",")
    }

    /// The dominant quantizer family of the weights (the lowest precision present), for
    /// breakdowns; a training method's name instead when it has one (`cpt`,
    /// `progressive`, `dual`).
    public var family: String {
        // A training method is its own family: correlate's per-family tables compare methods.
        var methods: [String] = []
        if options.method == .conntra { methods.append("conntra") }
        if options.prox != nil { methods.append("proxconnect") }
        if options.stq != nil { methods.append("stq") }
        if options.prune != nil { methods.append("dmp") }
        if !methods.isEmpty { return methods.joined(separator: "+") }
        if let method = options.precisionSchedule?.method { return method }
        if options.dual != nil { return "dual" }
        let ws = precisions.map(\.weight)
        if ws.contains(.binary) { return "binary" }
        if ws.contains(.ternary) { return "ternary" }
        if ws.contains(where: { if case .bits = $0 { return true } else { return false } }) { return "k-bit" }
        return "float"
    }

    /// Builds the model with freshly initialised weights.
    public func buildModel(seed: UInt64) throws -> Sequential {
        var rng = SplitMix64(seed: seed)
        return try Sequential(spec: spec, inputShape: inputShape, precision: precision(of:), options: options, rng: &rng)
    }
}

/// Resolves `name=precision` assignments over a model's weighted layers.
///
/// Keys are layer names (`conv1`), glob patterns (`conv*`, `*`), or the conventions
/// `first` and `last`. An exact name beats `first`/`last`, which beat patterns; among
/// patterns the later one wins.
public enum PrecisionAssignment {
    public static func resolve(_ pairs: [(String, String)], layers: [String], base: [LayerPrecision]? = nil) throws -> [LayerPrecision] {
        var result = base ?? Array(repeating: LayerPrecision.float, count: layers.count)
        var rank = Array(repeating: -1, count: layers.count)
        for (order, (key, value)) in pairs.enumerated() {
            guard let p = LayerPrecision(value) else {
                throw TrialError("\(key)=\(value): expected a precision like w4a8, w1a1, wta4 or w32a32 (w: 32, 2…16, t, 1; a: 32, 2…16, 1)")
            }
            var matched = false
            for (i, name) in layers.enumerated() {
                let level: Int
                if key == name { level = 3 }
                else if (key == "first" && i == 0) || (key == "last" && i == layers.count - 1) { level = 2 }
                else if globMatch(key, name) { level = 1 }
                else { continue }
                matched = true
                let r = level * 10_000 + order
                if r > rank[i] { rank[i] = r; result[i] = p }
            }
            if !matched {
                throw TrialError("\(key): matches no weighted layer; layers are \(layers.joined(separator: ", ")), first, last, or a pattern like conv*")
            }
        }
        return result
    }

    /// `*` matches any run of characters, `?` one character.
    public static func globMatch(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
