/// Weight codes packed at their true bit width, with their float scales: the form a
/// quantized tensor takes in a `.qlm` file.
///
/// A k-bit code takes exactly k bits (k = 1…16; ternary 2, binary 1), so a w3 layer
/// stores 3 bits a weight, as `cost` counts it. Code i occupies bits [i·k, (i+1)·k)
/// of the byte stream, least significant bit first (a 16-bit code is little-endian;
/// a 3-bit code may straddle two bytes), so ⌈count·k/8⌉ bytes hold `count` codes and
/// the padding bits of the last byte are 0. Codes are two's complement in k bits,
/// except at k = 1 where bit 1 is +1 and bit 0 is −1.
public struct PackedTensor: Equatable, Sendable {
    public var scheme: WeightCodes.Scheme
    /// Bits per code: 1…16, the scheme's code width.
    public var bits: Int
    public var count: Int
    public var scales: [Float]
    public var bytes: [UInt8]

    /// Code width of a scheme: k for k-bit, 2 for ternary, 1 for binary.
    public static func codeBits(_ scheme: WeightCodes.Scheme) -> Int {
        switch scheme {
        case .uniform(let k): return k
        case .ternary: return 2
        case .binary: return 1
        }
    }

    /// ⌈count · bits / 8⌉.
    public static func byteCount(count: Int, bits: Int) -> Int { (count * bits + 7) / 8 }

    /// Packs `codes` at their scheme's width.
    public init(_ codes: WeightCodes) {
        scheme = codes.scheme
        bits = Self.codeBits(codes.scheme)
        count = codes.codes.count
        scales = codes.scales
        bytes = Self.pack(codes.codes, bits: bits)
    }

    /// Wraps stored parts (a reader's view); `codes()` validates them.
    public init(scheme: WeightCodes.Scheme, bits: Int, count: Int, scales: [Float], bytes: [UInt8]) {
        self.scheme = scheme; self.bits = bits; self.count = count; self.scales = scales; self.bytes = bytes
    }

    /// Unpacks and checks every code against the scheme.
    public func codes() throws(PackingError) -> WeightCodes {
        let k = Self.codeBits(scheme)
        guard (1...16).contains(k), !(k == 1 && scheme != .binary) else { throw .unsupportedBits(k) }
        guard k == bits else { throw .widthMismatch(codeBits: k, storedBits: bits) }
        let c = try Self.unpack(bytes, count: count, bits: bits)
        guard !scales.isEmpty, count % scales.count == 0 else {
            throw .scaleCount(scales: scales.count, codes: count)
        }
        let range: ClosedRange<Int32>
        switch scheme {
        case .uniform(let b): range = -Int32((1 << (b - 1)) - 1)...Int32((1 << (b - 1)) - 1)
        case .ternary, .binary: range = -1...1
        }
        if let i = c.firstIndex(where: { !range.contains($0) }) {
            throw .codeOutOfRange(index: i, code: c[i], allowed: range)
        }
        return WeightCodes(scheme: scheme, codes: c, scales: scales)
    }

    /// Packs signed codes into `bits`-bit fields (1…16). Codes must fit (programmer error otherwise).
    public static func pack(_ codes: [Int32], bits: Int) -> [UInt8] {
        precondition((1...16).contains(bits), "PackedTensor.pack: bits must be 1…16, got \(bits)")
        var out = [UInt8](repeating: 0, count: byteCount(count: codes.count, bits: bits))
        let mask = UInt64((1 << bits) - 1)
        let low = bits == 1 ? -1 : -(1 << (bits - 1)), high = bits == 1 ? 1 : (1 << (bits - 1)) - 1
        var acc: UInt64 = 0, held = 0, o = 0       // bits not yet written, lowest first
        for c in codes {
            precondition(Int(c) >= low && Int(c) <= high && (bits != 1 || c != 0),
                         "PackedTensor.pack: code \(c) does not fit \(bits) bits")
            let u = bits == 1 ? (c > 0 ? 1 : 0) : UInt64(UInt32(bitPattern: c)) & mask
            acc |= u << UInt64(held)
            held += bits
            while held >= 8 {
                out[o] = UInt8(truncatingIfNeeded: acc)
                acc >>= 8; held -= 8; o += 1
            }
        }
        if held > 0 { out[o] = UInt8(truncatingIfNeeded: acc) }
        return out
    }

    /// Unpacks `count` codes of `bits` bits (1…16); throws on a short or long buffer,
    /// an unknown width or nonzero padding bits, never traps.
    public static func unpack(_ bytes: [UInt8], count: Int, bits: Int) throws(PackingError) -> [Int32] {
        guard (1...16).contains(bits) else { throw .unsupportedBits(bits) }
        guard count >= 0, count <= (Int.max - 7) / 16 else { throw .badCount(count) }
        let needed = byteCount(count: count, bits: bits)
        guard bytes.count >= needed else { throw .truncated(expectedBytes: needed, foundBytes: bytes.count) }
        guard bytes.count == needed else { throw .trailingBytes(expectedBytes: needed, foundBytes: bytes.count) }
        var out = [Int32](repeating: 0, count: count)
        let mask = UInt64((1 << bits) - 1), sign = UInt64(1) << UInt64(bits - 1)
        var acc: UInt64 = 0, held = 0, o = 0
        for i in 0..<count {
            while held < bits {
                acc |= UInt64(bytes[o]) << UInt64(held)
                held += 8; o += 1
            }
            let u = acc & mask
            acc >>= UInt64(bits); held -= bits
            if bits == 1 {
                out[i] = u == 1 ? 1 : -1
            } else {
                out[i] = u & sign != 0 ? Int32(Int64(u) - (Int64(1) << Int64(bits))) : Int32(u)
            }
        }
        if acc != 0 { throw .nonzeroPadding(byte: needed - 1) }
        return out
    }
}

/// Why packed codes cannot be read back.
public enum PackingError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupportedBits(Int)
    case badCount(Int)
    case truncated(expectedBytes: Int, foundBytes: Int)
    case trailingBytes(expectedBytes: Int, foundBytes: Int)
    case nonzeroPadding(byte: Int)
    case widthMismatch(codeBits: Int, storedBits: Int)
    case scaleCount(scales: Int, codes: Int)
    case codeOutOfRange(index: Int, code: Int32, allowed: ClosedRange<Int32>)

    public var description: String {
        switch self {
        case .unsupportedBits(let b): return "expected a code width of 1…16 bits, found \(b)"
        case .badCount(let n): return "expected a code count ≥ 0, found \(n)"
        case let .truncated(e, f): return "expected \(e) bytes of packed codes, found \(f)"
        case let .trailingBytes(e, f): return "expected \(e) bytes of packed codes, found \(f) (extra bytes)"
        case .nonzeroPadding(let b): return "expected zero padding bits in packed byte \(b), found set bits"
        case let .widthMismatch(k, b): return "expected \(k)-bit fields for \(k)-bit codes, found \(b)-bit fields"
        case let .scaleCount(s, c): return "expected a scale count dividing the \(c) codes, found \(s) scales"
        case let .codeOutOfRange(i, c, r): return "expected codes in \(r.lowerBound)…\(r.upperBound), found \(c) at code \(i)"
        }
    }
}
