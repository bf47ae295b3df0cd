import Foundation
import Testing
import SwiftProtobuf
import Networks
import Quantization
import Tensors
@testable import QONNX

/// The QONNX graph of small models, decoded from the bytes the exporter writes. What
/// qonnx's executor and onnxruntime compute on such graphs is checked end to end by
/// scripts/test-qonnx.sh.
@Suite struct QONNXExporterTests {
    static func model(_ spec: String, _ precision: String, input: [Int] = [1, 6, 6]) throws -> Sequential {
        var rng = SplitMix64(seed: 7)
        let p = LayerPrecision(precision)!
        let m = try Sequential(spec: ModelSpec(parsing: spec), inputShape: input, precision: { _ in p }, rng: &rng)
        for w in m.weightedLayers where w.activationQuantizer.precision != .float { w.activationQuantizer.clip = 1.5 }
        return m
    }

    static func decode(_ m: Sequential, bytes: Bool = true) throws -> Onnx_ModelProto {
        let c = m.inputShape.count == 3 ? m.inputShape[0] : m.inputShape.reduce(1, *)
        let proto = try QONNXExporter.model(m, input: .init(mean: [Float](repeating: 0.25, count: c), std: [Float](repeating: 0.5, count: c), bytes: bytes),
                                            classNames: ["a", "b", "c"])
        return try Onnx_ModelProto(serializedBytes: try proto.serializedBytes() as [UInt8])
    }

    static func floats(_ t: Onnx_TensorProto) -> [Float] {
        stride(from: 0, to: t.rawData.count, by: 4).map { i in
            Float(bitPattern: t.rawData[i..<(i + 4)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) })
        }
    }

    @Test func w4a4GraphHasQuantNodesWithQuantlabsValues() throws {
        let m = try Self.model("conv 4 k3 | bn | relu | maxpool 2 | dense 3", "w4a4")
        let p = try Self.decode(m)
        #expect(p.irVersion == 8)
        #expect(p.opsetImport.map { "\($0.domain):\($0.version)" } == [":13", "qonnx.custom_op.general:1"])
        let g = p.graph
        #expect(g.node.map(\.opType) == ["Mul", "Add", "Quant", "Conv", "BatchNormalization", "Relu", "Quant", "MaxPool",
                                         "Flatten", "Quant", "Gemm"])
        #expect(g.input.map(\.name) == ["input"] && g.output.map(\.name) == ["logits"])
        #expect(g.input[0].type.tensorType.shape.dim.map(\.dimValue) == [1, 1, 6, 6])
        #expect(g.output[0].type.tensorType.shape.dim.map(\.dimValue) == [1, 3])
        let inits = Dictionary(uniqueKeysWithValues: g.initializer.map { ($0.name, $0) })
        // Normalisation: x·(1/255/σ) − μ/σ.
        #expect(Self.floats(inits["input.scale"]!) == [Float(1) / 255 / 0.5])
        #expect(Self.floats(inits["input.bias"]!) == [-0.5])
        // Weights: the initializer is Q(w), the Quant node 4-bit signed narrow with quantlab's scale.
        let conv = m.weightedLayers[0]
        let codes = conv.weightQuantizer.codes(conv.weight.value.data, channels: conv.outputChannels)!
        #expect(Self.floats(inits["conv1.weight"]!) == codes.dequantized())
        #expect(Self.floats(inits["conv1.weight.scale"]!) == codes.scales)
        #expect(Self.floats(inits["conv1.weight.bit_width"]!) == [4])
        let wq = g.node[2]
        #expect(wq.domain == "qonnx.custom_op.general")
        #expect(wq.input == ["conv1.weight", "conv1.weight.scale", "conv1.weight.zero_point", "conv1.weight.bit_width"])
        #expect(wq.attribute.map { "\($0.name)=\($0.i)" }.prefix(2) == ["signed=1", "narrow=1"])
        // Activation: unsigned 4-bit, scale c/15.
        let aq = g.node[6]
        #expect(aq.input[0] == "relu1" && aq.attribute.map { "\($0.name)=\($0.i)" }.prefix(2) == ["signed=0", "narrow=0"])
        #expect(Self.floats(inits["conv1.act.scale"]!) == [Float(1.5) / 15])
        // Every tensor a node makes has a shape, except the output which carries its own.
        let shaped = Set(g.valueInfo.map(\.name) + ["logits"])
        #expect(g.node.flatMap(\.output).allSatisfy(shaped.contains))
        #expect(g.quantizationAnnotation.first?.quantParameterTensorNames.first?.value == "UINT8")
        #expect(p.metadataProps.first?.value == "a\nb\nc")
    }

    @Test func binaryAndTernaryWeights() throws {
        let b = try Self.decode(try Self.model("dense 5 | relu | dense 3", "w1a1", input: [4]))
        #expect(b.graph.node.map(\.opType) == ["Mul", "Add", "BipolarQuant", "Gemm", "BipolarQuant", "BipolarQuant", "Gemm"])
        // XNOR-Net: one α per output row, shape [5, 1].
        #expect(b.graph.initializer.first { $0.name == "dense1.weight.scale" }!.dims == [5, 1])
        let t = try Self.decode(try Self.model("dense 5 | relu | dense 3", "wta8", input: [4]))
        let quant = t.graph.node.filter { $0.opType == "Quant" }
        #expect(quant.count == 3)
        #expect(Self.floats(t.graph.initializer.first { $0.name == "dense1.weight.bit_width" }!) == [2])
        let f = try Self.decode(try Self.model("dense 5 | htanh | dropout 0.5 | dense 3", "w32a32", input: [4]), bytes: false)
        #expect(f.graph.node.map(\.opType) == ["Mul", "Add", "Gemm", "Clip", "Gemm"])
        #expect(f.graph.quantizationAnnotation.isEmpty)
    }

    @Test func untrainedActivationIsAnError() throws {
        var rng = SplitMix64(seed: 1)
        let m = try Sequential(spec: ModelSpec(parsing: "dense 4 | relu | dense 2"), inputShape: [3],
                               precision: { _ in LayerPrecision("w8a8")! }, rng: &rng)
        #expect(throws: QONNXExporter.ExportError.self) {
            try QONNXExporter.model(m, input: .init(mean: [0, 0, 0], std: [1, 1, 1], bytes: false))
        }
    }

    static func ints(_ t: Onnx_TensorProto) -> [Int64] {
        stride(from: 0, to: t.rawData.count, by: 8).map { i in
            Int64(bitPattern: t.rawData[i..<(i + 8)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) })
        }
    }

    /// Residual blocks export as their two paths from one tensor and an Add: identity,
    /// 1×1 projection (with its BatchNorm) and option-A `pad` shortcuts, then gap.
    @Test func residualBlocksExportAsBranchesAndAdd() throws {
        let spec = "conv 4 k3 nobias | bn | relu | res(conv 4 k3 nobias | bn | relu | conv 4 k3 nobias | bn) | relu"
            + " | res(conv 8 k3 s2 nobias | bn | relu | conv 8 k3 nobias | bn ; conv 8 k1 s2 nobias | bn) | relu"
            + " | res(conv 12 k3 s2 nobias | bn | relu | conv 12 k3 nobias | bn ; pad 12 s2) | relu | gap | dense 3"
        let m = try Self.model(spec, "w4a4", input: [1, 8, 8])
        let g = try Self.decode(m).graph
        let byOutput = Dictionary(uniqueKeysWithValues: g.node.map { ($0.output[0], $0) })
        let shape = Dictionary(uniqueKeysWithValues: g.valueInfo.map { ($0.name, $0.type.tensorType.shape.dim.map(\.dimValue)) })
        let adds = g.node.filter { $0.opType == "Add" && $0.name != "input.normalized.node" }
        #expect(adds.map { $0.output[0] } == ["res1.add", "res2.add", "res3.add"])
        // res1, identity: bn3 (main path) + the block input, conv1's quantized activation.
        #expect(adds[0].input == ["bn3", "conv1.act"])
        // Both paths of a block read the same tensor: the previous block's quantized output.
        #expect(byOutput["conv4"]!.input[0] == "conv3.act" && byOutput["shortcut1"]!.input[0] == "conv3.act")
        // res2, projection: bn5 + the shortcut's BatchNorm over a 1×1 stride-2 conv with 4-bit weights.
        #expect(adds[1].input == ["bn5", "bn6"] && byOutput["bn6"]!.input[0] == "shortcut1")
        let sc = byOutput["shortcut1"]!
        #expect(sc.attribute.first { $0.name == "kernel_shape" }!.ints == [1, 1] && sc.attribute.first { $0.name == "strides" }!.ints == [2, 2])
        #expect(byOutput[sc.input[1]]!.opType == "Quant")
        // The block output owner's activation is quantized after the add and the ReLU.
        #expect(byOutput["relu3"]!.input == ["res1.add"] && byOutput["conv3.act"]!.input[0] == "relu3")
        // res3, option A: Slice every 2nd row and column, Pad channels 8 → 12 with zeros.
        #expect(adds[2].input == ["bn8", "pad1"])
        let pad = byOutput["pad1"]!, slice = byOutput["pad1.subsample"]!
        #expect(pad.opType == "Pad" && pad.input[0] == "pad1.subsample" && slice.opType == "Slice" && slice.input[0] == "conv5.act")
        let inits = Dictionary(uniqueKeysWithValues: g.initializer.map { ($0.name, $0) })
        #expect(Self.ints(inits["pad1.pads"]!) == [0, 0, 0, 0, 0, 4, 0, 0])
        #expect(Self.ints(inits["pad1.steps"]!) == [2, 2] && Self.ints(inits["pad1.axes"]!) == [2, 3])
        #expect(shape["pad1.subsample"] == [1, 8, 2, 2] && shape["pad1"] == [1, 12, 2, 2] && shape["res3.add"] == [1, 12, 2, 2])
        // gap: GlobalAveragePool then Flatten, into the Gemm.
        #expect(byOutput["gap1.pool"]!.opType == "GlobalAveragePool" && shape["gap1.pool"] == [1, 12, 1, 1])
        #expect(byOutput["gap1"]!.opType == "Flatten" && shape["gap1"] == [1, 12])
        #expect(g.node.last!.opType == "Gemm" && g.node.last!.output == ["logits"])
        // Every weighted layer appears once; node inputs are defined before use.
        var defined = Set(g.initializer.map(\.name) + ["input"])
        for n in g.node {
            #expect(n.input.allSatisfy { $0.isEmpty || defined.contains($0) }, "\(n.name) reads an undefined tensor")
            defined.formUnion(n.output)
        }
        #expect(Set(m.weightedLayers.map { $0.name + ".weight" }).isSubset(of: Set(g.initializer.map(\.name))))
    }

    /// A float shortcut inside a binary network (Hybrid-Net): its weights stay a plain
    /// initializer, the main path's weights and the join's activation are bipolar.
    @Test func floatShortcutInBinaryNetwork() throws {
        var rng = SplitMix64(seed: 3)
        let spec = "conv 4 k3 | bn | relu | res(conv 8 k3 s2 nobias | bn | relu | conv 8 k3 nobias | bn ; conv 8 k1 s2 nobias | bn) | relu | gap | dense 3"
        let m = try Sequential(spec: ModelSpec(parsing: spec), inputShape: [1, 8, 8],
                               precision: { $0.hasPrefix("shortcut") ? .float : LayerPrecision("w1a1")! }, rng: &rng)
        let g = try Self.decode(m).graph
        let byOutput = Dictionary(uniqueKeysWithValues: g.node.map { ($0.output[0], $0) })
        #expect(byOutput["shortcut1"]!.input[1] == "shortcut1.weight")
        #expect(byOutput["conv2"].map { byOutput[$0.input[1]]!.opType } == "BipolarQuant")
        #expect(byOutput["conv3.act"]!.opType == "BipolarQuant" && byOutput["conv3.act"]!.input == ["res1.add", "conv3.act.scale"])
    }

    /// The join of a residual block: an Add of two tensors of one shape, with its shape
    /// recorded.
    @Test func joinIsAnAddWithShape() {
        var g = QONNXGraph()
        let a = QONNXTensor(name: "a", shape: [1, 4, 3, 3]), b = QONNXTensor(name: "b", shape: [1, 4, 3, 3])
        let s = g.join(a, b, name: "res1.add")
        #expect(g.nodes.map(\.opType) == ["Add"] && g.nodes[0].input == ["a", "b"] && s.shape == [1, 4, 3, 3])
        #expect(g.valueInfos.map(\.name) == ["res1.add"])
    }
}
