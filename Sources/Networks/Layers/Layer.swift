import Tensors
import Quantization

/// A layer of a sequential network, with a hand-written backward pass.
///
/// Shapes are per sample (`[C, H, W]` or `[F]`); tensors carry the batch as their
/// first dimension. The model owns every activation and gradient buffer and passes
/// them in, so layers keep only what backward needs beyond input and output
/// (column matrices, pooling indices, batch statistics) and nothing is reallocated
/// between steps.
public protocol Layer: AnyObject {
    /// Name in the model (`conv1`, `relu2`, …), unique per model.
    var name: String { get set }
    /// The spec text that builds this layer (`conv 32 k3`).
    var spec: String { get }
    /// Output shape for a per-sample input shape; throws `ModelError` on mismatch.
    func outputShape(for input: [Int]) throws -> [Int]
    /// y = f(x). `y` is resized by the layer as needed.
    func forward(_ x: Tensor, into y: inout Tensor, training: Bool)
    /// dx = ∂L/∂x given dy = ∂L/∂y; *adds* into parameter gradients. When
    /// `needsInputGradient` is false (first layer) dx may be left untouched.
    func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                  into dx: inout Tensor, needsInputGradient: Bool)
}

/// A layer with trainable parameters.
public protocol ParameterizedLayer: Layer {
    var parameters: [Parameter] { get }
}

/// A layer whose weights carry a precision: Conv2D and Dense.
public protocol WeightedLayer: ParameterizedLayer {
    var weight: Parameter { get }
    var bias: Parameter? { get }
    var weightQuantizer: WeightQuantizer { get set }
    /// The quantizer of the activation that follows this layer (after its nonlinearity).
    var activationQuantizer: ActivationQuantizer { get set }
    /// Quantizes ∂L/∂y for the backward pass (`g8`, `gbf16`); float by default.
    var gradientQuantizer: GradientQuantizer { get set }
    /// Multiply–accumulates per sample, for an input of `inputShape`.
    func macs(inputShape: [Int]) -> Int
    /// Output channels (rows of the weight matrix): per-channel scales index these.
    var outputChannels: Int { get }
}

extension ParameterizedLayer {
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// A model that cannot be built as written: which layer, what was expected, what was found.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Shape helper: "1×28×28".
public func shapeText(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }

/// Q(W) of `weight` into `buffer` (resized as needed), output-channel rows.
/// Returns false for float weights, whose values are used directly.
func quantizeWeights(_ weight: Parameter, with quantizer: WeightQuantizer, channels: Int, training: Bool,
                     into buffer: inout [Float]) -> Bool {
    if !quantizer.transformsWeights { return false }
    let n = weight.value.count
    if buffer.count != n { buffer = [Float](repeating: 0, count: n) }
    weight.value.data.withUnsafeBufferPointer { w in
        buffer.withUnsafeMutableBufferPointer { q in
            quantizer.quantize(w.baseAddress!, into: q.baseAddress!, count: n, channels: channels, training: training)
        }
    }
    return true
}

/// dW += STE(∂L/∂Q(W)): the weight quantizer's straight-through backward of `dq`
/// into `weight`'s gradient (rows = output channels).
func addStraightThrough(_ dq: [Float], of quantizer: WeightQuantizer, into weight: Parameter, channels: Int) {
    weight.value.data.withUnsafeBufferPointer { w in
        dq.withUnsafeBufferPointer { q in
            weight.grad.data.withUnsafeMutableBufferPointer { gp in
                quantizer.backward(w.baseAddress!, gradient: q.baseAddress!, addInto: gp.baseAddress!,
                                   count: weight.value.count, channels: channels)
            }
        }
    }
}
