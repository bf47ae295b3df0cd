import Tensors
import Quantization

// Weight codes of a .qlm record rearranged for the packed kernels. Codes arrive in
// the model's order: conv [K, C, KH, KW], dense [K, F] with F in NCHW flattening
// (c, h, w) of the layer's input.

enum PackedWeights {
    /// The source index of the code that multiplies input (position p, channel c) of
    /// row (tap or position) layout: conv (c, ki, kj) with p = ki·KW + kj; dense
    /// (c, h, w) with p = h·W + w. In both, index = c · positions + p.
    @inline(__always)
    static func sourceIndex(channel c: Int, position p: Int, positions: Int) -> Int { c * positions + p }

    /// Codes as s8 in (position, channel) order: the row layout of `im2row` (conv) or of
    /// NHWC codes flattened (dense on an image input; positions = 1 for a flat input).
    static func int8Codes(_ codes: [Int32], filters k: Int, channels c: Int, positions p: Int) -> [Int8] {
        let r = c * p
        var out = [Int8](repeating: 0, count: k * r)
        for f in 0..<k {
            for pos in 0..<p {
                for ch in 0..<c {
                    out[f * r + pos * c + ch] = Int8(clamping: codes[f * r + sourceIndex(channel: ch, position: pos, positions: p)])
                }
            }
        }
        return out
    }

    /// Sign bits (code +1 → 1) in the bit-row layout: per position (tap) C32 32-bit
    /// words, rows padded to whole 64-bit words.
    static func binaryFilters(_ codes: [Int32], filters k: Int, channels c: Int, positions p: Int) -> PackedBinaryFilters {
        let c32 = (c + 31) / 32
        let words = (p * c32 + 1) / 2
        var rows = [UInt64](repeating: 0, count: k * words)
        for f in 0..<k {
            for pos in 0..<p {
                for ch in 0..<c where codes[f * c * p + sourceIndex(channel: ch, position: pos, positions: p)] > 0 {
                    let bit = (pos * c32 + ch / 32) * 32 + ch % 32
                    rows[f * words + bit / 64] |= UInt64(1) << UInt64(bit % 64)
                }
            }
        }
        return PackedBinaryFilters(rows: rows, filters: k, words: words)
    }

    /// One scale per output row (a per-tensor scale repeated).
    static func rowScales(_ scales: [Float], filters k: Int) -> [Float] {
        scales.count == k ? scales : [Float](repeating: scales.first ?? 0, count: k)
    }

    /// The largest |code| of a scheme, when the codes fit in s8.
    static func maxCode(_ scheme: WeightCodes.Scheme) -> Int? {
        switch scheme {
        case .binary, .ternary: return 1
        case .uniform(let b) where b <= 8: return (1 << (b - 1)) - 1
        default: return nil
        }
    }
}
