import Tensors
import Quantization

/// A residual block: two paths from the same input, joined by an add.
///
///   y = main(x) + shortcut(x)            (shortcut = identity when it has no layers)
///   dx = ∂main/∂x ᵀ dy + ∂shortcut/∂x ᵀ dy     (dy reaches both paths unchanged)
///
/// Both paths are chains of ordinary layers with their own names (`conv2`, `shortcut1`,
/// …) and precisions; the block owns their activation and gradient buffers, as
/// `Sequential` owns the chain's, so a step allocates nothing after the first batch.
///
/// Quantization: the last weighted layer of the main path is the block's *output
/// owner*. Its activation quantizer is applied after the add and the elementwise
/// layers that follow the block (`res(…) | relu` → add, relu, quantize), by a
/// `QuantizeActivation` node `Sequential` places there; so the next block's input, on
/// both of its paths, is a quantized activation. A shortcut's output is summed
/// before any nonlinearity and is never quantized: the A of a shortcut layer's
/// precision has no effect (its weights' W does).
public final class ResidualBlock: ParameterizedLayer {
    public var name: String
    /// The main path, in order.
    public let main: [Layer]
    /// The shortcut path; empty for the identity.
    public let shortcut: [Layer]
    /// Per-sample output shape of every layer of each path.
    public let mainShapes: [[Int]], shortcutShapes: [[Int]]

    private var mainOut: [Tensor], mainGrad: [Tensor]
    private var shortcutOut: [Tensor], shortcutGrad: [Tensor]

    /// `main` and `shortcut` must end in the same per-sample shape (`ModelBuilder` checks
    /// it and reports the block and both shapes).
    public init(name: String, main: [Layer], mainShapes: [[Int]], shortcut: [Layer], shortcutShapes: [[Int]]) {
        precondition(!main.isEmpty && main.count == mainShapes.count && shortcut.count == shortcutShapes.count,
                     "ResidualBlock: one shape per layer and a non-empty main path")
        self.name = name
        self.main = main; self.mainShapes = mainShapes
        self.shortcut = shortcut; self.shortcutShapes = shortcutShapes
        mainOut = Array(repeating: Tensor(zeros: [0]), count: main.count)
        mainGrad = Array(repeating: Tensor(zeros: [0]), count: main.count)
        shortcutOut = Array(repeating: Tensor(zeros: [0]), count: shortcut.count)
        shortcutGrad = Array(repeating: Tensor(zeros: [0]), count: shortcut.count)
    }

    public var spec: String {
        "res(" + main.map(\.spec).joined(separator: " | ")
            + (shortcut.isEmpty ? "" : " ; " + shortcut.map(\.spec).joined(separator: " | ")) + ")"
    }

    /// Parameters of both paths (main first), with the trainable clips of the
    /// activation quantizers placed inside them.
    public var parameters: [Parameter] { trainableParameters(main) + trainableParameters(shortcut) }

    public func outputShape(for input: [Int]) throws -> [Int] { mainShapes.last! }

    /// Runs `layers` on `x`, output of layer i into `out[i]`.
    private static func run(_ layers: [Layer], _ x: Tensor, _ out: inout [Tensor], training: Bool) {
        for (i, layer) in layers.enumerated() {
            layer.forward(i == 0 ? x : out[i - 1], into: &out[i], training: training)
        }
    }

    /// Back-propagates `dy` through `layers`; `grad[i]` becomes ∂L/∂(input of layer i).
    private static func back(_ layers: [Layer], _ x: Tensor, _ out: [Tensor], _ dy: Tensor, _ grad: inout [Tensor],
                             needsInputGradient: Bool) {
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            layers[i].backward(input: i == 0 ? x : out[i - 1], output: out[i],
                               gradient: i == layers.count - 1 ? dy : grad[i + 1],
                               into: &grad[i], needsInputGradient: i > 0 || needsInputGradient)
        }
    }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        Self.run(main, x, &mainOut, training: training)
        Self.run(shortcut, x, &shortcutOut, training: training)
        let a = mainOut[main.count - 1]
        let b = shortcut.isEmpty ? x : shortcutOut[shortcut.count - 1]
        precondition(a.shape == b.shape, "\(name): main path gives \(a.shape), shortcut \(b.shape)")
        y.reshapeForOverwrite(a.shape)
        Self.add(a.data, b.data, into: &y.data)
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        Self.back(main, x, mainOut, dy, &mainGrad, needsInputGradient: needsInputGradient)
        Self.back(shortcut, x, shortcutOut, dy, &shortcutGrad, needsInputGradient: needsInputGradient)
        guard needsInputGradient else { return }
        dx.reshapeForOverwrite(x.shape)
        Self.add(mainGrad[0].data, shortcut.isEmpty ? dy.data : shortcutGrad[0].data, into: &dx.data)
    }

    /// out[i] = a[i] + b[i]; the counts must agree.
    static func add(_ a: [Float], _ b: [Float], into out: inout [Float]) {
        precondition(a.count == b.count && a.count == out.count, "ResidualBlock.add: counts differ")
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    for i in 0..<ap.count { op[i] = ap[i] + bp[i] }
                }
            }
        }
    }

    /// Tells the convolutions at the start of each path that their input carries the
    /// codes of `source` (the block input is shared by both paths).
    func linkIntegerInputs(from source: ActivationQuantizer?) {
        Networks.linkIntegerInputs(main, from: source)
        Networks.linkIntegerInputs(shortcut, from: source)
    }
}

/// Trainable parameters of `layers` in order: each parameterized layer's, and the
/// learned clip (PACT) of every activation quantizer a `QuantizeActivation` places.
func trainableParameters(_ layers: [Layer]) -> [Parameter] {
    layers.flatMap { layer -> [Parameter] in
        var ps = (layer as? ParameterizedLayer)?.parameters ?? []
        if let q = layer as? QuantizeActivation { ps += q.owner.activationQuantizer.parameters }
        if let w = layer as? WeightedLayer { ps += w.weightQuantizer.parameters }
        return ps
    }
}
