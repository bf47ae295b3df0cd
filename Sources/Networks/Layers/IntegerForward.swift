import Synchronization
import Tensors
import Quantization
import CTrainKernels

// Integer forward for quantized layers (issue 11).
//
// A Conv2D or Dense layer whose weights are ≤ 8-bit (k-bit, ternary, binary: codes
// fit in s8) and whose input is the output of an unsigned ≤ 8-bit activation
// quantizer (codes 0…2^k − 1, through max-pooling or flattening at most) computes
//
//     y = (s_x · s_w[k]) · Σ code_x · code_w  +  b        (u8 × s8 → int32, oneDNN)
//
// instead of the float GEMM over fake-quantized values s_x·code_x and s_w·code_w.
// Sign (binary) activations s ∈ {−1, +1} (ternary values {−1, 0, +1} alike) enter as
// the unsigned codes u = s + 1 ∈ {0, 1, 2}, a convolution's padding taps as u = 1
// (s = 0, as the float forward's zero padding), so that over all taps
//
//     Σ code_w · s = Σ code_w · u − Σ code_w,      y = s_w[k] · (that) + b,
//
// the row sums Σ code_w taken back in the int32 epilogue.
// Integer accumulation is exact, so y equals the fake-quantized forward up to float
// summation order. Backward is unchanged (float, over Q(W) and the float input).
// Each step checks that every input value is exactly s_x·code (or −1, 0, +1; and
// each weight s_w·code); anything else keeps the float path, as do float inputs (the
// first layer on images) and > 8-bit weights.

/// Process-wide switch for the integer forward, on by default. `quantlab bench`
/// turns it off to time the fake-quantized float forward in the same run; set it
/// only while no model is running.
public enum IntegerForward {
    /// Atomic (it was `nonisolated(unsafe)`): trial threads read it on every forward.
    private static let flag = Atomic<Bool>(true)
    public static var enabled: Bool {
        get { flag.load(ordering: .relaxed) }
        set { flag.store(newValue, ordering: .relaxed) }
    }
}

/// Signed 8-bit weight codes of Q(W) and one scale per output row, in the column
/// order the integer GEMM reads.
final class IntegerWeights {
    private(set) var codes: [Int8] = []
    private(set) var rowScales: [Float] = []
    /// s_x · s_w per row and the bias (zeros without one), for the output pass;
    /// kept here so that a step allocates nothing.
    private(set) var scaled: [Float] = []
    private(set) var bias: [Float] = []
    /// Σ codes per row (`load(…, rowSums: true)`): the offset of a sign input's codes.
    private(set) var rowSums: [Int32] = []

    func setScales(step: Float, bias b: [Float]?) {
        let rows = rowScales.count
        if scaled.count != rows { scaled = [Float](repeating: 0, count: rows) }
        if bias.count != rows { bias = [Float](repeating: 0, count: rows) }
        for k in 0..<rows { scaled[k] = rowScales[k] * step }
        if let b { for k in 0..<rows { bias[k] = b[k] } }
    }

    /// The largest |code| the quantizer can produce, if ≤ 127.
    static func maxCode(of precision: Precision) -> Int? {
        switch precision {
        case .binary, .ternary: return 1
        case .bits(let k) where k <= 8: return (1 << (k - 1)) - 1
        default: return nil
        }
    }

    /// Codes of `q` (rows × channels·kernel², source order (c, ki, kj)) into
    /// destination order (ki, kj, c); Dense passes kernel 1. With `rowSums`, also
    /// Σ codes per row. Returns false when some Q(W) value is not scale·code with
    /// |code| ≤ 127. The AVX-512 form (`ql_weight_codes_avx512`, 16 weights a step:
    /// the Swift loop was 3.7 % of fmnist2 w8a8 training, perf) computes the same codes,
    /// sums and verdict as the loop, which `portable` selects (tests).
    func load(_ q: UnsafePointer<Float>, rows: Int, channels: Int, kernel: Int, scales: [Float],
              rowSums sums: Bool = false, portable: Bool = false) -> Bool {
        let taps = kernel * kernel, rowLength = channels * taps
        guard scales.count == 1 || scales.count == rows else { return false }
        if codes.count != rows * rowLength { codes = [Int8](repeating: 0, count: rows * rowLength) }
        if rowScales.count != rows { rowScales = [Float](repeating: 0, count: rows) }
        if sums && rowSums.count != rows { rowSums = [Int32](repeating: 0, count: rows) }
        for k in 0..<rows { rowScales[k] = scales.count == 1 ? scales[0] : scales[k] }
        if Kernels.hasAVX512 && !portable && rowLength < Int(Int32.max) / 4 {
            return codes.withUnsafeMutableBufferPointer { cp in
                rowSums.withUnsafeMutableBufferPointer { sp in
                    scales.withUnsafeBufferPointer { scp in
                        ql_weight_codes_avx512(q, rows, channels, taps, scp.baseAddress!, scales.count == 1 ? 0 : 1,
                                               cp.baseAddress!, sums ? sp.baseAddress! : nil) != 0
                    }
                }
            }
        }
        var bad = false
        codes.withUnsafeMutableBufferPointer { cp in
            for k in 0..<rows {
                let s = rowScales[k]
                let src = q + k * rowLength, dst = cp.baseAddress! + k * rowLength
                if taps == 1 {
                    for c in 0..<channels { dst[c] = Self.code(src[c], scale: s, bad: &bad) }
                } else {
                    for c in 0..<channels {
                        for t in 0..<taps { dst[t * channels + c] = Self.code(src[c * taps + t], scale: s, bad: &bad) }
                    }
                }
                if sums {
                    var sum: Int32 = 0
                    for i in 0..<rowLength { sum &+= Int32(dst[i]) }     // |sum| ≤ 127 · rowLength < 2³¹ (int8GEMMIsExact)
                    rowSums[k] = sum
                }
            }
        }
        return !bad
    }

    /// j = round(v / s) half to even when s · j = v exactly and |j| ≤ 127; else 0 with
    /// `bad` set. The 1.5·2²³ trick rounds as `.rounded(.toNearestOrEven)` for
    /// |v / s| ≤ 2²² (larger quotients fail |j| ≤ 127 either way; −0 and +0 pass the
    /// check alike) without its `rintf` call per weight, which kept the loop scalar:
    /// 3.5 % of fmnist2 w8a8 training was this load of dense1's 401,408 weights (perf).
    @inline(__always)
    private static func code(_ v: Float, scale s: Float, bad: inout Bool) -> Int8 {
        var j: Float = 0
        if s != 0 { j = (v / s + roundingMagic) - roundingMagic }
        let ok = s * j == v && abs(j) <= 127
        bad = bad || !ok
        return ok ? Int8(j) : 0
    }
}

/// 1.5 · 2²³ (see `IntegerWeights.code`).
private let roundingMagic: Float = 12_582_912

/// What the u8 codes of a layer's integer input stand for.
enum IntegerInput: Equatable {
    /// x = step · u, u = 0…maxCode: a uniform activation quantizer's grid.
    case grid(ActivationGrid)
    /// x = u − 1, u ∈ {0, 1, 2}: sign activations (ternary values too); padding is u = 1
    /// and the epilogue subtracts the weights' row sums.
    case sign

    /// The codes of `quantizer`'s output, when the integer forward may use them for
    /// weights of `weightPrecision` and rows of `rowLength` taps.
    @inline(__always)
    init?(_ quantizer: ActivationQuantizer?, weightPrecision: Precision, rowLength: Int) {
        guard IntegerForward.enabled, let quantizer, let maxW = IntegerWeights.maxCode(of: weightPrecision) else { return nil }
        if let q = quantizer as? UniformActivationQuantizer {
            let grid = ActivationGrid(clip: q.lastClip, maxCode: q.maxCode)
            guard grid.isUsable else { return nil }
            self = .grid(grid)
        } else if quantizer is BinaryActivationQuantizer {
            self = .sign
        } else {
            return nil
        }
        guard CPUDispatch.int8GEMMIsExact(maxA: maxCode, maxB: maxW, k: rowLength) else { return nil }
    }

    /// Whether `quantizer`'s outputs have codes here (uniform and sign quantizers).
    static func accepts(_ quantizer: ActivationQuantizer) -> Bool {
        quantizer is UniformActivationQuantizer || quantizer is BinaryActivationQuantizer
    }

    var maxCode: Int {
        switch self { case .grid(let g): g.maxCode; case .sign: 2 }
    }
    var isSign: Bool {
        if case .sign = self { return true }
        return false
    }
    /// The value of one code step (s_x of the scales).
    var step: Float {
        switch self { case .grid(let g): g.step; case .sign: 1 }
    }
    /// The code of a zero-padding tap (x = 0).
    var padCode: UInt8 {
        switch self { case .grid: 0; case .sign: 1 }
    }
    /// The grid, for backward passes that read the codes as step · u (nil for sign codes).
    var grid: ActivationGrid? {
        switch self { case .grid(let g): g; case .sign: nil }
    }

    /// Codes of x[0..<count]; false when some value has none.
    func codes(_ x: UnsafePointer<Float>, count: Int, into codes: UnsafeMutablePointer<UInt8>) -> Bool {
        switch self {
        case .grid(let g): activationCodes(x, count: count, grid: g, into: codes)
        case .sign: signCodes(x, count: count, into: codes)
        }
    }

    /// Codes of NCHW x into NHWC.
    func codesNHWC(_ x: UnsafePointer<Float>, batch n: Int, channels c: Int, plane hw: Int,
                   into codes: UnsafeMutablePointer<UInt8>) -> Bool {
        switch self {
        case .grid(let g): activationCodesNHWC(x, batch: n, channels: c, plane: hw, grid: g, into: codes)
        case .sign: signCodesNHWC(x, batch: n, channels: c, plane: hw, into: codes)
        }
    }
}

/// Tells each Conv2D and Dense layer which activation quantizer (uniform or sign)
/// produced its input, when only code-preserving layers (ReLU, max-pooling,
/// flattening) lie between them; the layer then may run its forward pass in
/// integers. `source` is the quantizer whose codes the first layer's input carries (a
/// residual block passes its input's to both paths; the sum at its end is off the grid).
public func linkIntegerInputs(_ layers: [Layer], from start: ActivationQuantizer? = nil) {
    var source = start
    for layer in layers {
        switch layer {
        case let r as ResidualBlock: r.linkIntegerInputs(from: source); source = nil
        case let q as QuantizeActivation:
            let quantizer = q.owner.activationQuantizer
            source = IntegerInput.accepts(quantizer) ? quantizer : nil
        case let c as Conv2D: c.integerInput = source; source = nil
        case let d as Dense: d.integerInput = source; source = nil
        case is MaxPool, is Flatten, is ReLU: break       // values keep codes (ReLU of ±1: 0, 1)
        default: source = nil
        }
    }
}

/// Per layer of a chain: the `QuantizeActivation` right after it when the layer is a
/// ReLU other than the first (whose backward `Sequential` would skip): the pairs
/// `Sequential` runs fused (`QuantizeActivation.forwardAfterReLU`), nil elsewhere.
func reluQuantizerPairs(_ layers: [Layer]) -> [QuantizeActivation?] {
    layers.indices.map { i in
        guard i > 0, i + 1 < layers.count, layers[i] is ReLU else { return nil }
        return layers[i + 1] as? QuantizeActivation
    }
}
