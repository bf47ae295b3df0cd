import Tensors
import CBitKernels

/// What runs on a linear layer's outputs before they are stored: the scale of the
/// integer accumulator and the bias, the layer's BatchNorm / ReLU / hard tanh in model
/// order, then the activation quantizer, writing codes, sign bits or floats.
///
/// Every formula is the one the float path evaluates, in the same order and in Float
/// (`BatchNorm` a·(x − μ) + β with a = γ·(1/√(σ² + ε)), `ReLU`, `HardTanh`,
/// `UniformActivationQuantizer` roundEven(clamp(x, 0, c)·L/c), sign with sign(0) = +1),
/// so given the same pre-activation the packed engine stores exactly the code the
/// fake-quantized forward computes. BatchNorm is applied, not folded into the scale:
/// folding (a·s)·acc + a·(b − μ) + β rounds differently and would move codes at ties.
struct Epilogue {
    enum Operation {
        case batchNorm(a: [Float], mean: [Float], beta: [Float])
        case relu
        case hardTanh
    }

    enum Output {
        case float
        /// Codes 0…top of the clip c: code = roundEven(clamp(v, 0, c) · inverse).
        case codes(clip: Float, inverse: Float, top: Float)
        case bits
    }

    let channels: Int
    /// Per-channel factor of the integer accumulator (empty for float accumulators).
    var scale: [Float] = []
    /// Per-channel bias (zeros without one; float dense paths add it in the GEMM and pass []).
    var bias: [Float] = []
    var operations: [Operation] = []
    var output: Output = .float

    /// 1.5 · 2²³: (v + m) − m rounds half to even for |v| ≤ 2²², as the quantizers do.
    private static let roundingMagic: Float = 12_582_912

    /// Finishes `rows` positions whose raw values are rows of `source` (row r holds
    /// channel k at source[r·ld + k·ldk]; integer sources are row-major, ldk 1) and stores them as rows firstRow… of the output
    /// (row g = sample g / positions, position g % positions). `scratch` holds ≥ channels floats.
    func finish(_ source: EpilogueSource, ld: Int, ldk: Int = 1, rows: Int, firstRow: Int, positions: Int, bitGeometry: BitGeometry?,
                scratch v: UnsafeMutablePointer<Float>, into sink: ActivationSink) {
        let c = channels
        if finishVectorised(source, ld: ld, ldk: ldk, rows: rows, firstRow: firstRow, positions: positions, bitGeometry: bitGeometry,
                            scratch: v, into: sink) { return }
        scale.withUnsafeBufferPointer { sp in
        bias.withUnsafeBufferPointer { bp in
            // An empty array's buffer has a non-nil base address: test the count, not the pointer.
            let s = sp.baseAddress, b = bp.isEmpty ? nil : bp.baseAddress
            for r in 0..<rows {
                switch source {
                case .int32(let acc):
                    let a = acc + r * ld
                    for k in 0..<c { v[k] = Float(a[k]) * s![k] + b![k] }
                case .float(let f):
                    let a = f + r * ld
                    if let b { for k in 0..<c { v[k] = a[k * ldk] + b[k] } } else { for k in 0..<c { v[k] = a[k * ldk] } }
                }
                apply(v)
                let g = firstRow + r
                store(v, sample: g / positions, position: g % positions, positions: positions, bitGeometry: bitGeometry, into: sink)
            }
        } }
    }

    /// The common case — at most a ReLU, then codes or sign bits — through the C
    /// kernel `ql_epilogue` (vectorised for AVX-512 / AVX2; the same arithmetic as the
    /// loops below, so the same bits). False (nothing done) for other cases.
    private func finishVectorised(_ source: EpilogueSource, ld: Int, ldk: Int, rows: Int, firstRow: Int, positions: Int,
                                  bitGeometry: BitGeometry?, scratch v: UnsafeMutablePointer<Float>, into sink: ActivationSink) -> Bool {
        guard isAtMostReLU else { return false }
        let relu: Int32 = operations.isEmpty ? 0 : 1
        var a = ql_epilogue_args()
        switch output {
        case .float: return false
        case let .codes(clip, inverse, top):
            a.output = 0; a.clip = clip; a.inverse = inverse; a.top = top; a.codes = sink.codes
        case .bits:
            let g = bitGeometry!
            a.output = 1; a.half = sink.halfWords; a.words_per_position = g.wordsPerPosition
            a.half_words_per_sample = 2 * g.wordsPerSample
        }
        if case .int32 = source, scale.count != channels { return false }
        if bias.count != channels { return false }
        a.ld = ld; a.ldk = ldk; a.rows = rows; a.channels = channels; a.relu = relu
        a.first_row = firstRow; a.positions = positions; a.scratch = v
        scale.withUnsafeBufferPointer { sp in
            bias.withUnsafeBufferPointer { bp in
                a.scale = sp.baseAddress; a.bias = bp.baseAddress
                switch source {
                case .int32(let p): a.acc = p
                case .float(let p): a.fsrc = p
                }
                ql_epilogue(&a)
            }
        }
        return true
    }

    /// No operations, or a single ReLU: the cases the fused kernels compute (before codes,
    /// whose clamp at 0 contains the ReLU).
    var isAtMostReLU: Bool {
        switch operations.count {
        case 0: return true
        case 1: if case .relu = operations[0] { return true } else { return false }
        default: return false
        }
    }

    /// BatchNorm, ReLU and hard tanh in model order, in place over one position's channels.
    @inline(__always)
    func apply(_ v: UnsafeMutablePointer<Float>) {
        for op in operations {
            switch op {
            case let .batchNorm(a, mean, beta):
                a.withUnsafeBufferPointer { ap in mean.withUnsafeBufferPointer { mp in beta.withUnsafeBufferPointer { bp in
                    for k in 0..<channels { v[k] = ap[k] * (v[k] - mp[k]) + bp[k] }
                } } }
            case .relu:
                for k in 0..<channels { let x = v[k]; v[k] = x < 0 ? 0 : x }
            case .hardTanh:
                for k in 0..<channels { v[k] = Swift.min(Swift.max(v[k], -1), 1) }
            }
        }
    }

    /// Stores one position's finished values for sample i, position p.
    @inline(__always)
    func store(_ v: UnsafePointer<Float>, sample i: Int, position p: Int, positions: Int, bitGeometry: BitGeometry?,
               into sink: ActivationSink) {
        let c = channels
        switch output {
        case .float:
            let base = sink.floats! + i * c * positions + p      // NCHW (positions = 1: [N, F])
            for k in 0..<c { base[k * positions] = v[k] }
        case let .codes(clip, inverse, top):
            let dst = sink.codes! + (i * positions + p) * c       // NHWC
            for k in 0..<c {
                var x = v[k]
                x = x < 0 ? 0 : x
                x = x > clip ? clip : x
                var r = (x * inverse + Self.roundingMagic) - Self.roundingMagic
                r = r >= 0 ? r : 0            // NaN → 0: a code cannot hold it
                r = r > top ? top : r
                // r is a whole number in 0…255: 2²³ + r holds it in the low mantissa bits
                // (a conversion without a range check, so the loop vectorises).
                dst[k] = UInt8(truncatingIfNeeded: (r + 8_388_608).bitPattern)
            }
        case .bits:
            let g = bitGeometry!
            let sample = sink.halfWords! + i * 2 * g.wordsPerSample
            let dst = sample + p * g.wordsPerPosition
            var k = 0, w = 0
            while k < c {
                var word: UInt32 = 0
                let end = Swift.min(c, k + 32)
                // sign(0) = +1; NaN compares false → −1, as BinaryActivationQuantizer.
                for j in k..<end { word |= (v[j] >= 0 ? 1 : 0) << UInt32(j - k) }
                dst[w] = word
                w += 1; k = end
            }
            if p == positions - 1 && g.halfWordsPerSample % 2 == 1 { sample[g.halfWordsPerSample] = 0 }
        }
    }
}

/// Where an epilogue reads its raw values.
enum EpilogueSource {
    /// Integer accumulators (scaled, then biased).
    case int32(UnsafePointer<Int32>)
    /// Float GEMM results (biased unless the bias is empty).
    case float(UnsafePointer<Float>)
}

/// Raw pointers into an `ActivationBuffer`'s storage for one layout, valid inside
/// `ActivationBuffer.withSink`.
struct ActivationSink {
    var floats: UnsafeMutablePointer<Float>?
    var codes: UnsafeMutablePointer<UInt8>?
    var halfWords: UnsafeMutablePointer<UInt32>?
}
