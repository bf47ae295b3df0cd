import Tensors
import Quantization

/// Builds the layers of a `ModelSpec`: names, weights, quantizers and the places where
/// activations are quantized, through chains and residual blocks alike.
///
/// Names: each kind is counted across the whole model in the order layers are
/// written (`conv1`, `bn1`, `relu1`, `res1`, `conv2`, …), a block's main path before
/// its shortcut; weighted layers of a shortcut are named `shortcut1`, `shortcut2`, …
/// instead (so `shortcut*` selects them) and do not advance the `conv`/`dense` count.
/// A chain model is named, initialised (same draws, same order) and quantized exactly
/// as before residual blocks existed.
///
/// Activation quantization: a weighted layer's activation quantizer goes after the
/// elementwise layers that follow it (bn, relu, htanh, dropout), except
/// - for the logits (the last weighted layer): not applied;
/// - for a shortcut's weighted layers: never applied (their output is summed);
/// - for the last weighted layer of a block's main path (the block's output owner):
///   applied after the add and the elementwise layers that follow the block.
/// Binary activations replace the ReLU/HardTanh of that run with sign (BinaryNet).
struct ModelBuilder {
    /// What a chain built: its layers, their output shapes, and the weighted layer
    /// whose activation its output is (`source`, index into `weighted`; nil = the
    /// network input). `owner` is the main path's output owner.
    struct Chain {
        var layers: [Layer] = []
        var shapes: [[Int]] = []
        var shape: [Int]
        var source: Int?
        var owner: Int?
    }

    enum Role { case top, mainPath, shortcut }

    let precision: (String) -> LayerPrecision
    let options: QuantizerOptions
    let modelText: String
    let weightedTotal: Int
    private var counters: [String: Int] = [:]
    private(set) var weighted: [WeightedLayer] = []
    /// Per weighted layer: which weighted layer's activation its input is (nil: the network input).
    private(set) var sources: [Int?] = []
    /// Per weighted layer: its per-sample input shape.
    private(set) var inputShapes: [[Int]] = []
    private var precisions: [LayerPrecision] = []

    init(spec: ModelSpec, precision: @escaping (String) -> LayerPrecision, options: QuantizerOptions) {
        self.precision = precision
        self.options = options
        modelText = spec.text
        weightedTotal = spec.layers.reduce(0) { $0 + $1.weightedCount }
    }

    /// The counter a layer's name comes from: its kind, or `shortcut` for a weighted
    /// layer on a shortcut (`ModelArchive` names records the same way).
    static func nameKind(_ s: LayerSpec, onShortcut: Bool) -> String {
        onShortcut && s.isWeighted ? "shortcut" : s.kind
    }

    private mutating func nextName(_ kind: String) -> String {
        counters[kind, default: 0] += 1
        return "\(kind)\(counters[kind]!)"
    }

    /// Appends `layer` to `c`, checking its output shape and size.
    private func append(_ layer: Layer, to c: inout Chain) throws {
        do { c.shape = try layer.outputShape(for: c.shape) } catch let e as ModelError {
            throw ModelError("\(e.message) (model: \(modelText))")
        }
        // Activations are allocated per batch: keep one sample's below 2^24 values.
        var size = 1
        for d in c.shape {
            let (p, o) = size.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 24 else {
                throw ModelError("\(layer.name): output \(shapeText(c.shape)) is more than \(1 << 24) values per sample (model: \(modelText))")
            }
            size = p
        }
        c.layers.append(layer)
        c.shapes.append(c.shape)
    }

    /// Builds `specs` on an input of per-sample shape `input`, which is the activation of
    /// weighted layer `source`.
    mutating func chain(_ specs: [LayerSpec], input: [Int], source: Int?, role: Role,
                        rng: inout SplitMix64) throws -> Chain {
        var c = Chain(shape: input, source: source)
        let lastWeighted = specs.lastIndex(where: \.isWeighted)
        var i = 0
        while i < specs.count {
            let s = specs[i]
            i += 1
            if case let .residual(mainSpecs, shortcutSpecs) = s {
                let owner = try block(s, mainSpecs, shortcutSpecs, into: &c, rng: &rng)
                i = try completeActivation(of: owner, specs, from: i, into: &c, rng: &rng)
                c.source = owner
                continue
            }
            let name = nextName(Self.nameKind(s, onShortcut: role == .shortcut))
            let inputShape = c.shape
            let layer = try LayerFactory.make(s, name: name, inputShape: inputShape, rng: &rng)
            try append(layer, to: &c)
            guard let w = layer as? WeightedLayer else { continue }
            let p = precision(name)
            var o = options
            o.seed = options.seed &+ UInt64(weighted.count)
            w.weightQuantizer = makeWeightQuantizer(p.weight, options: o)
            w.activationQuantizer = makeActivationQuantizer(p.activation, options: o)
            // Stochastic rounding of g8 gradients: a stream forked from the model's (the
            // trial's) generator without drawing from it, so other precisions' weights and
            // batches stay as they were.
            w.gradientQuantizer = GradientQuantizer(p.gradient, seed: rng.fork(0x6772_6164 &+ UInt64(weighted.count + 1)).state)
            if p.weight == .binary && options.binaryConnect {
                w.weight.afterUpdate = { t in clipToUnitRange(&t) }
            }
            if options.method == .conntra && p.weight == .ternary { ConnTraWeights.ternarize(&w.weight.value.data) }
            if options.prox != nil, let clip = w.weightQuantizer.latentWeightUpdate { w.weight.afterUpdate = clip }
            if let prune = options.prune {
                // Differentiable mask pruning wraps the layer's quantizer; scores start from these weights.
                w.weightQuantizer = MaskedWeightQuantizer(inner: w.weightQuantizer, settings: prune,
                                                          weights: w.weight.value.data, channels: w.outputChannels)
            }
            let index = weighted.count
            weighted.append(w)
            precisions.append(p)
            sources.append(c.source)
            inputShapes.append(inputShape)
            c.source = index
            if role == .shortcut { continue }
            if role == .mainPath && i - 1 == lastWeighted { c.owner = index; continue }
            i = try completeActivation(of: index, specs, from: i, into: &c, rng: &rng)
        }
        return c
    }

    /// Builds a residual block onto `c`; returns its output owner.
    private mutating func block(_ s: LayerSpec, _ mainSpecs: [LayerSpec], _ shortcutSpecs: [LayerSpec],
                                into c: inout Chain, rng: inout SplitMix64) throws -> Int {
        let name = nextName("res")
        let number = counters["res"]!
        let main = try chain(mainSpecs, input: c.shape, source: c.source, role: .mainPath, rng: &rng)
        let shortcut = try chain(shortcutSpecs, input: c.shape, source: c.source, role: .shortcut, rng: &rng)
        guard let owner = main.owner else {
            throw ModelError("res block \(number): the main path has no conv or dense layer (model: \(modelText))")
        }
        guard main.shape == shortcut.shape else {
            let kind = shortcutSpecs.isEmpty ? "identity shortcut" : "shortcut"
            var hint = ""
            if main.shape.count == 3 && c.shape.count == 3 {
                let s = main.shape[1] > 0 && c.shape[1] % main.shape[1] == 0 ? c.shape[1] / main.shape[1] : 1
                let st = s > 1 ? " s\(s)" : ""
                hint = "; a shortcut that matches: res(… ; conv \(main.shape[0]) k1\(st) nobias | bn) or res(… ; pad \(main.shape[0])\(st))"
            }
            throw ModelError("res block \(number): main path gives \(shapeText(main.shape)), \(kind) gives \(shapeText(shortcut.shape)) "
                             + "(block input \(shapeText(c.shape)))\(hint) (model: \(modelText))")
        }
        try append(ResidualBlock(name: name, main: main.layers, mainShapes: main.shapes,
                                 shortcut: shortcut.layers, shortcutShapes: shortcut.shapes), to: &c)
        return owner
    }

    /// Appends the elementwise run of `specs` from `start` (the layers that complete
    /// weighted layer `index`'s activation), then its quantizer; returns the next index.
    private mutating func completeActivation(of index: Int, _ specs: [LayerSpec], from start: Int, into c: inout Chain,
                                             rng: inout SplitMix64) throws -> Int {
        let w = weighted[index]
        let a = precisions[index].activation
        let quantize = a != .float && index != weightedTotal - 1
        var i = start
        while i < specs.count && specs[i].isElementwise {
            let e = specs[i]
            let name = nextName(e.kind)
            i += 1
            if quantize && a == .binary && (e == .relu || e == .hardTanh) { continue }
            try append(try LayerFactory.make(e, name: name, inputShape: c.shape, rng: &rng), to: &c)
        }
        if quantize { try append(QuantizeActivation(owner: w), to: &c) }
        return i
    }
}
