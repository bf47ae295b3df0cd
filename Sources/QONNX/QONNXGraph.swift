import Foundation

/// A tensor of the graph being built: its name and its shape, batch dimension included.
public struct QONNXTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
}

/// Builds an ONNX graph node by node: initializers, nodes, and a `ValueInfo` with the
/// shape of every tensor a node produces (qonnx's executor requires them all).
///
/// The exporter walks a model's graph (`Sequential.nodes`) and calls one method per
/// node; a residual block exports as its two paths from the same input tensor followed
/// by `join(_:_:)`, an ONNX `Add`.
struct QONNXGraph {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private(set) var valueInfos: [Onnx_ValueInfoProto] = []
    private var used = Set<String>()

    /// `base`, or `base_2`, `base_3`, … when taken: tensor names are unique.
    mutating func unique(_ base: String) -> String {
        var name = base, k = 1
        while used.contains(name) { k += 1; name = "\(base)_\(k)" }
        used.insert(name)
        return name
    }

    /// A float32 initializer (values little-endian in `raw_data`).
    @discardableResult
    mutating func constant(_ name: String, _ values: [Float], shape: [Int]) -> QONNXTensor {
        precondition(values.count == shape.reduce(1, *), "QONNXGraph.constant \(name): \(values.count) values for shape \(shape)")
        var t = Onnx_TensorProto()
        t.name = unique(name)
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        t.rawData = data
        initializers.append(t)
        return QONNXTensor(name: t.name, shape: shape)
    }

    /// An int64 initializer of shape [count] (Slice's and Pad's index inputs).
    mutating func int64s(_ name: String, _ values: [Int]) -> QONNXTensor {
        var t = Onnx_TensorProto()
        t.name = unique(name)
        t.dims = [Int64(values.count)]
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        var data = Data(capacity: values.count * 8)
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { data.append(contentsOf: $0) } }
        t.rawData = data
        initializers.append(t)
        return QONNXTensor(name: t.name, shape: [values.count])
    }

    /// A scalar float32 initializer.
    mutating func scalar(_ name: String, _ value: Float) -> QONNXTensor { constant(name, [value], shape: []) }

    /// Appends a node with one output of `shape`, named `output` (made unique).
    @discardableResult
    mutating func node(_ op: String, _ inputs: [QONNXTensor?], output: String, shape: [Int],
                       domain: String = "", attributes: [Onnx_AttributeProto] = []) -> QONNXTensor {
        var n = Onnx_NodeProto()
        n.opType = op
        n.domain = domain
        n.name = unique(output + ".node")
        n.input = inputs.map { $0?.name ?? "" }
        let out = QONNXTensor(name: unique(output), shape: shape)
        n.output = [out.name]
        n.attribute = attributes
        nodes.append(n)
        valueInfos.append(Self.valueInfo(out))
        return out
    }

    /// The elementwise sum of two tensors of the same shape: the join of a residual block.
    mutating func join(_ a: QONNXTensor, _ b: QONNXTensor, name: String) -> QONNXTensor {
        precondition(a.shape == b.shape, "QONNXGraph.join \(name): shapes \(a.shape) and \(b.shape) differ")
        return node("Add", [a, b], output: name, shape: a.shape)
    }

    static func valueInfo(_ t: QONNXTensor) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = t.name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var shape = Onnx_TensorShapeProto()
        shape.dim = t.shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = Int64(d)
            return dim
        }
        tensorType.shape = shape
        v.type.tensorType = tensorType
        return v
    }

    /// Removes the value info of `t` (graph outputs carry their own).
    mutating func dropValueInfo(_ t: QONNXTensor) { valueInfos.removeAll { $0.name == t.name } }
}

/// ONNX attributes, by type.
enum Attribute {
    static func int(_ name: String, _ v: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(v); return a
    }
    static func ints(_ name: String, _ v: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = v.map(Int64.init); return a
    }
    static func float(_ name: String, _ v: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = v; return a
    }
    static func string(_ name: String, _ v: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(v.utf8); return a
    }
}
