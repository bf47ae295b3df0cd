/// Weight codes packed at their bit width, with their float scales: the form a
/// quantized tensor takes in a `.qlm` file.
///
/// Codes of k bits go into a container of 1, 2, 4, 8 or 16 bits (the next one up:
/// k = 3 → 4, 5…8 → 8, 9…16 → 16; ternary 2, binary 1). Code i occupies bits
/// [i·b, (i+1)·b) of the byte stream, least significant bit first, so
/// ⌈count·b/8⌉ bytes hold `count` codes and the padding bits of the last byte are 0.
/// Codes are two's complement in b bits, except at b = 1 where bit 1 is +1 and bit 0 is −1.
public struct PackedTensor: Equatable, Sendable {
    public var scheme: WeightCodes.Scheme
    /// Container bits: 1, 2, 4, 8 or 16.
    public var bits: Int
    public var count: Int
    public var scales: [Float]
    public var bytes: [UInt8]

    /// Container widths a file can hold.
    public static let containerWidths = [1, 2, 4, 8, 16]

    /// The container for a code width: the smallest of 1, 2, 4, 8, 16 that holds it.
    public static func containerBits(forCodeBits k: Int) -> Int {
        precondition((1...16).contains(k), "PackedTensor: code bits must be 1…16, got \(k)")
        return containerWidths.first { $0 >= k }!
    }

    /// ⌈count · bits / 8⌉.
    public static func byteCount(count: Int, bits: Int) -> Int { (count * bits + 7) / 8 }

    /// Packs `codes` (their scheme decides the container).
    public init(_ codes: WeightCodes) {
        scheme = codes.scheme
        bits = Self.containerBits(forCodeBits: codes.bits)
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
        let c = try Self.unpack(bytes, count: count, bits: bits)
        let k: Int
        switch scheme {
        case .uniform(let b): k = b
        case .ternary: k = 2
        case .binary: k = 1
        }
        guard (1...16).contains(k), !(k == 1 && scheme != .binary) else { throw .unsupportedBits(k) }
        guard Self.containerBits(forCodeBits: k) == bits else {
            throw .containerMismatch(codeBits: k, containerBits: bits)
        }
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

    /// Packs signed codes into `bits`-bit fields. Codes must fit (programmer error otherwise).
    public static func pack(_ codes: [Int32], bits: Int) -> [UInt8] {
        precondition(containerWidths.contains(bits), "PackedTensor.pack: bits must be 1, 2, 4, 8 or 16, got \(bits)")
        var out = [UInt8](repeating: 0, count: byteCount(count: codes.count, bits: bits))
        if bits == 16 {
            for (i, c) in codes.enumerated() {
                precondition(c >= -32768 && c <= 32767, "PackedTensor.pack: code \(c) does not fit 16 bits")
                let u = UInt16(bitPattern: Int16(c))
                out[2 * i] = UInt8(u & 0xFF)
                out[2 * i + 1] = UInt8(u >> 8)
            }
            return out
        }
        let mask = UInt32((1 << bits) - 1), perByte = 8 / bits
        let low = bits == 1 ? -1 : -(1 << (bits - 1)), high = bits == 1 ? 1 : (1 << (bits - 1)) - 1
        for (i, c) in codes.enumerated() {
            precondition(Int(c) >= low && Int(c) <= high && (bits != 1 || c != 0),
                         "PackedTensor.pack: code \(c) does not fit \(bits) bits")
            let u = bits == 1 ? (c > 0 ? 1 : 0) : UInt32(bitPattern: c) & mask
            out[i / perByte] |= UInt8(u << UInt32((i % perByte) * bits))
        }
        return out
    }

    /// Unpacks `count` codes of `bits` bits; throws on a short buffer, an unknown
    /// width or nonzero padding bits, never traps.
    public static func unpack(_ bytes: [UInt8], count: Int, bits: Int) throws(PackingError) -> [Int32] {
        guard containerWidths.contains(bits) else { throw .unsupportedBits(bits) }
        guard count >= 0, count <= (Int.max - 7) / 16 else { throw .badCount(count) }
        let needed = byteCount(count: count, bits: bits)
        guard bytes.count >= needed else { throw .truncated(expectedBytes: needed, foundBytes: bytes.count) }
        guard bytes.count == needed else { throw .trailingBytes(expectedBytes: needed, foundBytes: bytes.count) }
        var out = [Int32](repeating: 0, count: count)
        if bits == 16 {
            for i in 0..<count {
                out[i] = Int32(Int16(bitPattern: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8))
            }
            return out
        }
        let mask = UInt8((1 << bits) - 1), perByte = 8 / bits
        let sign = UInt8(1 << (bits - 1))
        for i in 0..<count {
            let u = (bytes[i / perByte] >> UInt8((i % perByte) * bits)) & mask
            if bits == 1 {
                out[i] = u == 1 ? 1 : -1
            } else {
                out[i] = u & sign != 0 ? Int32(u) - Int32(1 << bits) : Int32(u)
            }
        }
        let usedBits = (count * bits) % 8
        if usedBits != 0, bytes[needed - 1] >> UInt8(usedBits) != 0 {
            throw .nonzeroPadding(byte: needed - 1)
        }
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
    case containerMismatch(codeBits: Int, containerBits: Int)
    case scaleCount(scales: Int, codes: Int)
    case codeOutOfRange(index: Int, code: Int32, allowed: ClosedRange<Int32>)

    public var description: String {
        switch self {
        case .unsupportedBits(let b): return "expected a code width of 1, 2, 4, 8 or 16 bits, found \(b)"
        case .badCount(let n): return "expected a code count ≥ 0, found \(n)"
        case let .truncated(e, f): return "expected \(e) bytes of packed codes, found \(f)"
        case let .trailingBytes(e, f): return "expected \(e) bytes of packed codes, found \(f) (extra bytes)"
        case .nonzeroPadding(let b): return "expected zero padding bits in packed byte \(b), found set bits"
        case let .containerMismatch(k, b): return "expected \(PackedTensor.containerBits(forCodeBits: k))-bit fields for \(k)-bit codes, found \(b)-bit fields"
        case let .scaleCount(s, c): return "expected a scale count dividing the \(c) codes, found \(s) scales"
        case let .codeOutOfRange(i, c, r): return "expected codes in \(r.lowerBound)…\(r.upperBound), found \(c) at code \(i)"
        }
    }
}
