/// A minimal reader for MATLAB v5 MAT-files (the `-v6`/`-v7` format; v7.3 is HDF5
/// and not read). Enough for SVHN: numeric matrices, compressed or not.
///
/// ```
/// header   128 bytes: 116 text ("MATLAB 5.0 MAT-file…"), 8 subsystem offset,
///          u16 version 0x0100, 2 bytes endian indicator "IM" (little) or "MI" (big)
/// element  tag: u32 type, u32 size in bytes, then the data, padded to 8 bytes;
///          small element: u16 size (≤ 4) and u16 type in one u32, data in the
///          next 4 bytes (the high half of the u32 is non-zero)
/// top      miMATRIX (14), or miCOMPRESSED (15): a zlib stream (not padded) that
///          inflates to one miMATRIX element
/// miMATRIX sub-elements, in order:
///          array flags  miUINT32 ×2: class in the low byte, complex 0x800
///          dimensions   miINT32 × rank (≥ 2), column-major sizes
///          name         miINT8 (ASCII)
///          real part    any numeric type, prod(dimensions) values
///          imag part    when complex
/// ```
/// Cell, struct, object, sparse and char arrays are skipped. Every tag's size is
/// checked against the bytes of its enclosing element before use.
struct MATFile {
    let path: String
    private(set) var arrays: [MATArray] = []

    static let miMATRIX = 14, miCOMPRESSED = 15

    /// Reads every array of `path`; `check` is called while reading and inflating (see `LoadCheck`).
    init(path: String, check: LoadCheck) throws {
        self.path = path
        let bytes = try GzipReader(path: path, check: check).readToEnd()
        guard bytes.count >= 128 else {
            throw DatasetError(file: path, location: .byte(0), expected: "a 128-byte MAT-file header",
                               found: "a file of \(bytes.count) bytes")
        }
        let text = String(decoding: bytes[0..<19], as: UTF8.self)
        let endian = String(decoding: bytes[126..<128], as: UTF8.self)
        guard endian == "IM" || endian == "MI" else {
            throw DatasetError(file: path, location: .byte(126),
                               expected: "the MAT-file endian indicator \"IM\" or \"MI\" (a MATLAB v5 file)",
                               found: text.hasPrefix("MATLAB 7.3") ? "a v7.3 (HDF5) MAT-file; re-save it with -v7" : "\(bytes[126]) \(bytes[127])")
        }
        var r = ByteReader(bytes: bytes, position: 124, bigEndian: endian == "MI", path: path)
        let version = try r.u16("the version")
        guard version == 0x0100 else {
            throw r.error(at: 124, expected: "MAT-file version 0x0100 (v5)", found: "0x" + String(version, radix: 16))
        }
        r.position = 128
        while r.remaining > 0 {
            let start = r.position
            let (type, size, small) = try Self.tag(&r)
            if small {
                throw r.error(at: start, expected: "a miMATRIX (14) or miCOMPRESSED (15) element", found: "a small data element of type \(type)")
            }
            switch type {
            case Self.miMATRIX:
                let data = try r.take(size, "miMATRIX data")
                var sub = ByteReader(bytes: bytes, position: data.lowerBound, end: data.upperBound, bigEndian: r.bigEndian, path: path)
                if let a = try Self.matrix(&sub) { arrays.append(a) }
                r.align8(from: 128)
            case Self.miCOMPRESSED:
                let data = try r.take(size, "compressed element data")
                if let a = try inflated(bytes[data], element: start, bigEndian: r.bigEndian, check: check) { arrays.append(a) }
            default:
                throw r.error(at: start, expected: "a miMATRIX (14) or miCOMPRESSED (15) element", found: "element type \(type)")
            }
        }
    }

    /// The array named `name`, or nil.
    func array(_ name: String) -> MATArray? { arrays.first { $0.name == name } }

    /// Reads a tag: (type, size, small-element format). For a small element the data
    /// is the next `size` bytes and the reader is left after its 4-byte data field.
    static func tag(_ r: inout ByteReader) throws -> (Int, Int, Bool) {
        let first = try r.u32("an element tag")
        if first >> 16 != 0 {
            let size = Int(first >> 16), type = Int(first & 0xFFFF)
            if size > 4 {
                throw r.error(at: r.position - 4, expected: "a small data element of at most 4 bytes", found: "\(size) bytes")
            }
            try r.need(4, "small element data")
            return (type, size, true)
        }
        return (Int(first), Int(try r.u32("an element size")), false)
    }

    /// The data range of the next sub-element, which must have type `type`.
    static func subelement(_ r: inout ByteReader, _ types: [Int], _ what: String) throws -> (Int, Range<Int>) {
        let start = r.position
        let (type, size, small) = try tag(&r)
        guard types.contains(type) else {
            throw r.error(at: start, expected: "\(what) (element type \(types.map(String.init).joined(separator: " or ")))", found: "element type \(type)")
        }
        if small {
            defer { r.position += 4 }
            return (type, r.position..<(r.position + size))
        }
        let range = try r.take(size, what)
        r.align8(from: start)
        return (type, range)
    }

    /// A numeric miMATRIX, or nil for the kinds of array skipped.
    static func matrix(_ r: inout ByteReader) throws -> MATArray? {
        let (_, flagsRange) = try subelement(&r, [6], "array flags")
        guard flagsRange.count == 8 else {
            throw r.error(at: flagsRange.lowerBound, expected: "8 bytes of array flags", found: "\(flagsRange.count)")
        }
        var f = ByteReader(bytes: r.bytes, position: flagsRange.lowerBound, end: flagsRange.upperBound,
                           bigEndian: r.bigEndian, path: r.path, element: r.element)
        let flags = try f.u32("array flags")
        let classID = Int(flags & 0xFF)
        guard (6...15).contains(classID) else { return nil }
        let (_, dimsRange) = try subelement(&r, [5], "dimensions")
        guard dimsRange.count >= 8, dimsRange.count % 4 == 0 else {
            throw r.error(at: dimsRange.lowerBound, expected: "at least 2 dimensions (4 bytes each)", found: "\(dimsRange.count) bytes")
        }
        var d = ByteReader(bytes: r.bytes, position: dimsRange.lowerBound, end: dimsRange.upperBound,
                           bigEndian: r.bigEndian, path: r.path, element: r.element)
        var dims: [Int] = []
        var total = 1
        while d.remaining > 0 {
            let v = Int(Int32(bitPattern: try d.u32("a dimension")))
            let (t, overflow) = total.multipliedReportingOverflow(by: max(v, 0))
            if v < 0 || overflow {
                throw d.error(at: d.position - 4, expected: "a dimension size ≥ 0 with a product that fits in memory", found: "\(v)")
            }
            dims.append(v)
            total = t
        }
        let (_, nameRange) = try subelement(&r, [1, 2, 16], "an array name")
        let name = String(decoding: r.bytes[nameRange], as: UTF8.self)
        let start = r.position
        let numeric = [1, 2, 3, 4, 5, 6, 7, 9, 12, 13]
        let (type, real) = try subelement(&r, numeric, "the real part of '\(name)' (a numeric type)")
        guard let storage = MATArray.DataType(rawValue: type) else {
            throw r.error(at: start, expected: "a numeric element type for '\(name)'", found: "element type \(type)")
        }
        let (bytes, overflow) = total.multipliedReportingOverflow(by: storage.width)
        guard !overflow, real.count == bytes else {
            throw r.error(at: start, expected: "\(total) values of \(storage.width) bytes for '\(name)' (\(shapeText(dims)))",
                          found: "\(real.count) bytes")
        }
        return MATArray(name: name, classID: classID, isComplex: flags & 0x800 != 0, dims: dims,
                        storageType: storage, buffer: r.bytes, range: real, bigEndian: r.bigEndian, element: r.element)
    }

    /// Inflates a miCOMPRESSED element and reads the miMATRIX inside it.
    private func inflated(_ data: ArraySlice<UInt8>, element: Int, bigEndian: Bool, check: LoadCheck) throws -> MATArray? {
        let limit = data.count * GzipReader.maxDeflateRatio + 64
        let out = try inflateZlib(data, prefixCount: 8, check: check, size: { prefix in
            var t = ByteReader(bytes: prefix, bigEndian: bigEndian, path: path, element: element)
            let (type, size, small) = try Self.tag(&t)
            guard type == Self.miMATRIX, !small else {
                throw t.error(at: 0, expected: "a miMATRIX (14) element inside the compressed element", found: "element type \(type)")
            }
            guard size <= limit else {
                throw t.error(at: 4, expected: "a matrix size that \(data.count) compressed bytes can hold (at most \(limit))", found: "\(size)")
            }
            return 8 + size
        }, fail: { expected, found, offset in
            DatasetError(file: path, location: .compressedElement(element: element, byte: offset), expected: expected, found: found)
        })
        var sub = ByteReader(bytes: out, position: 8, bigEndian: bigEndian, path: path, element: element)
        return try Self.matrix(&sub)
    }
}
