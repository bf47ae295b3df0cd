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
    /// Conv and dense layers, in order (`conv1`, `conv2`, `dense1`, …), those of
    /// residual blocks included (main path, then shortcut).
    public let weightedLayers: [WeightedLayer]
    /// Per-sample output shape of every layer.
    public let shapes: [[Int]]
    private var acts: [Tensor]
    private var grads: [Tensor]
    /// Per layer: a ReLU whose backward the following MaxPool performs (`MaxPool.masksReLU`).
    private let reluMaskedByPool: [Bool]
    /// Per layer: the quantizer node that follows it when it is a ReLU (not the first
    /// layer) that `forward` may fuse with it (`reluQuantizerPairs`, IntegerForward.swift).
    private let fusedReLU: [QuantizeActivation?]
    /// Whether `forward` fuses those pairs (tests compare both ways; on by default).
    public var fusesReLUQuantizers = true
    /// Per layer: the conv → relu → maxpool 2 triple it starts (the pool masking the ReLU),
    /// which `forward` runs as one pass when the conv qualifies (`Conv2D.fusesReLUPool`).
    private let convReLUPool: [(conv: Conv2D, pool: MaxPool)?]
    /// Per layer: whether the last forward ran the triple it starts as one pass.
    private(set) var ranConvReLUPool: [Bool]
    /// Whether `forward` fuses those triples (tests compare both ways; on by default).
    public var fusesConvReLUPools = true
    /// Per layer (not the first): the relu → quantize → maxpool 2 or quantize → maxpool 2
    /// run it starts, which `forward` runs as one pass when the quantizer node accepts it
    /// (`QuantizeActivation.forwardPool2`: uniform after a ReLU, or sign; the quantized full
    /// planes are then not written) and `backward` from the pool's routes.
    private let quantPool: [QuantPoolRun?]
    /// Per layer: whether the last forward ran the run it starts as one pass.
    private(set) var ranQuantPool: [Bool]
    /// Whether `forward` fuses those runs (tests compare both ways; on by default).
    public var fusesQuantPools = true
    /// Whether `backward` gives a g8 conv below such a run the pooled gradient and routes
    /// rather than the unpooled dY (the same codes; tests compare both ways; on by default).
    public var g8FromRoutes = true

    /// Per weighted layer (same order): the index of the weighted layer whose
    /// activation is its input, nil for the network input. In a chain that is the
    /// previous weighted layer; the first layers of both paths of a residual block read
    /// the block input, and the layer after a block reads the block's output owner
    /// (see `ResidualBlock`). The cost model takes each layer's input bits from it.
    public let weightedInputSources: [Int?]
    private let weightedInputShapes: [[Int]]

    /// Builds the layers with freshly initialised weights drawn from `rng`.
    /// `precision(layerName)` gives each weighted layer's precision. The last weighted
    /// layer's activation precision is not applied when it produces the logits.
    /// Binary activations (`a1`) replace the layer's ReLU/HardTanh with sign (BinaryNet).
    /// Residual blocks: see `ModelBuilder` for names and where activations are quantized.
    public init(spec: ModelSpec, inputShape: [Int], precision: (String) -> LayerPrecision = { _ in .float },
                options: QuantizerOptions = QuantizerOptions(), rng: inout SplitMix64) throws {
        self.spec = spec
        self.inputShape = inputShape
        var inputSize = 1
        for d in inputShape {
            let (p, o) = inputSize.multipliedReportingOverflow(by: d)
            guard d >= 1, !o, p <= 1 << 24 else {
                throw ModelError("input \(shapeText(inputShape)): expected sizes ≥ 1 and at most \(1 << 24) values per sample")
            }
            inputSize = p
        }
        // The builder holds `precision` only while it runs.
        let (top, weighted, sources, inputShapes) = try withoutActuallyEscaping(precision) { precision in
            var builder = ModelBuilder(spec: spec, precision: precision, options: options)
            let top = try builder.chain(spec.layers, input: inputShape, source: nil, role: .top, rng: &rng)
            return (top, builder.weighted, builder.sources, builder.inputShapes)
        }
        linkIntegerInputs(top.layers)
        layers = top.layers
        weightedLayers = weighted
        weightedInputSources = sources
        weightedInputShapes = inputShapes
        shapes = top.shapes
        let chain = top.layers
        reluMaskedByPool = chain.indices.map { i in
            guard chain[i] is ReLU, i + 1 < chain.count, let pool = chain[i + 1] as? MaxPool else { return false }
            pool.masksReLU = true
            return true
        }
        fusedReLU = reluQuantizerPairs(top.layers)
        convReLUPool = chain.indices.map { i in
            guard i + 2 < chain.count, let conv = chain[i] as? Conv2D, chain[i + 1] is ReLU,
                  let pool = chain[i + 2] as? MaxPool, pool.masksReLU else { return nil }
            return (conv, pool)
        }
        ranConvReLUPool = Array(repeating: false, count: chain.count)
        quantPool = chain.indices.map { i in
            guard i > 0 else { return nil }
            if chain[i] is ReLU, i + 2 < chain.count, let q = chain[i + 1] as? QuantizeActivation,
               let pool = chain[i + 2] as? MaxPool {
                return QuantPoolRun(quantize: q, pool: pool, afterReLU: true, next: i + 3 < chain.count ? chain[i + 3] as? Conv2D : nil)
            }
            if let q = chain[i] as? QuantizeActivation, i + 1 < chain.count, let pool = chain[i + 1] as? MaxPool {
                return QuantPoolRun(quantize: q, pool: pool, afterReLU: false, next: i + 2 < chain.count ? chain[i + 2] as? Conv2D : nil)
            }
            return nil
        }
        ranQuantPool = Array(repeating: false, count: chain.count)
        for (i, run) in quantPool.enumerated() where run?.afterReLU == true {
            (chain[i - 1] as? Conv2D)?.reducesOutputMaximum = true
        }
        acts = Array(repeating: Tensor(zeros: [0]), count: layers.count + 1)
        grads = Array(repeating: Tensor(zeros: [0]), count: layers.count + 1)
    }

    public var outputShape: [Int] { shapes.last ?? inputShape }

    /// Every trainable parameter, in layer order (optimizer state is keyed by position).
    public var parameters: [Parameter] { trainableParameters(layers) }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Gives the input buffer (batch × inputShape) to fill in place.
    public func withInput<R>(_ body: (inout Tensor) -> R) -> R { body(&acts[0]) }

    /// Runs every layer; returns the logits (batch × classes). A ReLU followed by a
    /// uniform activation quantizer runs as one pass (`fusedReLU`; the ReLU's output
    /// buffer is then not written), and so does a conv → relu → maxpool 2 triple
    /// (`convReLUPool`; neither the conv's nor the ReLU's output buffer is written), and
    /// so does a [relu →] quantize → maxpool 2 run (`quantPool`; only the pooled output
    /// is written).
    @discardableResult
    public func forward(training: Bool) -> Tensor {
        for j in ranConvReLUPool.indices { ranConvReLUPool[j] = false; ranQuantPool[j] = false }
        var i = 0
        while i < layers.count {
            if fusesConvReLUPools, let (conv, pool) = convReLUPool[i], conv.fusesReLUPool(pool, input: acts[i]) {
                conv.forwardReLUPool(acts[i], pool: pool, into: &acts[i + 3], training: training)
                ranConvReLUPool[i] = true
                i += 3
                continue
            }
            // A conv below a quantize-pool run may run it in its integer forward's epilogue.
            if fusesQuantPools, i + 1 < layers.count, let run = quantPool[i + 1], let conv = layers[i] as? Conv2D {
                var pooled = Tensor(zeros: [0])
                swap(&pooled, &acts[i + 1 + run.span])
                let ran = conv.forward(acts[i], into: &acts[i + 1], training: training, quantPool: run.integer, pooled: &pooled)
                swap(&pooled, &acts[i + 1 + run.span])
                ranQuantPool[i + 1] = ran
                i += ran ? 1 + run.span : 1
                continue
            }
            // The conv below, run just before, reduced its output's maximum for the clip.
            if fusesQuantPools, let run = quantPool[i],
               run.quantize.forwardPool2(acts[i], afterReLU: run.afterReLU, pool: run.pool, into: &acts[i + run.span],
                                         training: training, maximum: (layers[i - 1] as? Conv2D)?.lastOutputMaximum,
                                         codesFor: run.next) {
                ranQuantPool[i] = true
                i += run.span
                continue
            }
            if fusesReLUQuantizers, let q = fusedReLU[i], q.forwardAfterReLU(acts[i], into: &acts[i + 2], training: training) {
                i += 2
                continue
            }
            layers[i].forward(acts[i], into: &acts[i + 1], training: training)
            i += 1
        }
        return acts[layers.count]
    }

    /// The logits of the last forward pass.
    public var logits: Tensor { acts[layers.count] }

    /// Back-propagates ∂L/∂logits (filled in place through `withLogitGradient`).
    public func backward() {
        var i = layers.count - 1
        while i >= 0 {
            if i >= 2, ranConvReLUPool[i - 2], let (conv, pool) = convReLUPool[i - 2] {
                conv.backwardFromRoutes(input: acts[i - 2], pool: pool, pooledGradient: grads[i + 1], into: &grads[i - 2],
                                      needsInputGradient: i > 2)
                i -= 3
                continue
            }
            if let s = fusedQuantPoolStart(endingAt: i), let run = quantPool[s] {
                // The layer below gets its output gradient from the pool's routes: a conv with
                // float gradients builds its dY columns from them, others read it in full.
                if let conv = layers[s - 1] as? Conv2D, conv.gradientQuantizer.precision == .float {
                    conv.backwardFromRoutes(input: acts[s - 1], pool: run.pool, pooledGradient: grads[i + 1],
                                            into: &grads[s - 1], needsInputGradient: s > 1)
                    i = s - 2
                } else if g8FromRoutes, let conv = layers[s - 1] as? Conv2D, conv.gradientQuantizer.precision == .int8 {
                    // A g8 conv takes its dY codes from the routes (the full dY is not written).
                    conv.backwardFromRoutesG8(input: acts[s - 1], routes: run.pool.routes, pooledGradient: grads[i + 1],
                                              into: &grads[s - 1], needsInputGradient: s > 1)
                    i = s - 2
                } else {
                    unpool(grads[i + 1], routes: run.pool.routes, into: &grads[s], shape: acts[s].shape)
                    i = s - 1
                }
                continue
            }
            if i > 0, let q = fusedReLU[i - 1], q.lastForwardAfterReLU {
                q.backwardAfterReLU(input: acts[i - 1], gradient: grads[i + 1], into: &grads[i - 1])
                i -= 2
                continue
            }
            if reluMaskedByPool[i] {
                // The pooling above already masked: the ReLU's input gradient is its
                // output gradient. A swap (both have the ReLU's shape) moves no data.
                if i > 0 { grads.swapAt(i, i + 1) }
                i -= 1
                continue
            }
            layers[i].backward(input: acts[i], output: acts[i + 1], gradient: grads[i + 1],
                               into: &grads[i], needsInputGradient: i > 0)
            i -= 1
        }
    }

    /// The first layer of the fused quantize-pool run that ends at layer `i`, if the last
    /// forward ran one.
    private func fusedQuantPoolStart(endingAt i: Int) -> Int? {
        for s in [i - 1, i - 2] where s >= 1 && ranQuantPool[s] {
            if let run = quantPool[s], s + run.span == i + 1 { return s }
        }
        return nil
    }

    /// dx [shape] = the pooled gradient dy at the corners `routes` names, +0 elsewhere.
    private func unpool(_ dy: Tensor, routes: [UInt8], into dx: inout Tensor, shape: [Int]) {
        precondition(shape.count == 4 && dy.count == routes.count && dy.count * 4 == shape.reduce(1, *),
                     "Sequential: pooled gradient \(dy.shape) does not match the last fused forward into \(shape)")
        dx.reshapeForOverwrite(shape)
        dy.data.withUnsafeBufferPointer { dp in
        routes.withUnsafeBufferPointer { rp in
        dx.data.withUnsafeMutableBufferPointer { xp in
            QuantKernels.unpool2(dp.baseAddress!, routes: rp.baseAddress!, planes: shape[0] * shape[1], height: shape[2],
                                 width: shape[3], into: xp.baseAddress!)
        } } }
    }

    /// Gives the logit-gradient buffer to fill before `backward()`.
    public func withLogitGradient<R>(_ body: (inout Tensor) -> R) -> R { body(&grads[layers.count]) }

    /// A layer by name, inside residual blocks too.
    public func layer(named name: String) -> Layer? { allLayers.first { $0.name == name } }

    /// Input shape seen by each weighted layer.
    public func inputShape(of layer: WeightedLayer) -> [Int] {
        guard let i = weightedLayers.firstIndex(where: { $0 === layer }) else { return [] }
        return weightedInputShapes[i]
    }

    /// One line per layer: name, spec, output shape, parameter count; the layers of a
    /// residual block indented below it, its add last.
    public func summary() -> String {
        var lines: [String] = []
        lines.append(pad("layer", 12) + pad("spec", 22) + pad("output", 14) + "params")
        lines.append(pad("input", 12) + pad("", 22) + pad(shapeText(inputShape), 14))
        func line(_ layer: Layer, _ shape: [Int], indent: String) {
            let params = (layer as? ParameterizedLayer)?.parameters.reduce(0) { $0 + $1.value.count } ?? 0
            lines.append(pad(indent + layer.name, 12) + pad(layer.spec, 22) + pad(shapeText(shape), 14) + (params > 0 ? Quantity.grouped(params) : ""))
        }
        for (layer, shape) in zip(layers, shapes) {
            guard let block = layer as? ResidualBlock else { line(layer, shape, indent: ""); continue }
            lines.append(pad(block.name, 12) + (block.shortcut.isEmpty ? "res, identity shortcut" : "res, shortcut"))
            for (l, s) in zip(block.main, block.mainShapes) { line(l, s, indent: "  ") }
            for (l, s) in zip(block.shortcut, block.shortcutShapes) { line(l, s, indent: "  ") }
            lines.append(pad("  add", 12) + pad(block.shortcut.isEmpty ? "main + input" : "main + shortcut", 22) + shapeText(shape))
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

/// A [relu →] quantize → maxpool 2 run of layers that `Sequential` may run as one pass.
private struct QuantPoolRun {
    let quantize: QuantizeActivation, pool: MaxPool
    /// Whether a ReLU leads (uniform quantizers; sign quantizers have none).
    let afterReLU: Bool
    /// The conv after the pool, which may take its input codes from the run.
    let next: Conv2D?
    var span: Int { afterReLU ? 3 : 2 }
    /// The run as the conv below it takes it into its integer forward.
    var integer: IntegerQuantPool { IntegerQuantPool(quantize: quantize, pool: pool, afterReLU: afterReLU, next: next) }
}

private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

/// BinaryConnect keeps latent weights in [−1, 1].
func clipToUnitRange(_ t: inout Tensor) {
    t.data.withUnsafeMutableBufferPointer { p in
        for i in p.indices { p[i] = min(1, max(-1, p[i])) }
    }
}
