import Tensors
import Quantization

extension PackedModel {
    /// Compiles the layers of `model` (built by `ModelArchive.load` from `container`)
    /// into steps. Weights come from the container's records: codes for the integer
    /// kernels, Q(W) rebuilt from them only for float-kernel layers. Layers with no
    /// packed kernel (average pooling, a BatchNorm between pooling and the next layer,
    /// > 8-bit activations, layers added to the model language later) run as the float
    /// path runs them, on floats.
    static func compile(_ model: Sequential, container c: QLMContainer, file: String) throws(ArchiveError) -> PackedModel {
        var steps: [InferenceStep] = []
        var layout = ActivationLayout.float(shape: model.inputShape)
        let layers = model.layers
        // Residual models: no packed kernels yet for a block's two paths and its add, and the
        // layers inside a block read integer codes their neighbours cache, so every layer runs
        // as the float path runs it, in order (the same numbers as the model's own forward).
        if layers.contains(where: { $0 is ResidualBlock }) {
            for (layer, shape) in zip(layers, model.shapes) { steps.append(FloatLayerStep(layer, output: .float(shape: shape))) }
            return PackedModel(inputShape: model.inputShape, steps: steps)
        }
        func toFloat() {
            if case .float = layout { return }
            let s = ToFloatStep(from: layout)
            steps.append(s)
            layout = s.output
        }
        func onFloats(_ layer: Layer, _ shape: [Int]) {
            toFloat()
            layout = .float(shape: shape)
            steps.append(FloatLayerStep(layer, output: layout))
        }
        var i = 0
        while i < layers.count {
            let layer = layers[i], shape = model.shapes[i]
            switch layer {
            case let w as WeightedLayer:
                i = try compileLinear(w, at: i, model: model, container: c, file: file, layout: &layout, steps: &steps)
                continue
            case let pool as MaxPool:
                if case .float = layout {
                    onFloats(pool, shape)
                } else {
                    let s = PackedMaxPool(name: pool.name, window: pool.window, input: layout)
                    steps.append(s)
                    layout = s.output
                }
            case is Flatten:
                // A dense layer reads codes and bits in their NHWC flattening (its weights are permuted).
                if case .float = layout { onFloats(layer, shape) }
                else if !(i + 1 < layers.count && layers[i + 1] is Dense) { onFloats(layer, shape) }
            case is Dropout:
                break                                           // the identity in evaluation
            case let q as QuantizeActivation:
                toFloat()
                layout = .float(shape: shape)
                steps.append(QuantizeFloatStep(name: q.name, quantizer: q.owner.activationQuantizer, output: layout))
            default:
                onFloats(layer, shape)
            }
            i += 1
        }
        toFloat()
        return PackedModel(inputShape: model.inputShape, steps: steps)
    }

    /// Compiles weighted layer `w` (at `index`) with the BatchNorm, ReLU, hard tanh and
    /// activation quantizer that follow it into one step; returns the next layer's index.
    private static func compileLinear(_ w: WeightedLayer, at index: Int, model: Sequential, container c: QLMContainer,
                                      file: String, layout: inout ActivationLayout,
                                      steps: inout [InferenceStep]) throws(ArchiveError) -> Int {
        let layers = model.layers
        let inShape = index == 0 ? model.inputShape : model.shapes[index - 1]
        let k = w.outputChannels
        var operations: [Epilogue.Operation] = []
        var j = index + 1
        scan: while j < layers.count {
            switch layers[j] {
            case let bn as BatchNorm:
                // As BatchNorm.forward in evaluation: a = γ · (1/√(σ² + ε)), y = a·(x − μ) + β.
                let a = (0..<bn.features).map { bn.gamma.value.data[$0] * (1 / (bn.runningVar[$0] + bn.eps).squareRoot()) }
                operations.append(.batchNorm(a: a, mean: bn.runningMean, beta: bn.beta.value.data))
            case is ReLU: operations.append(.relu)
            case is HardTanh: operations.append(.hardTanh)
            case is Dropout: break
            default: break scan
            }
            j += 1
        }
        var quantizer: ActivationQuantizer?
        if j < layers.count, let q = layers[j] as? QuantizeActivation, q.owner === w {
            quantizer = w.activationQuantizer
            j += 1
        }
        let outShape = model.shapes[j - 1]

        // What the epilogue writes.
        var out = ActivationLayout.float(shape: outShape)
        var output = Epilogue.Output.float
        var floatQuantizer: ActivationQuantizer?
        if let q = quantizer {
            if let u = q as? UniformActivationQuantizer, u.bits <= 8, let clip = u.clip, clip > 0, clip.isFinite {
                out = .codes(shape: outShape, grid: ActivationGrid(clip: clip, maxCode: u.maxCode))
                output = .codes(clip: clip, inverse: Float(u.maxCode) / clip, top: Float(u.maxCode))
            } else if q is BinaryActivationQuantizer {
                out = .bits(shape: outShape)
                output = .bits
            } else {
                floatQuantizer = q
            }
        }

        // The weights, as the file stores them.
        guard let record = c.record(w.name + ".weight") else {
            throw ArchiveError(.malformed, file: file, offset: nil, expected: "a record \(w.name).weight", found: "none")
        }
        let codes: WeightCodes?
        do {
            if case .packed(let p) = record.payload { codes = try p.codes() } else { codes = nil }
        } catch {
            throw ArchiveError(.malformed, file: file, offset: nil, expected: "valid codes in \(w.name).weight", found: error.description)
        }
        let geometry = (w as? Conv2D)?.geometry(inShape)
        let bias = w.bias?.value.data

        // Rows of the weight matrix: (channel, tap) for a conv, (channel, position) of
        // the input's flattening for a dense layer on codes or bits.
        let (channels, positions) = geometry.map { ($0.channels, $0.kernelH * $0.kernelW) } ?? channelsAndPositions(layout.shape)
        let rowLength = channels * positions
        let kernel: PackedLinear.Kernel
        var scale: [Float] = []
        switch layout {
        case let .codes(_, grid):
            if let codes, let maxW = PackedWeights.maxCode(codes.scheme),
               CPUDispatch.int8GEMMIsExact(maxA: grid.maxCode, maxB: maxW, k: rowLength) {
                kernel = .int8(PackedWeights.int8Codes(codes.codes, filters: k, channels: channels, positions: positions))
                // s_x · s_w[k], as the training path's integer forward multiplies them.
                scale = PackedWeights.rowScales(codes.scales, filters: k).map { $0 * grid.step }
                break
            }
            fallthrough
        case .bits where codes?.scheme == .binary:
            if case .bits = layout, let codes {
                if let geometry {
                    kernel = .binaryConvolution(BinaryConvolution(codes: codes.codes, filters: k, geometry: geometry))
                } else {
                    kernel = .binary(PackedWeights.binaryFilters(codes.codes, filters: k, channels: channels, positions: positions))
                }
                scale = PackedWeights.rowScales(codes.scales, filters: k)
                break
            }
            fallthrough
        default:
            if case .float = layout {} else {
                let s = ToFloatStep(from: layout)
                steps.append(s)
                layout = s.output
            }
            let values: [Float]
            do { values = try record.values() } catch {
                throw ArchiveError(.malformed, file: file, offset: nil, expected: "valid codes in \(w.name).weight", found: error.description)
            }
            kernel = .float(values)
        }
        var epilogue = Epilogue(channels: k)
        epilogue.scale = scale
        if case .float = kernel, geometry == nil {
            epilogue.bias = bias ?? []                 // added by the GEMM (beta 1), as Dense does
        } else {
            epilogue.bias = bias ?? [Float](repeating: 0, count: k)
        }
        epilogue.operations = operations
        epilogue.output = output
        steps.append(PackedLinear(name: w.name, geometry: geometry, input: layout, output: out, filters: k,
                                  kernel: kernel, epilogue: epilogue))
        layout = out
        if let q = floatQuantizer {
            steps.append(QuantizeFloatStep(name: w.name + ".act", quantizer: q, output: out))
        }
        return j
    }
}
