import Foundation
import Tensors
import Quantization

/// A `.qlm` model compiled for inference on integer kernels, without float latent
/// weights: layers with ≤ 8-bit weights on ≤ 8-bit unsigned activation codes run
/// u8 × s8 → s32 GEMMs (oneDNN, VNNI where present); binary weights on sign
/// activations run XNOR-popcount on packed 64-bit words (AVX-512 VPOPCNTDQ where
/// present, cpuid dispatch); the first layer on float images and > 8-bit layers run
/// float GEMMs over Q(W) rebuilt from the codes. Activations between layers stay as
/// u8 codes or sign bits (NHWC); BatchNorm, ReLU and the activation quantizer run in
/// each layer's epilogue, max-pooling on codes or bits.
///
/// It computes the fake-quantized forward of the same model: integer sums are exact,
/// so logits differ only by float summation order (tested: identical argmax on the
/// whole Fashion-MNIST test set for w8a8, w4a4, w2a2, wta8, w1a8 and w1a1, logits
/// within 1e-5 of their scale on ≥ 99.9% of the images; see PackedModelTests).
public final class PackedModel {
    public let inputShape: [Int]
    public let outputShape: [Int]
    let steps: [InferenceStep]
    private var buffers: [ActivationBuffer]
    /// The leading steps that run a chunk of the batch at a time (`InferenceStep.isPerSample`).
    let chunkedSteps: Int
    /// Images per chunk of those steps: their largest activation within `chunkBudget` bytes.
    let chunkImages: Int
    /// The chunk's activations between the leading steps (index 0: the chunk's input).
    private var chunkBuffers: [ActivationBuffer]

    /// Bytes of one step's output for a chunk: a cifar3 w8a8 batch of 256 ran its first
    /// conv's 8 MiB of codes and the next steps through memory (the 2×2 pooling of them
    /// took 4.7 µs an image); chunks of images keep them in the core's L2.
    static let chunkBudget = 1 << 18

    init(inputShape: [Int], steps: [InferenceStep]) {
        self.inputShape = inputShape
        self.steps = steps
        outputShape = steps.last?.output.shape ?? inputShape
        buffers = (0...steps.count).map { _ in ActivationBuffer() }
        chunkedSteps = steps.prefix { $0.isPerSample }.count
        let largest = ([ActivationLayout.float(shape: inputShape)] + steps.prefix(chunkedSteps).map(\.output)).map(\.bytesPerSample).max() ?? 1
        chunkImages = max(1, Self.chunkBudget / max(1, largest))
        chunkBuffers = (0...chunkedSteps).map { _ in ActivationBuffer() }
    }

    /// Reads and compiles `path`; also returns the float model the file describes (for
    /// comparisons) and its header.
    public static func read(from path: String) throws(ArchiveError) -> (packed: PackedModel, loaded: ModelArchive.Loaded) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ArchiveError(.io, file: path, offset: nil, expected: "a readable file", found: "none (missing or unreadable)")
        }
        return try load(QLMContainer.decode(Array(data), file: path), file: path)
    }

    /// Compiles a decoded container; `file` names it in errors.
    public static func load(_ container: QLMContainer, file: String) throws(ArchiveError) -> (packed: PackedModel, loaded: ModelArchive.Loaded) {
        let loaded = try ModelArchive.load(container, file: file)
        return (try compile(loaded.model, container: container, file: file), loaded)
    }

    /// One line per step: the kernel each layer runs on and the layouts between them.
    public var plan: [String] { steps.map(\.summary) }

    /// Gives the input buffer (batch × inputShape floats, normalised) to fill in place.
    public func withInput<R>(_ body: (inout Tensor) -> R) -> R { body(&buffers[0].floats) }

    /// When true, `forward` adds each step's thread CPU seconds to `stepSeconds`.
    public var timesSteps = false
    /// CPU seconds spent in each step (in `plan` order) while `timesSteps` was on.
    public private(set) var stepSeconds: [Double] = []

    /// Runs every step on the input buffer; returns the logits (batch × outputs). The
    /// leading per-sample steps run `chunkImages` images at a time (the same values: each
    /// sample's result depends on that sample alone), the rest on the whole batch.
    @discardableResult
    public func forward() -> Tensor {
        let n = buffers[0].floats.shape.first ?? 0
        if stepSeconds.count != steps.count { stepSeconds = [Double](repeating: 0, count: steps.count) }
        var first = 0
        if chunkedSteps > 0 && n > chunkImages {
            let size = inputShape.reduce(1, *)
            let last = steps[chunkedSteps - 1].output
            buffers[chunkedSteps].prepare(last, batch: n)
            var start = 0
            while start < n {
                let c = min(chunkImages, n - start)
                chunkBuffers[0].floats.reshapeForOverwrite([c] + inputShape)
                buffers[0].floats.data.withUnsafeBufferPointer { x in
                    chunkBuffers[0].floats.data.withUnsafeMutableBufferPointer {
                        $0.baseAddress!.update(from: x.baseAddress! + start * size, count: c * size)
                    }
                }
                for i in 0..<chunkedSteps { run(i, chunkBuffers[i], batch: c, into: chunkBuffers[i + 1]) }
                buffers[chunkedSteps].place(chunkBuffers[chunkedSteps], layout: last, samples: c, at: start)
                start += c
            }
            first = chunkedSteps
        }
        for i in first..<steps.count { run(i, buffers[i], batch: n, into: buffers[i + 1]) }
        return buffers[steps.count].floats
    }

    private func run(_ i: Int, _ input: ActivationBuffer, batch n: Int, into out: ActivationBuffer) {
        let t0 = timesSteps ? threadCPUSeconds() : 0
        steps[i].run(input, batch: n, into: out)
        if timesSteps { stepSeconds[i] += threadCPUSeconds() - t0 }
    }
}

/// What evaluation needs of a model: fill a batch, run it forward.
public protocol BatchForward: AnyObject {
    func withInput<R>(_ body: (inout Tensor) -> R) -> R
    /// The logits of the batch in the input buffer (evaluation mode).
    func inferenceForward() -> Tensor
}

extension Sequential: BatchForward {
    public func inferenceForward() -> Tensor { forward(training: false) }
}

extension PackedModel: BatchForward {
    public func inferenceForward() -> Tensor { forward() }
}

/// A model whose forward passes are timed in CPU seconds of the calling thread.
public final class TimedForward<Model: BatchForward>: BatchForward {
    public let model: Model
    public private(set) var seconds = 0.0
    public private(set) var samples = 0
    public init(_ model: Model) { self.model = model }
    public func withInput<R>(_ body: (inout Tensor) -> R) -> R { model.withInput(body) }
    public func inferenceForward() -> Tensor {
        let t0 = threadCPUSeconds()
        let y = model.inferenceForward()
        seconds += threadCPUSeconds() - t0
        samples += y.shape.first ?? 0
        return y
    }
    /// Samples per CPU second.
    public var samplesPerSecond: Double { seconds > 0 ? Double(samples) / seconds : 0 }
}
