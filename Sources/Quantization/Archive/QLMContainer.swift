/// The byte layout of a `.qlm` file (quantlab model), independent of the model:
/// a JSON header and named tensors, packed weights at their bit width, checksummed.
///
///     offset  field
///     0       magic "QLM1"
///     4       u32  format version (2)
///     8       u64  file length in bytes, checksum included
///     16      u32  header length H, then H bytes of UTF-8 JSON
///     …       u32  record count R, then R records:
///               u16 name length, name (UTF-8)
///               u8 rank, rank × u32 dimensions
///               u8 payload: 0 = Float32 values (count × 4 bytes)
///                           1 = packed codes: u8 scheme (0 k-bit, 1 ternary, 2 binary),
///                               u8 code bits k, u32 scale count S, S × f32 scales,
///                               ⌈count·k/8⌉ bytes of codes (see `PackedTensor`)
///     L − 4   u32  CRC-32 (zlib's) of bytes 0 ..< L − 4
///
/// Version 1 stored 3-bit codes in 4-bit fields and 5…7-bit codes in 8 (and no
/// input normalisation in the header); it is refused with a message that says so.
///
/// All integers and floats little-endian. Reading checks, in order: magic, version,
/// length (a short file is "truncated"), checksum, then every field against the
/// bytes that remain, so a damaged file gives an `ArchiveError`, never a trap.
public struct QLMContainer: Equatable, Sendable {
    public static let magic: [UInt8] = Array("QLM1".utf8)
    public static let formatVersion: UInt32 = 2
    /// Where the JSON header starts (after magic, version, length and its own length).
    public static let headerOffset = 20

    /// UTF-8 JSON text.
    public var header: [UInt8]
    public var records: [ArchiveRecord]

    public init(header: [UInt8], records: [ArchiveRecord]) {
        self.header = header
        self.records = records
    }

    /// A record by name.
    public func record(_ name: String) -> ArchiveRecord? { records.first { $0.name == name } }

    /// The file bytes.
    public func encode() -> [UInt8] {
        var w = ByteWriter()
        w.raw(Self.magic)
        w.u32(Self.formatVersion)
        w.u64(0)                                   // length, patched below
        w.u32(UInt32(header.count))
        w.raw(header)
        w.u32(UInt32(records.count))
        for r in records {
            precondition(r.shape.reduce(1, *) == r.count, "QLMContainer: record \(r.name) has shape \(r.shape) but \(r.count) values")
            w.string(r.name)
            w.u8(UInt8(r.shape.count))
            for d in r.shape { w.u32(UInt32(d)) }
            switch r.payload {
            case .float(let v):
                w.u8(0)
                w.f32s(v)
            case .packed(let p):
                w.u8(1)
                switch p.scheme {
                case .uniform(let k): w.u8(0); w.u8(UInt8(k))
                case .ternary: w.u8(1); w.u8(2)
                case .binary: w.u8(2); w.u8(1)
                }
                w.u32(UInt32(p.scales.count))
                w.f32s(p.scales)
                w.raw(p.bytes)
            }
        }
        w.patchU64(at: 8, UInt64(w.count + 4))
        let crc = CRC32.checksum(w.bytes)
        w.u32(crc)
        return w.bytes
    }

    /// Reads file bytes; `file` names the file in errors.
    public static func decode(_ bytes: [UInt8], file: String) throws(ArchiveError) -> QLMContainer {
        var r = ByteReader(bytes, file: file)
        let magic = try r.raw(4, "magic \"QLM1\"")
        guard magic == Self.magic else {
            throw ArchiveError(.badMagic, file: file, offset: 0, expected: "magic \"QLM1\"", found: quoted(magic))
        }
        let version = try r.u32("format version")
        guard version == formatVersion else {
            let note = version < formatVersion ? " (an older quantlab wrote it; this build reads version \(formatVersion) only: export the model again)"
                : version > formatVersion ? " (a newer quantlab wrote it; this build reads version \(formatVersion) only)" : ""
            throw ArchiveError(.unsupportedVersion, file: file, offset: 4, expected: "format version \(formatVersion)", found: "version \(version)\(note)")
        }
        let length = try r.u64("file length")
        guard length == UInt64(bytes.count) else {
            let kind: ArchiveError.Kind = length > UInt64(bytes.count) ? .truncated : .malformed
            throw ArchiveError(kind, file: file, offset: bytes.count < length ? bytes.count : Int(length),
                               expected: "\(length) bytes (the length field at byte 8)", found: "\(bytes.count) bytes")
        }
        guard bytes.count >= 24 else {
            throw ArchiveError(.truncated, file: file, offset: bytes.count, expected: "at least 24 bytes", found: "\(bytes.count)")
        }
        let crcOffset = bytes.count - 4
        let stored = ByteReader(bytes, file: file, offset: crcOffset)
        var s = stored
        let expectedCRC = try s.u32("CRC-32")
        let actualCRC = CRC32.checksum(bytes[0..<crcOffset])
        guard expectedCRC == actualCRC else {
            throw ArchiveError(.checksumMismatch, file: file, offset: crcOffset,
                               expected: "CRC-32 \(hex(expectedCRC)) (stored)", found: "\(hex(actualCRC)) computed over bytes 0..<\(crcOffset)")
        }
        r = ByteReader(bytes, file: file, offset: 16, end: crcOffset)
        let headerLength = Int(try r.u32("header length"))
        let header = try r.raw(headerLength, "JSON header")
        let count = Int(try r.u32("record count"))
        var records: [ArchiveRecord] = []
        for index in 0..<count {
            records.append(try readRecord(&r, index: index))
        }
        guard r.remaining == 0 else {
            throw r.malformed(expected: "the CRC-32 at byte \(crcOffset) after \(count) records", found: "\(r.remaining) more bytes")
        }
        return QLMContainer(header: header, records: records)
    }

    private static func readRecord(_ r: inout ByteReader, index: Int) throws(ArchiveError) -> ArchiveRecord {
        let name = try r.string("record \(index) name")
        let rank = Int(try r.u8("rank of \(name)"))
        var shape: [Int] = []
        var count = 1
        for _ in 0..<rank {
            let d = Int(try r.u32("dimension of \(name)"))
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= r.bytes.count * 8 else {
                throw r.malformed(at: r.offset - 4, expected: "a shape that fits the file for \(name)", found: "\(shape + [d])")
            }
            shape.append(d)
            count = p
        }
        let payloadOffset = r.offset
        switch try r.u8("payload kind of \(name)") {
        case 0:
            let values = try r.f32s(count, "Float32 values of \(name)")
            return ArchiveRecord(name: name, shape: shape, payload: .float(values))
        case 1:
            let schemeOffset = r.offset
            let tag = try r.u8("code scheme of \(name)"), k = Int(try r.u8("code bits of \(name)"))
            let scheme: WeightCodes.Scheme
            switch (tag, k) {
            case (0, 2...16): scheme = .uniform(bits: k)
            case (1, 2): scheme = .ternary
            case (2, 1): scheme = .binary
            default:
                throw r.malformed(at: schemeOffset, expected: "code scheme 0 (k-bit, 2…16), 1 (ternary, 2) or 2 (binary, 1) for \(name)",
                                  found: "scheme \(tag) with \(k) bits")
            }
            let bits = k
            let scaleCount = Int(try r.u32("scale count of \(name)"))
            guard scaleCount >= 1, count % scaleCount == 0 else {
                throw r.malformed(at: r.offset - 4, expected: "a scale count dividing the \(count) codes of \(name)", found: "\(scaleCount)")
            }
            let scales = try r.f32s(scaleCount, "scales of \(name)")
            let codeOffset = r.offset
            let packed = PackedTensor(scheme: scheme, bits: bits, count: count, scales: scales,
                                      bytes: try r.raw(PackedTensor.byteCount(count: count, bits: bits), "packed codes of \(name)"))
            do { _ = try packed.codes() } catch {
                throw r.malformed(at: codeOffset, expected: "valid codes for \(name)", found: error.description)
            }
            return ArchiveRecord(name: name, shape: shape, payload: .packed(packed))
        case let kind:
            throw r.malformed(at: payloadOffset, expected: "payload kind 0 (Float32) or 1 (packed codes) for \(name)", found: "\(kind)")
        }
    }

    static func quoted(_ b: [UInt8]) -> String {
        "\"" + b.map { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 ? String(UnicodeScalar($0)) : "\\x" + (($0 < 16) ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined() + "\""
    }

    static func hex(_ v: UInt32) -> String { "0x" + String(repeating: "0", count: 8 - String(v, radix: 16).count) + String(v, radix: 16, uppercase: true) }
}
