import Synchronization
import Tensors
import Quantization

// Integer forward for quantized layers (issue 11).
//
// A Conv2D or Dense layer whose weights are ≤ 8-bit (k-bit, ternary, binary: codes
// fit in s8) and whose input is the output of an unsigned ≤ 8-bit activation
// quantizer (codes 0…2^k − 1, through max-pooling or flattening at most) computes
//
//     y = (s_x · s_w[k]) · Σ code_x · code_w  +  b        (u8 × s8 → int32, oneDNN)
//
// instead of the float GEMM over fake-quantized values s_x·code_x and s_w·code_w.
// Integer accumulation is exact, so y equals the fake-quantized forward up to float
// summation order. Backward is unchanged (float, over Q(W) and the float input).
// Each step checks that every input value is exactly s_x·code (and each weight
// s_w·code); anything else keeps the float path, as do float inputs (the first
// layer on images), > 8-bit weights and binary (±1) activations.

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
    /// destination order (ki, kj, c); Dense passes kernel 1. Returns false when some
    /// Q(W) value is not scale·code with |code| ≤ 127.
    func load(_ q: UnsafePointer<Float>, rows: Int, channels: Int, kernel: Int, scales: [Float]) -> Bool {
        let taps = kernel * kernel, rowLength = channels * taps
        guard scales.count == 1 || scales.count == rows else { return false }
        if codes.count != rows * rowLength { codes = [Int8](repeating: 0, count: rows * rowLength) }
        if rowScales.count != rows { rowScales = [Float](repeating: 0, count: rows) }
        var bad = false
        codes.withUnsafeMutableBufferPointer { cp in
            for k in 0..<rows {
                let s = scales.count == 1 ? scales[0] : scales[k]
                rowScales[k] = s
                let src = q + k * rowLength, dst = cp.baseAddress! + k * rowLength
                if taps == 1 {
                    for c in 0..<channels { dst[c] = Self.code(src[c], scale: s, bad: &bad) }
                } else {
                    for c in 0..<channels {
                        for t in 0..<taps { dst[t * channels + c] = Self.code(src[c * taps + t], scale: s, bad: &bad) }
                    }
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

/// The grid of a layer's input, when the integer forward may use it.
@inline(__always)
func integerInputGrid(_ quantizer: UniformActivationQuantizer?, weightPrecision: Precision, rowLength: Int) -> ActivationGrid? {
    guard IntegerForward.enabled, let quantizer, let maxW = IntegerWeights.maxCode(of: weightPrecision) else { return nil }
    let grid = ActivationGrid(clip: quantizer.lastClip, maxCode: quantizer.maxCode)
    guard grid.isUsable, CPUDispatch.int8GEMMIsExact(maxA: grid.maxCode, maxB: maxW, k: rowLength) else { return nil }
    return grid
}

/// Tells each Conv2D and Dense layer which activation quantizer produced its input,
/// when only grid-preserving layers (ReLU, max-pooling, flattening) lie between
/// them; the layer then may run its forward pass in integers. `source` is the
/// quantizer whose codes the first layer's input carries (a residual block passes
/// its input's to both paths; the sum at its end is off the grid).
public func linkIntegerInputs(_ layers: [Layer], from start: UniformActivationQuantizer? = nil) {
    var source = start
    for layer in layers {
        switch layer {
        case let r as ResidualBlock: r.linkIntegerInputs(from: source); source = nil
        case let q as QuantizeActivation: source = q.owner.activationQuantizer as? UniformActivationQuantizer
        case let c as Conv2D: c.integerInput = source; source = nil
        case let d as Dense: d.integerInput = source; source = nil
        case is MaxPool, is Flatten, is ReLU: break       // values stay on the grid
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
