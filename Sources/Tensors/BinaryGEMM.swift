import CBitKernels
import Foundation

// Binary GEMM for ±1 vectors packed one bit per value (1 = +1, 0 = −1), 64 to a word:
//
//     dot(x, w) = valid − 2 · popcount((x ⊕ w) ∧ mask)
//
// over the `valid` positions set in `mask` (zero padding of a convolution is a
// position outside the mask). Popcounts are exact integers, so every implementation
// gives the same result; they differ only in speed (`quantlab bench infer`).

/// An implementation of the XNOR-popcount GEMM (C target CBitKernels).
public enum XNORLevel: Int32, CaseIterable, Sendable, Comparable {
    /// C bit tricks, no popcount instruction.
    case portable = 0
    /// The scalar `popcnt` instruction, one 64-bit word at a time.
    case popcnt = 1
    /// 256-bit nibble-table popcount (vpshufb, vpsadbw).
    case avx2 = 2
    /// 512-bit ternary logic and `vpopcntq` (AVX-512 VPOPCNTDQ), 8 filters per register.
    case avx512 = 3

    public static func < (a: XNORLevel, b: XNORLevel) -> Bool { a.rawValue < b.rawValue }

    public var name: String {
        switch self {
        case .portable: return "portable"
        case .popcnt: return "popcnt"
        case .avx2: return "avx2"
        case .avx512: return "avx512_vpopcntdq"
        }
    }

    /// Whether this CPU runs it.
    public var isSupported: Bool { ql_xnor_supported(rawValue) != 0 }

    /// The fastest supported level, capped by `QUANTLAB_MAX_ISA` (`avx2`, `popcnt` or
    /// `portable`) when set: how the fallbacks are exercised on a newer CPU.
    public static let best: XNORLevel = {
        var cap = XNORLevel.avx512
        if let env = getenv("QUANTLAB_MAX_ISA").map({ String(cString: $0).lowercased() }) {
            cap = allCases.first { env == $0.name || env.hasPrefix($0.name) } ?? (env.hasPrefix("avx512") ? .avx512 : cap)
        }
        return allCases.last { $0 <= cap && $0.isSupported } ?? .portable
    }()
}

/// ±1 filters packed for `xnorGemm`: `words` 64-bit words per filter, in blocks of 8
/// filters (word j of 8 filters side by side, the layout the 512-bit kernel loads).
public struct PackedBinaryFilters: Sendable {
    public let filters: Int, words: Int
    public let blocked: [UInt64]

    /// `rows` holds `filters` rows of `words` words (bit b of word j = position 64·j + b).
    public init(rows: [UInt64], filters: Int, words: Int) {
        precondition(filters >= 0 && words >= 0 && rows.count == filters * words,
                     "PackedBinaryFilters: \(rows.count) words for \(filters) filters of \(words) words")
        self.filters = filters; self.words = words
        var b = [UInt64](repeating: 0, count: max(1, ql_xnor_packed_length(filters, words)))
        rows.withUnsafeBufferPointer { r in
            b.withUnsafeMutableBufferPointer { ql_xnor_pack_filters(r.baseAddress!, filters, words, $0.baseAddress!) }
        }
        blocked = b
    }
}

/// out[i·ldo + f] = dot(x_i, filter f) for `rows` rows of `filters.words` words each,
/// restricted to mask_i (nil: every position) with valid_i = valid[i] (nil: validAll).
public func xnorGemm(level: XNORLevel = .best, x: UnsafePointer<UInt64>, mask: UnsafePointer<UInt64>?,
                     valid: UnsafePointer<Int32>?, validAll: Int32 = 0, rows: Int,
                     filters: PackedBinaryFilters, out: UnsafeMutablePointer<Int32>, ldo: Int) {
    guard rows > 0, filters.filters > 0 else { return }
    filters.blocked.withUnsafeBufferPointer { wb in
        ql_xnor_gemm(level.rawValue, x, mask, valid, validAll, rows, filters.words, wb.baseAddress!, filters.filters, out, ldo)
    }
}

/// The definition, one position at a time: Σ over mask positions of (±1)·(±1), with
/// the filters given as plain rows. The reference `xnorGemm` is tested against.
public func naiveXnorGemm(x: UnsafePointer<UInt64>, mask: UnsafePointer<UInt64>?, rows: Int, words: Int,
                          filterRows w: UnsafePointer<UInt64>, filters: Int, out: UnsafeMutablePointer<Int32>, ldo: Int) {
    for i in 0..<rows {
        for f in 0..<filters {
            var s = 0
            for p in 0..<(words * 64) {
                let j = p / 64, bit = UInt64(1) << UInt64(p % 64)
                if let mask, mask[i * words + j] & bit == 0 { continue }
                let a = x[i * words + j] & bit != 0 ? 1 : -1, b = w[f * words + j] & bit != 0 ? 1 : -1
                s += a * b
            }
            out[i * ldo + f] = Int32(s)
        }
    }
}
