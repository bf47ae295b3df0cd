/// Reads little-endian fields from a byte buffer, bounds-checked: running past the
/// end throws an `ArchiveError` naming the field and the offset, never traps.
/// Internal, so it does not clash with Datasets' public `ByteReader`.
struct ByteReader {
    let bytes: [UInt8]
    let file: String
    private(set) var offset: Int
    /// Reads stop here (the checksum follows).
    let end: Int

    init(_ bytes: [UInt8], file: String, offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes; self.file = file; self.offset = offset; self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }

    /// Throws unless `n` more bytes remain for `what`.
    func need(_ n: Int, _ what: String) throws(ArchiveError) {
        guard n >= 0, n <= remaining else {
            throw ArchiveError(.truncated, file: file, offset: offset,
                               expected: "\(n) bytes of \(what)", found: "\(max(0, remaining)) before the data ends at byte \(end)")
        }
    }

    mutating func u8(_ what: String) throws(ArchiveError) -> UInt8 {
        try need(1, what)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16(_ what: String) throws(ArchiveError) -> UInt16 {
        try need(2, what)
        defer { offset += 2 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    mutating func u32(_ what: String) throws(ArchiveError) -> UInt32 {
        try need(4, what)
        defer { offset += 4 }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << UInt32(8 * $1) }
    }

    mutating func u64(_ what: String) throws(ArchiveError) -> UInt64 {
        try need(8, what)
        defer { offset += 8 }
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << UInt64(8 * $1) }
    }

    mutating func raw(_ n: Int, _ what: String) throws(ArchiveError) -> [UInt8] {
        try need(n, what)
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    mutating func f32s(_ n: Int, _ what: String) throws(ArchiveError) -> [Float] {
        guard n >= 0, n <= remaining / 4 else {
            throw ArchiveError(.truncated, file: file, offset: offset, expected: "\(n) × 4 bytes of \(what)",
                               found: "\(max(0, remaining)) before the data ends at byte \(end)")
        }
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let o = offset + 4 * i
            out[i] = Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
        }
        offset += 4 * n
        return out
    }

    /// u16 length, then UTF-8.
    mutating func string(_ what: String) throws(ArchiveError) -> String {
        let start = offset
        let n = Int(try u16("length of \(what)"))
        let utf8 = try raw(n, what)
        guard let s = String(validating: utf8, as: UTF8.self) else {
            throw malformed(at: start, expected: "UTF-8 text for \(what)", found: "invalid bytes")
        }
        return s
    }

    /// A malformed-content error at `offset` (the current one by default).
    func malformed(at offset: Int? = nil, expected: String, found: String) -> ArchiveError {
        ArchiveError(.malformed, file: file, offset: offset ?? self.offset, expected: expected, found: found)
    }
}
