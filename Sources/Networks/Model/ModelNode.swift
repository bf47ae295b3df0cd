/// One node of a model's dataflow graph, for code that walks the model as a graph
/// (exporters such as QONNX): a layer, or the add that ends a residual block.
public struct ModelNode {
    public enum Operation {
        case layer(Layer)
        /// y = inputs[0] + inputs[1] (main path + shortcut, or + the block input).
        case add
    }

    public let operation: Operation
    /// Indices of the nodes whose outputs this node reads; `ModelNode.modelInput` (−1)
    /// stands for the network input. A layer reads one, an add two.
    public let inputs: [Int]
    /// Per-sample output shape.
    public let shape: [Int]
    /// The residual block this node belongs to (nil at the top level).
    public let block: ResidualBlock?

    public static let modelInput = -1
}

extension Sequential {
    /// The model as a graph, in an order where every node follows its inputs. A chain
    /// gives one node per layer, each reading the one before. A residual block gives
    /// its main path's layers (the first reading the block input), then its shortcut's
    /// (likewise; none for the identity), then an `add` node reading the main path's
    /// last node and the shortcut's last node (or the block input); the layers after
    /// the block read the add. The last node gives the logits. `QuantizeActivation`
    /// nodes mark where activations are quantized (`owner` names the weighted layer).
    public var nodes: [ModelNode] {
        var out: [ModelNode] = []
        var last = ModelNode.modelInput
        func chain(_ layers: [Layer], _ shapes: [[Int]], from input: Int, block: ResidualBlock?) -> Int {
            var at = input
            for (l, s) in zip(layers, shapes) {
                out.append(ModelNode(operation: .layer(l), inputs: [at], shape: s, block: block))
                at = out.count - 1
            }
            return at
        }
        for (layer, shape) in zip(layers, shapes) {
            guard let b = layer as? ResidualBlock else {
                last = chain([layer], [shape], from: last, block: nil)
                continue
            }
            let m = chain(b.main, b.mainShapes, from: last, block: b)
            let s = chain(b.shortcut, b.shortcutShapes, from: last, block: b)
            out.append(ModelNode(operation: .add, inputs: [m, s], shape: shape, block: b))
            last = out.count - 1
        }
        return out
    }

    /// Every layer in graph order (`nodes` without the adds); blocks themselves left out.
    public var allLayers: [Layer] {
        nodes.compactMap { if case let .layer(l) = $0.operation { return l } else { return nil } }
    }
}
