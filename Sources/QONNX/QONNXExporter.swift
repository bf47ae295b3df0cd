import Foundation
import SwiftProtobuf
import Networks
import Quantization

/// Writes a trained `Sequential` as QONNX: ONNX (IR version 8, opset 13) with the
/// quantizers as qonnx's `Quant` and `BipolarQuant` nodes (domain
/// `qonnx.custom_op.general`, version 1), for FINN, hls4ml, qonnx and onnxruntime.
///
/// The graph, batch dimension fixed to 1 (FINN's convention; change it with qonnx's
/// `ModelWrapper.set_tensor_shape`):
/// ```
/// input  float32 [1, C, H, W]: raw values as stored (pixels 0…255 for byte images;
///        annotated UINT8 for FINN)
/// Mul(input, input.scale) → Add(·, input.bias)      the training normalisation:
///        scale[c] = u/σ[c], bias[c] = −μ[c]/σ[c], u = 1/255 for byte images, 1 for float data
/// then, layer by layer:
///   conv   Quant/BipolarQuant(weight) → Conv(x, Wq, bias)  kernel_shape, strides, pads
///   dense  [Flatten(axis 1)] → Gemm(x, Wq, bias, transB=1)
///   bn     BatchNormalization(epsilon)     relu  Relu      htanh  Clip(−1, 1)
///   maxpool MaxPool    avgpool AveragePool   flatten Flatten   dropout  (nothing)
///   gap    GlobalAveragePool → Flatten       pad F sS  Slice(steps S) → Pad(channels to F, 0)
///   res(MAIN ; SHORTCUT)  both paths from the block input, then Add(main, shortcut or input)
///   activation quantizer  Quant(x, c/(2^k−1), 0, k; signed=0 narrow=0)  or  BipolarQuant(x, 1)
/// output "logits" [1, classes]
/// ```
/// Weight quantizers, as qonnx defines its ops (`Quant`: y = s·(round(clamp(x/s + z,
/// min, max)) − z), round half to even; `BipolarQuant`: y = s·(x ≥ 0 ? 1 : −1)):
/// - k-bit: `Quant`, signed=1, narrow=1 (codes −(2^(k−1)−1)…2^(k−1)−1), scale s per
///   tensor or per output channel ([K,1,1,1] for conv, [K,1] for dense), zero point 0;
/// - ternary: `Quant` with bit width 2, signed, narrow (codes −1, 0, 1), scale α;
/// - binary: `BipolarQuant` with scale α (XNOR-Net, per output channel) or 1 (BinaryConnect).
/// The weight initializer holds Q(w) itself (codes × scale, as quantlab computes it), so
/// each Quant node gives back exactly the weights quantlab used; qonnx's weight folding
/// (`FoldQuantWeights`) turns them into integer codes and scales. A zero scale (an
/// all-zero tensor) is written as 1: its codes are all 0 either way.
public enum QONNXExporter {
    public static let irVersion: Int64 = 8
    public static let opsetVersion: Int64 = 13
    public static let qonnxDomain = "qonnx.custom_op.general"

    /// What the exporter needs besides the model: how the input was normalised in training.
    public struct Input: Sendable {
        public var mean: [Float]
        public var std: [Float]
        /// True for byte images (pixels 0…255, scaled by 1/255 before normalising).
        public var bytes: Bool
        public init(mean: [Float], std: [Float], bytes: Bool) { self.mean = mean; self.std = std; self.bytes = bytes }
    }

    public struct ExportError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The QONNX model of `model`.
    static func model(_ model: Sequential, input: Input, classNames: [String]? = nil,
                      name: String = "quantlab") throws -> Onnx_ModelProto {
        var g = QONNXGraph()
        let channels = model.inputShape.count == 3 ? model.inputShape[0] : model.inputShape.reduce(1, *)
        guard input.mean.count == channels, input.std.count == channels else {
            throw ExportError(description: "the normalisation has \(input.mean.count) channels, the model's input \(channels)")
        }
        let x = QONNXTensor(name: g.unique("input"), shape: [1] + model.inputShape)
        let normalized = normalize(x, input, &g)
        // The model as a graph: a residual block's two paths read the same tensor and
        // end in an Add (`Sequential.nodes` lists every node after its inputs).
        var outputs: [QONNXTensor] = []
        for node in model.nodes {
            let inputs = node.inputs.map { $0 == ModelNode.modelInput ? normalized : outputs[$0] }
            switch node.operation {
            case .layer(let layer):
                outputs.append(try emit(layer, inputs[0], &g))
            case .add:
                outputs.append(g.join(inputs[0], inputs[1], name: (node.block?.name ?? "res") + ".add"))
            }
        }
        var t = outputs.last ?? normalized
        // The output must be a node's own output (a model ending in dropout, or one with
        // no layers, ends on a tensor another node made or on the input).
        if g.nodes.last?.output.first != t.name {
            t = g.node("Identity", [t], output: "output", shape: t.shape)
        }

        var graph = Onnx_GraphProto()
        graph.name = name
        graph.initializer = g.initializers
        graph.input = [QONNXGraph.valueInfo(x)]
        // The last tensor is the output; rename it "logits".
        var nodes = g.nodes
        let last = nodes.count - 1
        nodes[last].output = ["logits"]
        graph.node = nodes
        var outputInfo = QONNXGraph.valueInfo(QONNXTensor(name: "logits", shape: t.shape))
        outputInfo.docString = "class scores (logits) of \(classNames.map { $0.joined(separator: ", ") } ?? "\(t.shape.last ?? 0) classes")"
        graph.output = [outputInfo]
        graph.valueInfo = g.valueInfos.filter { $0.name != t.name }
        if input.bytes {
            var annotation = Onnx_TensorAnnotation()
            annotation.tensorName = x.name
            var dt = Onnx_StringStringEntryProto()
            dt.key = "finn_datatype"; dt.value = "UINT8"
            annotation.quantParameterTensorNames = [dt]
            graph.quantizationAnnotation = [annotation]
        }

        var m = Onnx_ModelProto()
        m.irVersion = irVersion
        m.producerName = "quantlab"
        m.modelVersion = 1
        m.docString = "quantlab model \(model.spec.text); input \(shapeText(model.inputShape)), raw values as stored"
            + (input.bytes ? " (pixels 0…255)" : "") + ", normalised by the graph's first nodes"
        var std = Onnx_OperatorSetIdProto(); std.domain = ""; std.version = opsetVersion
        var qonnx = Onnx_OperatorSetIdProto(); qonnx.domain = qonnxDomain; qonnx.version = 1
        m.opsetImport = [std, qonnx]
        if let classNames {
            var p = Onnx_StringStringEntryProto(); p.key = "class_names"; p.value = classNames.joined(separator: "\n")
            m.metadataProps = [p]
        }
        m.graph = graph
        return m
    }

    /// Serialises `model(…)` to `path` (atomically).
    public static func write(_ model: Sequential, input: Input, classNames: [String]? = nil, to path: String) throws {
        let bytes = try self.model(model, input: input, classNames: classNames).serializedData()
        try bytes.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Mul and Add with the per-channel constants fillBatch uses (x·(u/σ) + (−μ/σ)).
    static func normalize(_ x: QONNXTensor, _ input: Input, _ g: inout QONNXGraph) -> QONNXTensor {
        let unit: Float = input.bytes ? 1 / 255 : 1
        let c = input.mean.count
        let scale = (0..<c).map { unit / input.std[$0] }
        let bias = (0..<c).map { -input.mean[$0] / input.std[$0] }
        let shape = x.shape.count == 4 ? [1, c, 1, 1] : [1, c]
        let s = g.constant("input.scale", scale, shape: shape)
        let b = g.constant("input.bias", bias, shape: shape)
        let scaled = g.node("Mul", [x, s], output: "input.scaled", shape: x.shape)
        return g.node("Add", [scaled, b], output: "input.normalized", shape: x.shape)
    }

    /// The nodes of one layer, from tensor `x`; returns the layer's output tensor.
    static func emit(_ layer: Layer, _ x: QONNXTensor, _ g: inout QONNXGraph) throws -> QONNXTensor {
        let n = layer.name
        let outShape = try [x.shape[0]] + layer.outputShape(for: Array(x.shape.dropFirst()))
        switch layer {
        case let conv as Conv2D:
            let w = try quantizedWeight(conv, [conv.filters, 1, 1, 1], &g)
            let attrs = [Attribute.ints("kernel_shape", [conv.kernel, conv.kernel]), Attribute.ints("strides", [conv.stride, conv.stride]),
                         Attribute.ints("pads", [conv.padding, conv.padding, conv.padding, conv.padding]),
                         Attribute.ints("dilations", [1, 1]), Attribute.int("group", 1)]
            let bias = conv.bias.map { g.constant(n + ".bias", $0.value.data, shape: [conv.filters]) }
            return g.node("Conv", [x, w] + (bias.map { [$0] } ?? []), output: n, shape: outShape, attributes: attrs)
        case let dense as Dense:
            var input = x
            if x.shape.count > 2 {
                input = g.node("Flatten", [x], output: n + ".flat", shape: [x.shape[0], dense.inputFeatures], attributes: [Attribute.int("axis", 1)])
            }
            let w = try quantizedWeight(dense, [dense.outputFeatures, 1], &g)
            let bias = dense.bias.map { g.constant(n + ".bias", $0.value.data, shape: [dense.outputFeatures]) }
            return g.node("Gemm", [input, w] + (bias.map { [$0] } ?? []), output: n, shape: outShape,
                          attributes: [Attribute.int("transB", 1)])
        case let bn as BatchNorm:
            let inputs = [x, g.constant(n + ".gamma", bn.gamma.value.data, shape: [bn.features]),
                          g.constant(n + ".beta", bn.beta.value.data, shape: [bn.features]),
                          g.constant(n + ".running_mean", bn.runningMean, shape: [bn.features]),
                          g.constant(n + ".running_var", bn.runningVar, shape: [bn.features])]
            return g.node("BatchNormalization", inputs, output: n, shape: outShape, attributes: [Attribute.float("epsilon", bn.eps)])
        case is ReLU:
            return g.node("Relu", [x], output: n, shape: outShape)
        case is HardTanh:
            return g.node("Clip", [x, g.scalar(n + ".min", -1), g.scalar(n + ".max", 1)], output: n, shape: outShape)
        case let pool as MaxPool:
            return g.node("MaxPool", [x], output: n, shape: outShape, attributes: poolAttributes(pool.window))
        case let pool as AvgPool:
            return g.node("AveragePool", [x], output: n, shape: outShape, attributes: poolAttributes(pool.window))
        case is Flatten:
            return g.node("Flatten", [x], output: n, shape: outShape, attributes: [Attribute.int("axis", 1)])
        case is GlobalAvgPool:
            // GlobalAveragePool keeps the plane as 1×1; quantlab's gap gives N×C.
            let pooled = g.node("GlobalAveragePool", [x], output: n + ".pool", shape: Array(x.shape.prefix(2)) + [1, 1])
            return g.node("Flatten", [pooled], output: n, shape: outShape, attributes: [Attribute.int("axis", 1)])
        case let pad as ChannelPad:
            // Option A shortcut: every S-th row and column (Slice with steps), then zero
            // channels after the kept ones (Pad, constant 0).
            var y = x
            if pad.stride > 1 {
                let axes = [2, 3], s = pad.stride
                y = g.node("Slice", [x, g.int64s(n + ".starts", [0, 0]), g.int64s(n + ".ends", [x.shape[2], x.shape[3]]),
                                     g.int64s(n + ".axes", axes), g.int64s(n + ".steps", [s, s])],
                           output: n + ".subsample", shape: [x.shape[0], x.shape[1], outShape[2], outShape[3]])
            }
            if pad.channels > x.shape[1] {
                y = g.node("Pad", [y, g.int64s(n + ".pads", [0, 0, 0, 0, 0, pad.channels - x.shape[1], 0, 0])],
                           output: n, shape: outShape, attributes: [Attribute.string("mode", "constant")])
            }
            return y
        case is Dropout:
            return x                                         // the identity in evaluation
        case let q as QuantizeActivation:
            return try activationQuant(q.owner.activationQuantizer, x, name: q.owner.name + ".act", &g)
        default:
            throw ExportError(description: "\(n) (\(layer.spec)): no QONNX export for this layer kind")
        }
    }

    static func poolAttributes(_ w: PoolWindow) -> [Onnx_AttributeProto] {
        [Attribute.ints("kernel_shape", [w.size, w.size]), Attribute.ints("strides", [w.stride, w.stride]),
         Attribute.ints("pads", [0, 0, 0, 0])]
    }

    /// The weight as the layer uses it: the float initializer for w32, else Q(w) behind
    /// a Quant / BipolarQuant node. `channelShape` is the shape of per-channel scales.
    static func quantizedWeight(_ layer: WeightedLayer, _ channelShape: [Int], _ g: inout QONNXGraph) throws -> QONNXTensor {
        let value = layer.weight.value
        let name = layer.name + ".weight"
        guard let codes = value.data.withUnsafeBufferPointer({
            layer.weightQuantizer.codes($0.baseAddress!, count: value.count, channels: layer.outputChannels)
        }) else {
            return g.constant(name, value.data, shape: value.shape)
        }
        let w = g.constant(name, codes.dequantized(), shape: value.shape)
        let scales = codes.scales.map { $0 == 0 || !$0.isFinite ? 1 : $0 }
        let scale = scales.count == 1 ? g.scalar(name + ".scale", scales[0]) : g.constant(name + ".scale", scales, shape: channelShape)
        switch codes.scheme {
        case .binary:
            return g.node("BipolarQuant", [w, scale], output: name + "_q", shape: value.shape, domain: qonnxDomain)
        case .ternary, .uniform:
            let bits = codes.bits
            return g.node("Quant", [w, scale, g.scalar(name + ".zero_point", 0), g.scalar(name + ".bit_width", Float(bits))],
                          output: name + "_q", shape: value.shape, domain: qonnxDomain,
                          attributes: [Attribute.int("signed", 1), Attribute.int("narrow", 1), Attribute.string("rounding_mode", "ROUND")])
        }
    }

    /// The activation quantizer that completes a layer's output.
    static func activationQuant(_ q: ActivationQuantizer, _ x: QONNXTensor, name: String, _ g: inout QONNXGraph) throws -> QONNXTensor {
        switch q.precision {
        case .float:
            return x
        case .binary:
            return g.node("BipolarQuant", [x, g.scalar(name + ".scale", 1)], output: name, shape: x.shape, domain: qonnxDomain)
        case .bits(let k):
            guard let c = q.clip, c > 0, c.isFinite else {
                throw ExportError(description: "\(name): the \(k)-bit activation has no positive clip (\(q.clip.map { "\($0)" } ?? "never trained")); train the configuration first")
            }
            let step = c / Float((1 << k) - 1)            // c/L, as UniformActivationQuantizer's step
            return g.node("Quant", [x, g.scalar(name + ".scale", step), g.scalar(name + ".zero_point", 0), g.scalar(name + ".bit_width", Float(k))],
                          output: name, shape: x.shape, domain: qonnxDomain,
                          attributes: [Attribute.int("signed", 0), Attribute.int("narrow", 0), Attribute.string("rounding_mode", "ROUND")])
        case .ternary:
            throw ExportError(description: "\(name): ternary activations are not defined")
        }
    }
}
