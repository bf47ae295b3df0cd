import Formatting
import Tensors
import Quantization

/// A sequential network built from a `ModelSpec` for one input shape and one
/// assignment of per-layer precisions.
///
/// The model owns every activation (`acts[i]` is the input of layer i, `acts.last`
/// the logits) and every activation gradient, so a training step allocates nothing
/// after the first batch. Fill the batch with `withInput`, then `forward`, then
/// `backward` with ∂L/∂logits.
public final class Sequential {
    public let spec: ModelSpec
    public let inputShape: [Int]
    public let layers: [Layer]
    /// Conv and dense layers, in order (`conv1`, `conv2`, `dense1`, …).
    public let weightedLayers: [WeightedLayer]
    /// Per-sample output shape of every layer.
    public let shapes: [[Int]]
    private var acts: [Tensor]
    private var grads: [Tensor]

    /// Builds the layers with freshly initialised weights drawn from `rng`.
    /// `precision(layerName)` gives each weighted layer's precision. The last weighted
    /// layer's activation precision is not applied when it produces the logits.
    /// Binary activations (`a1`) replace the layer's ReLU/HardTanh with sign (BinaryNet).
    public init(spec: ModelSpec, inputShape: [Int], precision: (String) -> LayerPrecision = { _ in .float },
                options: QuantizerOptions = QuantizerOptions(), rng: inout SplitMix64) throws {
        self.spec = spec
        self.inputShape = inputShape
        var built: [Layer] = [], weighted: [WeightedLayer] = [], shapes: [[Int]] = []
        var counters: [String: Int] = [:]
        var shape = inputShape
        var inputSize = 1
        for d in inputShape {
            let (p, o) = inputSize.multipliedReportingOverflow(by: d)
            guard d >= 1, !o, p <= 1 << 24 else {
                throw ModelError("input \(shapeText(inputShape)): expected sizes ≥ 1 and at most \(1 << 24) values per sample")
            }
            inputSize = p
        }
        let specs = spec.layers
        let lastWeighted = specs.lastIndex(where: \.isWeighted)!
        var i = 0
        var optionIndex: UInt64 = 0
        func append(_ layer: Layer) throws {
            do { shape = try layer.outputShape(for: shape) } catch let e as ModelError {
                throw ModelError("\(e.message) (model: \(spec.text))")
            }
            // Activations are allocated per batch: keep one sample's below 2^24 values.
            var size = 1
            for d in shape {
                let (p, o) = size.multipliedReportingOverflow(by: d)
                guard !o, p <= 1 << 24 else {
                    throw ModelError("\(layer.name): output \(shapeText(shape)) is more than \(1 << 24) values per sample (model: \(spec.text))")
                }
                size = p
            }
            built.append(layer)
            shapes.append(shape)
        }
        while i < specs.count {
            let s = specs[i]
            counters[s.kind, default: 0] += 1
            let name = "\(s.kind)\(counters[s.kind]!)"
            let layer = try LayerFactory.make(s, name: name, inputShape: shape, rng: &rng)
            try append(layer)
            i += 1
            guard let w = layer as? WeightedLayer else { continue }
            let p = precision(name)
            var o = options
            o.seed = options.seed &+ optionIndex
            optionIndex += 1
            w.weightQuantizer = makeWeightQuantizer(p.weight, options: o)
            w.activationQuantizer = makeActivationQuantizer(p.activation, options: o)
            if p.weight == .binary && options.binaryConnect {
                w.weight.afterUpdate = { t in clipToUnitRange(&t) }
            }
            weighted.append(w)
            // The elementwise run that completes this layer's activation.
            let quantizeOutput = p.activation != .float && i - 1 != lastWeighted
            while i < specs.count && specs[i].isElementwise {
                let e = specs[i]
                counters[e.kind, default: 0] += 1
                i += 1
                if quantizeOutput && p.activation == .binary && (e == .relu || e == .hardTanh) { continue }
                try append(try LayerFactory.make(e, name: "\(e.kind)\(counters[e.kind]!)", inputShape: shape, rng: &rng))
            }
            if quantizeOutput { try append(QuantizeActivation(owner: w)) }
        }
        linkIntegerInputs(built)
        layers = built
        weightedLayers = weighted
        self.shapes = shapes
        acts = Array(repeating: Tensor(zeros: [0]), count: built.count + 1)
        grads = Array(repeating: Tensor(zeros: [0]), count: built.count + 1)
    }

    public var outputShape: [Int] { shapes.last ?? inputShape }

    /// Every trainable parameter, in layer order (optimizer state is keyed by position).
    public var parameters: [Parameter] {
        layers.flatMap { layer -> [Parameter] in
            var ps = (layer as? ParameterizedLayer)?.parameters ?? []
            if let q = layer as? QuantizeActivation { ps += q.owner.activationQuantizer.parameters }
            return ps
        }
    }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Gives the input buffer (batch × inputShape) to fill in place.
    public func withInput<R>(_ body: (inout Tensor) -> R) -> R { body(&acts[0]) }

    /// Runs every layer; returns the logits (batch × classes).
    @discardableResult
    public func forward(training: Bool) -> Tensor {
        for (i, layer) in layers.enumerated() {
            layer.forward(acts[i], into: &acts[i + 1], training: training)
        }
        return acts[layers.count]
    }

    /// The logits of the last forward pass.
    public var logits: Tensor { acts[layers.count] }

    /// Back-propagates ∂L/∂logits (filled in place through `withLogitGradient`).
    public func backward() {
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            layers[i].backward(input: acts[i], output: acts[i + 1], gradient: grads[i + 1],
                               into: &grads[i], needsInputGradient: i > 0)
        }
    }

    /// Gives the logit-gradient buffer to fill before `backward()`.
    public func withLogitGradient<R>(_ body: (inout Tensor) -> R) -> R { body(&grads[layers.count]) }

    /// A layer by name.
    public func layer(named name: String) -> Layer? { layers.first { $0.name == name } }

    /// Input shape seen by each weighted layer.
    public func inputShape(of layer: WeightedLayer) -> [Int] {
        guard let i = layers.firstIndex(where: { $0 === layer }) else { return [] }
        return i == 0 ? inputShape : shapes[i - 1]
    }

    /// One line per layer: name, spec, output shape, parameter count.
    public func summary() -> String {
        var lines: [String] = []
        lines.append(pad("layer", 12) + pad("spec", 22) + pad("output", 14) + "params")
        lines.append(pad("input", 12) + pad("", 22) + pad(shapeText(inputShape), 14))
        for (layer, shape) in zip(layers, shapes) {
            let params = (layer as? ParameterizedLayer)?.parameters.reduce(0) { $0 + $1.value.count } ?? 0
            lines.append(pad(layer.name, 12) + pad(layer.spec, 22) + pad(shapeText(shape), 14) + (params > 0 ? Quantity.grouped(params) : ""))
        }
        let total = parameters.reduce(0) { $0 + $1.value.count }
        let weighted = weightedLayers.reduce(0) { $0 + $1.parameters.reduce(0) { $0 + $1.value.count } }
        var last = "total parameters: \(Quantity.grouped(total))"
        if weighted != total {
            last += " (\(Quantity.grouped(weighted)) in conv and dense layers, which configurations quantize and cost counts; "
                + "\(Quantity.grouped(total - weighted)) batch-norm scales and shifts, kept float)"
        }
        lines.append(last)
        return lines.joined(separator: "\n")
    }
}

private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

/// BinaryConnect keeps latent weights in [−1, 1].
func clipToUnitRange(_ t: inout Tensor) {
    t.data.withUnsafeMutableBufferPointer { p in
        for i in p.indices { p[i] = min(1, max(-1, p[i])) }
    }
}
