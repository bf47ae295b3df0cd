import CBitKernels
import Tensors
import Quantization

/// One step of a `PackedModel`: reads the previous step's batch in the layout it was
/// compiled for and writes its own `output` layout.
protocol InferenceStep: AnyObject {
    var output: ActivationLayout { get }
    /// One line for `evaluate`'s plan: which kernel, from which layout to which.
    var summary: String { get }
    func run(_ input: ActivationBuffer, batch n: Int, into out: ActivationBuffer)
    /// Whether each sample's output is a function of that sample alone, the same bits for
    /// any batch size, so that the step can run on chunks of a batch.
    var isPerSample: Bool { get }
}

extension InferenceStep {
    var isPerSample: Bool { true }
}

/// A float-domain layer of the model run as the float path runs it (ReLU, BatchNorm,
/// hard tanh, average or max pooling on floats, flatten, and any layer the engine has
/// no packed kernel for).
final class FloatLayerStep: InferenceStep {
    let layer: Layer
    let output: ActivationLayout
    init(_ layer: Layer, output: ActivationLayout) { self.layer = layer; self.output = output }
    var summary: String { "\(layer.name): \(layer.spec) on floats" }
    /// Any layer (a GEMM's blocking may follow the batch size): the whole batch at once.
    var isPerSample: Bool { false }
    func run(_ input: ActivationBuffer, batch n: Int, into out: ActivationBuffer) {
        layer.forward(input.floats, into: &out.floats, training: false)
    }
}

/// An activation quantizer applied in the float domain (evaluation mode), for
/// quantizers whose values are not held as codes (> 8 bits, or a clip not yet known).
final class QuantizeFloatStep: InferenceStep {
    let name: String
    let quantizer: ActivationQuantizer
    let output: ActivationLayout
    init(name: String, quantizer: ActivationQuantizer, output: ActivationLayout) {
        self.name = name; self.quantizer = quantizer; self.output = output
    }
    var summary: String { "\(name): a\(quantizer.precision.token) fake-quantized on floats" }
    func run(_ input: ActivationBuffer, batch n: Int, into out: ActivationBuffer) {
        out.floats.reshapeForOverwrite(input.floats.shape)
        let count = input.floats.count
        input.floats.data.withUnsafeBufferPointer { x in
            out.floats.data.withUnsafeMutableBufferPointer { y in
                quantizer.forward(x.baseAddress!, into: y.baseAddress!, count: count, training: false)
            }
        }
    }
}

/// Codes or sign bits back to the floats they stand for (NHWC → NCHW): step·code,
/// or ±1. Where a layer has no packed kernel for its input.
final class ToFloatStep: InferenceStep {
    let input: ActivationLayout
    let output: ActivationLayout
    init(from input: ActivationLayout) { self.input = input; output = .float(shape: input.shape) }
    var summary: String { "to floats from \(input.name)" }
    func run(_ source: ActivationBuffer, batch n: Int, into out: ActivationBuffer) {
        let (c, positions) = channelsAndPositions(input.shape)
        out.floats.reshapeForOverwrite([n] + input.shape)
        out.floats.data.withUnsafeMutableBufferPointer { fb in
            let f = fb.baseAddress!
            switch input {
            case let .codes(_, grid):
                source.codes.withUnsafeBufferPointer { cb in ql_codes_to_floats(cb.baseAddress!, n, c, positions, grid.step, f) }
            case .bits:
                let g = BitGeometry(input.shape)
                source.bits.withUnsafeBufferPointer { wb in
                    UnsafeRawPointer(wb.baseAddress!).withMemoryRebound(to: UInt32.self, capacity: 2 * wb.count) { half in
                        ql_bits_to_floats(half, n, c, positions, g.wordsPerPosition, 2 * g.wordsPerSample, f)
                    }
                }
            case .float:
                preconditionFailure("ToFloatStep: input is already float")
            }
        }
    }
}
