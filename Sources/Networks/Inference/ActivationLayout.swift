import Tensors

// The packed engine's activations between steps. Dimension legend: N batch,
// C channels, H×W plane, P = H·W positions, F features, C32 = ⌈C/32⌉.

/// How a batch of activations is held between steps of a `PackedModel`.
enum ActivationLayout: Equatable {
    /// Floats: NCHW for images (per sample [C, H, W]) or [F], as `Sequential` holds them.
    case float(shape: [Int])
    /// Unsigned codes j of the values step·j of `grid` (0…255): images NHWC (channel
    /// fastest), so that `im2row` reads them and max-pooling stays on codes.
    case codes(shape: [Int], grid: ActivationGrid)
    /// Signs, one bit per value (1 = +1, 0 = −1): images NHWC with each position's C
    /// bits in C32 32-bit words (bits past C are 0); each sample starts on a 64-bit word.
    case bits(shape: [Int])

    var shape: [Int] {
        switch self {
        case .float(let s), .codes(let s, _), .bits(let s): return s
        }
    }

    /// Values per sample.
    var count: Int { shape.reduce(1, *) }

    /// Bytes one sample takes in this layout.
    var bytesPerSample: Int {
        switch self {
        case .float: return 4 * count
        case .codes: return count
        case .bits(let s): return 8 * BitGeometry(s).wordsPerSample
        }
    }

    var name: String {
        switch self {
        case .float: return "float"
        case .codes(_, let g): return "u8 codes 0…\(g.maxCode)"
        case .bits: return "sign bits"
        }
    }
}

/// Channels and positions of a per-sample shape: [C, H, W] → (C, H·W); [F] → (F, 1).
@inline(__always)
func channelsAndPositions(_ shape: [Int]) -> (channels: Int, positions: Int) {
    shape.count == 3 ? (shape[0], shape[1] * shape[2]) : (shape.reduce(1, *), 1)
}

/// The bit layout of one sample: C32 32-bit words per position, 64-bit words per sample.
struct BitGeometry: Equatable {
    let channels: Int, positions: Int
    init(_ shape: [Int]) { (channels, positions) = channelsAndPositions(shape) }
    var wordsPerPosition: Int { (channels + 31) / 32 }
    var halfWordsPerSample: Int { positions * wordsPerPosition }
    var wordsPerSample: Int { (halfWordsPerSample + 1) / 2 }
}

/// One step's output: a batch in one of the layouts (only that storage is used).
final class ActivationBuffer {
    var floats = Tensor(zeros: [0])
    var codes: [UInt8] = []
    var bits: [UInt64] = []

    /// Sizes the storage of `layout` for `n` samples (contents unspecified).
    func prepare(_ layout: ActivationLayout, batch n: Int) {
        switch layout {
        case .float(let s): floats.reshapeForOverwrite([n] + s)
        case .codes(let s, _):
            let c = n * s.reduce(1, *)
            if codes.count < max(1, c) { codes = [UInt8](repeating: 0, count: max(1, c)) }
        case .bits(let s):
            let c = n * BitGeometry(s).wordsPerSample
            if bits.count < max(1, c) { bits = [UInt64](repeating: 0, count: max(1, c)) }
        }
    }

    /// Copies the `samples` samples of `chunk` (in `layout`) to samples at… of this
    /// buffer, prepared for them.
    func place(_ chunk: ActivationBuffer, layout: ActivationLayout, samples: Int, at: Int) {
        switch layout {
        case .float(let s):
            let size = s.reduce(1, *)
            chunk.floats.data.withUnsafeBufferPointer { src in
                floats.data.withUnsafeMutableBufferPointer { ($0.baseAddress! + at * size).update(from: src.baseAddress!, count: samples * size) }
            }
        case .codes(let s, _):
            let size = s.reduce(1, *)
            chunk.codes.withUnsafeBufferPointer { src in
                codes.withUnsafeMutableBufferPointer { ($0.baseAddress! + at * size).update(from: src.baseAddress!, count: samples * size) }
            }
        case .bits(let s):
            let size = BitGeometry(s).wordsPerSample
            chunk.bits.withUnsafeBufferPointer { src in
                bits.withUnsafeMutableBufferPointer { ($0.baseAddress! + at * size).update(from: src.baseAddress!, count: samples * size) }
            }
        }
    }

    /// Runs `body` with pointers to the storage of `layout` (prepared for `n` samples).
    func withSink<R>(_ layout: ActivationLayout, batch n: Int, _ body: (ActivationSink) -> R) -> R {
        prepare(layout, batch: n)
        switch layout {
        case .float: return floats.data.withUnsafeMutableBufferPointer { body(ActivationSink(floats: $0.baseAddress!)) }
        case .codes: return codes.withUnsafeMutableBufferPointer { body(ActivationSink(codes: $0.baseAddress!)) }
        case .bits:
            return bits.withUnsafeMutableBufferPointer { wb in
                UnsafeMutableRawPointer(wb.baseAddress!).withMemoryRebound(to: UInt32.self, capacity: 2 * wb.count) {
                    body(ActivationSink(halfWords: $0))
                }
            }
        }
    }
}
