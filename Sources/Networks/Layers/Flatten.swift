import Tensors

/// Flattens each sample: [N, C, H, W] → [N, C·H·W] (any per-sample rank ≥ 1).
///
/// The values are copied, not shared: the model owns both buffers and overwrites
/// them in place every step, and sharing one array between them would make the
/// next write copy it (an allocation per step).
public final class Flatten: Layer {
    public var name: String

    public init(name: String = "flatten") { self.name = name }

    public var spec: String { "flatten" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard !input.isEmpty else {
            throw ModelError("\(name) (\(spec)): expects a per-sample shape, got a scalar")
        }
        return [input.reduce(1, *)]
    }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        let n = x.shape.first ?? 1
        y.reshapeForOverwrite([n, n == 0 ? 0 : x.count / n])
        LayerBuffers.copy(x.data, into: &y.data)
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        guard needsInputGradient else { return }
        dx.reshapeForOverwrite(x.shape)
        LayerBuffers.copy(dy.data, into: &dx.data)
    }
}
