import CZlib

/// Reads the members of a zip archive held in memory, as `numpy.savez` (stored) and
/// `numpy.savez_compressed` (deflated) write them.
///
/// The central directory is found from the end-of-central-directory record (the last
/// 22 + up to 65,535 comment bytes), through the zip64 locator and record when there is
/// one. Each entry's sizes and local-header offset come from the central directory,
/// replaced by its zip64 extra field (id 0x0001) where they read 0xFFFFFFFF — NumPy
/// opens every member with `force_zip64=True`, so its local headers carry one too.
/// Members are stored (method 0) or deflated (method 8); another method, encryption or
/// a multi-disk archive is refused by name. A member's data is checked against its
/// CRC-32. Every offset and size is checked against the archive before use.
struct ZipArchive {
    struct Member {
        var name: String
        var method: UInt16
        var flags: UInt16
        var crc: UInt32
        var compressedSize: Int
        var size: Int
        var localHeaderOffset: Int
        /// Offset of this entry in the central directory (for messages).
        var entryOffset: Int
    }

    let path: String
    let bytes: [UInt8]
    private(set) var members: [Member] = []

    private func error(_ offset: Int, _ expected: String, _ found: String) -> DatasetError {
        DatasetError(file: path, location: .byte(offset), expected: expected, found: found)
    }

    private func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
    private func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
    /// A little-endian u64; values beyond Int.max read as Int.max (bounds checks then fail).
    private func u64(_ o: Int) -> Int {
        let hi = u32(o + 4)
        return hi >= 1 << 31 ? Int.max : u32(o) | hi << 32
    }
    private func has(_ offset: Int, _ count: Int) -> Bool { offset >= 0 && count >= 0 && count <= bytes.count - offset }

    init(path: String, bytes: [UInt8]) throws {
        self.path = path
        self.bytes = bytes
        // End of central directory: signature PK\5\6, the last one whose comment ends the file.
        var eocd = -1
        var o = bytes.count - 22
        while o >= max(0, bytes.count - 22 - 65_535) {
            if bytes[o] == 0x50, bytes[o + 1] == 0x4b, bytes[o + 2] == 5, bytes[o + 3] == 6, o + 22 + u16(o + 20) == bytes.count {
                eocd = o
                break
            }
            o -= 1
        }
        guard eocd >= 0 else {
            let what = bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4b ? "none (a damaged or truncated zip file)" : "none (not a zip file)"
            throw error(max(0, bytes.count - 22), "an end-of-central-directory record (PK\\5\\6) ending the file, as .npz files have", what)
        }
        guard u16(eocd + 4) == 0, u16(eocd + 6) == 0 else {
            throw error(eocd + 4, "a single-disk archive", "disk number \(u16(eocd + 4)), central directory on disk \(u16(eocd + 6))")
        }
        var count = u16(eocd + 10), cdSize = u32(eocd + 12), cdOffset = u32(eocd + 16)
        guard u16(eocd + 8) == count else { throw error(eocd + 8, "\(count) entries on this disk (the total)", "\(u16(eocd + 8))") }
        // Zip64: a locator (PK\6\7) just before the record points at the zip64 record (PK\6\6).
        let locator = eocd - 20
        if locator >= 0, bytes[locator] == 0x50, bytes[locator + 1] == 0x4b, bytes[locator + 2] == 6, bytes[locator + 3] == 7 {
            let at = u64(locator + 8)
            guard has(at, 56), bytes[at] == 0x50, bytes[at + 1] == 0x4b, bytes[at + 2] == 6, bytes[at + 3] == 6 else {
                throw error(locator + 8, "the offset of a zip64 end-of-central-directory record (PK\\6\\6)", "\(at), which holds none")
            }
            guard u32(at + 16) == 0, u32(at + 20) == 0, u32(locator + 4) == 0, u32(locator + 16) <= 1 else {
                throw error(at + 16, "a single-disk archive", "a multi-disk zip64 archive")
            }
            guard u64(at + 24) == u64(at + 32) else { throw error(at + 24, "\(u64(at + 32)) entries on this disk (the total)", "\(u64(at + 24))") }
            count = u64(at + 32); cdSize = u64(at + 40); cdOffset = u64(at + 48)
        }
        guard has(cdOffset, cdSize), cdOffset + cdSize <= eocd, count <= cdSize / 46 else {
            throw error(eocd + 12, "a central directory inside the archive (\(count) entries)",
                        "\(cdSize) bytes at offset \(cdOffset) in a file of \(bytes.count) bytes")
        }
        var at = cdOffset
        for _ in 0..<count {
            guard has(at, 46), at + 46 <= cdOffset + cdSize, u32(at) == 0x0201_4b50 else {
                throw error(at, "a central directory entry (PK\\1\\2)", has(at, 4) ? String(format: "0x%08x", u32(at)) : "the end of the file")
            }
            let nameLength = u16(at + 28), extraLength = u16(at + 30), commentLength = u16(at + 32)
            guard at + 46 + nameLength + extraLength + commentLength <= cdOffset + cdSize else {
                throw error(at + 28, "an entry's name, extra field and comment inside the central directory", "lengths \(nameLength), \(extraLength), \(commentLength)")
            }
            var m = Member(name: String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self),
                           method: UInt16(u16(at + 10)), flags: UInt16(u16(at + 8)), crc: UInt32(u32(at + 16)),
                           compressedSize: u32(at + 20), size: u32(at + 24), localHeaderOffset: u32(at + 42), entryOffset: at)
            try readZip64Extra(&m, extra: (at + 46 + nameLength)..<(at + 46 + nameLength + extraLength), diskAt: at + 34)
            if m.flags & 1 != 0 { throw error(at + 8, "an unencrypted member", "\(m.name) is encrypted") }
            members.append(m)
            at += 46 + nameLength + extraLength + commentLength
        }
        var seen = Set<String>()
        if let dup = members.first(where: { !seen.insert($0.name).inserted }) {
            throw error(dup.entryOffset, "each member name once", "a second '\(dup.name)'")
        }
    }

    /// Replaces 0xFFFFFFFF sizes and offset by the zip64 extra field's values (in the
    /// order size, compressed size, offset, disk — only those that overflowed).
    private func readZip64Extra(_ m: inout Member, extra: Range<Int>, diskAt: Int) throws {
        let max32 = 0xFFFF_FFFF
        let wanted = [m.size == max32, m.compressedSize == max32, m.localHeaderOffset == max32]
        var o = extra.lowerBound
        while o + 4 <= extra.upperBound {
            let id = u16(o), length = u16(o + 2)
            guard o + 4 + length <= extra.upperBound else {
                throw error(o + 2, "an extra field inside the entry", "length \(length)")
            }
            if id == 1 {
                var p = o + 4
                func next() throws -> Int {
                    guard p + 8 <= o + 4 + length else { throw error(o + 2, "a zip64 extra field with every overflowed size", "length \(length)") }
                    defer { p += 8 }
                    return u64(p)
                }
                if wanted[0] { m.size = try next() }
                if wanted[1] { m.compressedSize = try next() }
                if wanted[2] { m.localHeaderOffset = try next() }
            }
            o += 4 + length
        }
        guard u16(diskAt) == 0 || u16(diskAt) == 0xFFFF else { throw error(diskAt, "members on disk 0", "disk \(u16(diskAt))") }
    }

    /// The member named `name`, or nil.
    func member(_ name: String) -> Member? { members.first { $0.name == name } }

    /// The uncompressed bytes of `m`, checked against its size and CRC-32; `check` is
    /// called while inflating and checksumming (see `LoadCheck`).
    func data(of m: Member, check: LoadCheck) throws -> [UInt8] {
        let h = m.localHeaderOffset
        guard has(h, 30), u32(h) == 0x0403_4b50 else {
            throw error(m.entryOffset + 42, "the offset of \(m.name)'s local header (PK\\3\\4)",
                        "\(h), which holds \(has(h, 4) ? String(format: "0x%08x", u32(h)) : "nothing (past the end of the file)")")
        }
        let nameLength = u16(h + 26), extraLength = u16(h + 28)
        let start = h + 30 + nameLength + extraLength
        guard has(h + 30, nameLength), Array(bytes[(h + 30)..<(h + 30 + nameLength)]) == Array(m.name.utf8) else {
            throw error(h + 30, "the name '\(m.name)' in the local header, as in the central directory", "another name")
        }
        guard has(start, m.compressedSize) else {
            throw error(start, "\(m.compressedSize) bytes of \(m.name) (as the central directory says)", "\(max(0, bytes.count - start)) bytes left in the file")
        }
        let stored = bytes[start..<(start + m.compressedSize)]
        let out: [UInt8]
        switch m.method {
        case 0:
            guard m.compressedSize == m.size else {
                throw error(m.entryOffset + 20, "equal sizes for the stored member \(m.name)", "compressed \(m.compressedSize), uncompressed \(m.size)")
            }
            out = Array(stored)
        case 8 where m.size == 0:
            out = []
        case 8:
            guard m.size <= m.compressedSize * GzipReader.maxDeflateRatio + 64, m.size < 1 << 31 else {
                throw error(m.entryOffset + 24, "an uncompressed size below 2 GiB that deflate can reach from \(m.compressedSize) bytes", "\(m.size)")
            }
            out = try inflateZlib(stored, raw: true, wholeInput: true, prefixCount: 1, sizeSource: "the central directory",
                                  check: check, size: { _ in m.size },
                                  fail: { e, f, o in DatasetError(file: self.path, location: .member(m.name, byte: o), expected: e, found: f) })
        default:
            let names: [UInt16: String] = [1: "shrink", 6: "implode", 9: "deflate64", 12: "bzip2", 14: "LZMA", 93: "zstd", 95: "xz"]
            throw error(m.entryOffset + 10, "compression method 0 (stored) or 8 (deflated) for \(m.name)",
                        "method \(m.method)\(names[m.method].map { " (\($0))" } ?? "")")
        }
        var crc: UInt32 = 0
        try out.withUnsafeBufferPointer { p in
            try check.forEachChunk(of: p.count) { part in
                crc = UInt32(crc32(uLong(crc), p.baseAddress! + part.lowerBound, UInt32(part.count)))
            }
        }
        guard crc == m.crc else {
            throw error(m.entryOffset + 16, String(format: "the CRC-32 0x%08x of %@ (as the central directory says)", m.crc, m.name),
                        String(format: "0x%08x for its data", crc))
        }
        return out
    }
}
