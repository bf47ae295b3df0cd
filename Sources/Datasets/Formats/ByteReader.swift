/// A bounds-checked cursor over bytes of untrusted data, for the MAT-file parser.
///
/// Every read checks that the bytes are there first and throws a `DatasetError`
/// naming the file and offset when they are not, so a damaged length can never read
/// past the data. `element` is set when the bytes are the decompressed data of a
/// compressed element, so errors report both offsets.
struct ByteReader {
    let bytes: [UInt8]
    var position: Int
    /// Reads stop here (the end of the enclosing element).
    let end: Int
    let bigEndian: Bool
    let path: String
    /// File offset of the compressed element these bytes were inflated from.
    let element: Int?

    init(bytes: [UInt8], position: Int = 0, end: Int? = nil, bigEndian: Bool, path: String, element: Int? = nil) {
        self.bytes = bytes
        self.position = position
        self.end = min(end ?? bytes.count, bytes.count)
        self.bigEndian = bigEndian
        self.path = path
        self.element = element
    }

    var remaining: Int { max(0, end - position) }

    func location(_ offset: Int) -> DatasetError.Location {
        element.map { .compressedElement(element: $0, byte: offset) } ?? .byte(offset)
    }

    func error(at offset: Int, expected: String, found: String) -> DatasetError {
        DatasetError(file: path, location: location(offset), expected: expected, found: found)
    }

    /// Throws unless `count` more bytes are available.
    func need(_ count: Int, _ what: String) throws {
        if count < 0 || count > remaining {
            throw error(at: position, expected: "\(count) bytes of \(what)", found: "only \(remaining) bytes left in the element")
        }
    }

    /// An unsigned integer of `width` bytes (1…8) in the data's byte order.
    static func load(_ p: UnsafeBufferPointer<UInt8>, _ at: Int, _ width: Int, bigEndian: Bool) -> UInt64 {
        var v: UInt64 = 0
        if bigEndian {
            for k in 0..<width { v = v << 8 | UInt64(p[at + k]) }
        } else {
            for k in stride(from: width - 1, through: 0, by: -1) { v = v << 8 | UInt64(p[at + k]) }
        }
        return v
    }

    mutating func u32(_ what: String) throws -> UInt32 {
        try need(4, what)
        let v = bytes.withUnsafeBufferPointer { ByteReader.load($0, position, 4, bigEndian: bigEndian) }
        position += 4
        return UInt32(v)
    }

    mutating func u16(_ what: String) throws -> UInt16 {
        try need(2, what)
        let v = bytes.withUnsafeBufferPointer { ByteReader.load($0, position, 2, bigEndian: bigEndian) }
        position += 2
        return UInt16(v)
    }

    /// The next `count` bytes, as a range of `bytes` (no copy).
    mutating func take(_ count: Int, _ what: String) throws -> Range<Int> {
        try need(count, what)
        defer { position += count }
        return position..<(position + count)
    }

    /// Skips to the next multiple of 8 relative to `origin`, or to the end.
    mutating func align8(from origin: Int = 0) {
        let r = (position - origin) % 8
        if r != 0 { position = min(position + 8 - r, end) }
    }
}
