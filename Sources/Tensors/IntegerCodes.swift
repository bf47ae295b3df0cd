import CTrainKernels

// Integer forward inputs: activation codes recovered from fake-quantized floats (on a
// uniform grid, or sign / ternary values), and the im2row matrix of a convolution over
// 8-bit codes.
//
// Dimension legend: N batch, C channels, H×W input, KH×KW kernel, OH×OW output,
// S stride, P padding; R = KH·KW·C (row length, channel fastest).

/// 1.5 · 2²³: (v + m) − m rounds v half to even for |v| ≤ 2²² in two adds.
private let roundingMagic: Float = 12_582_912

/// Codes of values on the grid {step·j : j = 0…maxCode}, step = clip / maxCode
/// (computed exactly as `UniformActivationQuantizer` computes it).
public struct ActivationGrid: Equatable, Sendable {
    public var clip: Float
    public var maxCode: Int
    public init(clip: Float, maxCode: Int) { self.clip = clip; self.maxCode = maxCode }
    public var step: Float { clip / Float(maxCode) }
    var inverse: Float { Float(maxCode) / clip }
    /// Whether codes fit in u8 and the grid has a positive step.
    public var isUsable: Bool { maxCode >= 1 && maxCode <= 255 && clip > 0 && clip.isFinite }
}

/// A grid's step, inverse and top code, computed once before a loop over values.
struct GridCoder {
    let step: Float, inverse: Float, top: Float
    init(_ grid: ActivationGrid) { step = grid.step; inverse = grid.inverse; top = Float(grid.maxCode) }

    /// The code of `v` rounded half to even and clamped to 0…top; sets a bit of
    /// `offGrid` when `v` is not exactly code · step (NaN included: its code is 0).
    @inline(__always)
    func code(of v: Float, offGrid: inout UInt32) -> UInt8 {
        var r = (v * inverse + roundingMagic) - roundingMagic
        r = r >= 0 ? r : 0
        r = r > top ? top : r
        offGrid |= r * step == v ? 0 : 1
        return UInt8(r)
    }
}

/// codes[i] = j with x[i] = step·j exactly, 0 ≤ j ≤ maxCode. Returns false (codes
/// unspecified) when some x[i] is not on the grid: the caller keeps the float path.
@inline(__always)
public func activationCodes(_ x: UnsafePointer<Float>, count: Int, grid: ActivationGrid,
                           into codes: UnsafeMutablePointer<UInt8>) -> Bool {
    guard grid.isUsable else { return false }
    let coder = GridCoder(grid)
    if Kernels.hasAVX512 {
        return ql_activation_codes_avx512(x, count, coder.inverse, coder.step, coder.top, codes) != 0
    }
    return PortableCodes.activationCodes(x, count: count, coder, into: codes)
}

/// `activationCodes` from NCHW floats into NHWC codes (channel fastest), the layout
/// `im2row` reads.
public func activationCodesNHWC(_ x: UnsafePointer<Float>, batch n: Int, channels c: Int, plane hw: Int,
                                grid: ActivationGrid, into codes: UnsafeMutablePointer<UInt8>) -> Bool {
    guard grid.isUsable else { return false }
    let coder = GridCoder(grid)
    if Kernels.hasAVX512 && c * hw < Int(Int32.max) {
        // 2.5 % of cifar3 w8a8 training as the Swift loop (perf): the C form gathers
        // 16 channels of a pixel and stores their codes as one 16-byte run.
        return ql_activation_codes_nhwc_avx512(x, n, c, hw, coder.inverse, coder.step, coder.top, codes) != 0
    }
    return PortableCodes.activationCodesNHWC(x, batch: n, channels: c, plane: hw, coder, into: codes)
}

/// Sign and ternary activations s ∈ {−1, 0, +1} as unsigned codes u = s + 1 ∈ {0, 1, 2}
/// (−0 is 0). Returns false (codes unspecified) when some x[i] is another value.
/// With u, a layer's sum is W·s = W·u − Σ W (over all taps, when padding taps carry
/// u = 1, i.e. s = 0: `im2row(…, pad: 1)`).
public func signCodes(_ x: UnsafePointer<Float>, count: Int, into codes: UnsafeMutablePointer<UInt8>) -> Bool {
    if Kernels.hasAVX512 { return ql_sign_codes_avx512(x, count, codes) != 0 }
    return PortableCodes.signCodes(x, count: count, into: codes)
}

/// `signCodes` from NCHW floats into NHWC codes (channel fastest), the layout `im2row` reads.
public func signCodesNHWC(_ x: UnsafePointer<Float>, batch n: Int, channels c: Int, plane hw: Int,
                          into codes: UnsafeMutablePointer<UInt8>) -> Bool {
    if Kernels.hasAVX512 && c * hw < Int(Int32.max) { return ql_sign_codes_nhwc_avx512(x, n, c, hw, codes) != 0 }
    return PortableCodes.signCodesNHWC(x, batch: n, channels: c, plane: hw, into: codes)
}

/// The portable loops behind `activationCodes`, `activationCodesNHWC`, `signCodes` and
/// `signCodesNHWC` (the references of their AVX-512 forms; the tests call them through
/// the `portable…` functions).
enum PortableCodes {
    @inline(__always)
    static func signCode(of v: Float, offGrid: inout UInt32) -> UInt8 {
        offGrid |= v == 1 || v == 0 || v == -1 ? 0 : 1
        return v == 1 ? 2 : (v == 0 ? 1 : 0)
    }

    static func signCodes(_ x: UnsafePointer<Float>, count: Int, into codes: UnsafeMutablePointer<UInt8>) -> Bool {
        var bad: UInt32 = 0
        for i in 0..<count { codes[i] = signCode(of: x[i], offGrid: &bad) }
        return bad == 0
    }

    static func signCodesNHWC(_ x: UnsafePointer<Float>, batch n: Int, channels c: Int, plane hw: Int,
                              into codes: UnsafeMutablePointer<UInt8>) -> Bool {
        var bad: UInt32 = 0
        for b in 0..<n {
            for ch in 0..<c {
                let src = x + (b * c + ch) * hw
                let dst = codes + b * hw * c + ch
                for i in 0..<hw { dst[i * c] = signCode(of: src[i], offGrid: &bad) }
            }
        }
        return bad == 0
    }

    static func activationCodes(_ x: UnsafePointer<Float>, count: Int, _ coder: GridCoder,
                                into codes: UnsafeMutablePointer<UInt8>) -> Bool {
        var bad: UInt32 = 0
        for i in 0..<count { codes[i] = coder.code(of: x[i], offGrid: &bad) }
        return bad == 0
    }

    static func activationCodesNHWC(_ x: UnsafePointer<Float>, batch n: Int, channels c: Int, plane hw: Int,
                                    _ coder: GridCoder, into codes: UnsafeMutablePointer<UInt8>) -> Bool {
        var bad: UInt32 = 0
        for b in 0..<n {
            for ch in 0..<c {
                let src = x + (b * c + ch) * hw
                let dst = codes + b * hw * c + ch
                for i in 0..<hw { dst[i * c] = coder.code(of: src[i], offGrid: &bad) }
            }
        }
        return bad == 0
    }
}

/// The portable forms of `activationCodes` / `activationCodesNHWC` (tests compare the
/// AVX-512 forms with them).
public func portableActivationCodes(_ x: UnsafePointer<Float>, count: Int, grid: ActivationGrid,
                                    into codes: UnsafeMutablePointer<UInt8>) -> Bool {
    grid.isUsable && PortableCodes.activationCodes(x, count: count, GridCoder(grid), into: codes)
}

public func portableSignCodes(_ x: UnsafePointer<Float>, count: Int, into codes: UnsafeMutablePointer<UInt8>) -> Bool {
    PortableCodes.signCodes(x, count: count, into: codes)
}

public func portableSignCodesNHWC(_ x: UnsafePointer<Float>, batch n: Int, channels c: Int, plane hw: Int,
                                  into codes: UnsafeMutablePointer<UInt8>) -> Bool {
    PortableCodes.signCodesNHWC(x, batch: n, channels: c, plane: hw, into: codes)
}

public func portableActivationCodesNHWC(_ x: UnsafePointer<Float>, batch n: Int, channels c: Int, plane hw: Int,
                                        grid: ActivationGrid, into codes: UnsafeMutablePointer<UInt8>) -> Bool {
    grid.isUsable && PortableCodes.activationCodesNHWC(x, batch: n, channels: c, plane: hw, GridCoder(grid), into: codes)
}

/// rows[(n, oh, ow), (ki, kj, c)] = x[n, oh·S − P + ki, ow·S − P + kj, c] (NHWC codes),
/// `pad` outside the image (0; 1 for sign codes, whose 1 is s = 0): the transposed,
/// channel-fastest im2col, so that the u8 codes are the GEMM's left operand (oneDNN's
/// integer GEMM takes u8 × s8). Each output position's tap row is one run of in-image
/// bytes between pad bytes (3·C bytes inside a 3×3 image): `vector` (AVX-512) moves it in
/// 32-byte steps, the portable C form with memcpy / memset, as the Swift loop did whose
/// calls per run were 1.4 % of cifar3 w8a8 training (perf; C test, cifar3 conv2 rows of
/// 3 images: 7.0–7.7 → 4.0–4.3 µs an image). The same bytes.
public func im2row(_ x: UnsafePointer<UInt8>, batch n: Int, _ g: ConvGeometry, pad: UInt8 = 0,
                   into rows: UnsafeMutablePointer<UInt8>, vector: Bool = Kernels.hasAVX512) {
    if vector {
        ql_im2row_u8_avx512(x, n, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.stride, g.padding, pad, rows)
    } else {
        ql_im2row_u8(x, n, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.stride, g.padding, pad, rows)
    }
}
