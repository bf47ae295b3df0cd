/// The IDX format of MNIST and Fashion-MNIST (LeCun et al.), optionally gzipped.
///
/// ```
/// offset  type    value
/// 0       u8 ×2   0x00 0x00
/// 2       u8      element type: 0x08 = unsigned byte (the only one used here)
/// 3       u8      number of dimensions d: 3 for images, 1 for labels
/// 4       u32 ×d  dimension sizes, big-endian: images N, rows, cols; labels N
/// 4+4d    u8 …    the values, row-major (image after image, rows top to bottom)
/// ```
/// So the images' magic number is 0x00000803 and the labels' 0x00000801. Nothing
/// may follow the values.
enum IDXFile {
    /// Opens an IDX file and reads its header: the reader (positioned at the values)
    /// and the dimension sizes. The value count the header implies is checked against
    /// the file's length before anything else is read: exactly for an uncompressed
    /// file, against the largest possible inflation for a gzip file (whose reads then
    /// grow only as data arrives).
    static func open(_ path: String, dimensions d: Int, what: String, check: LoadCheck) throws -> (GzipReader, [Int]) {
        let r = try GzipReader(path: path, check: check)
        let dims = try readHeader(r, dimensions: d, what: what)
        if d == 3, dims[1] <= 0 || dims[2] <= 0 {
            throw DatasetError(file: path, location: r.location(8), expected: "image rows and columns above 0",
                               found: "\(dims[1]) × \(dims[2])")
        }
        var size = 1, overflow = false
        for v in dims where !overflow { (size, overflow) = size.multipliedReportingOverflow(by: v) }
        let headerBytes = 4 + 4 * d
        let values = d == 3 ? "\(dims[0]) images of \(dims[1])×\(dims[2]) bytes" : "\(dims[0]) one-byte \(what)"
        let total: Int? = overflow || size > Int.max - headerBytes ? nil : headerBytes + size
        if !r.isCompressed && total != r.fileSize {
            throw DatasetError(file: path, location: .byte(min(total ?? r.fileSize, r.fileSize)),
                               expected: "a file of \(total.map(String.init) ?? "more than 2^63") bytes (a header of \(headerBytes) bytes and \(values), as the header says)",
                               found: "\(r.fileSize) bytes")
        }
        if overflow || size > r.maxRemaining {
            throw DatasetError(file: path, location: r.location(headerBytes),
                               expected: "\(values) as the header says",
                               found: "a file of \(r.fileSize) bytes, too small to hold them")
        }
        return (r, dims)
    }

    /// Pixels of an `idx3-ubyte` image file: N images of rows × cols bytes.
    static func readImages(_ path: String, check: LoadCheck) throws -> (pixels: [UInt8], count: Int, rows: Int, cols: Int) {
        let (r, dims) = try open(path, dimensions: 3, what: "images", check: check)
        let (n, rows, cols) = (dims[0], dims[1], dims[2])
        let pixels = try r.readBytes(n * rows * cols, what: "pixels (\(n) images of \(rows)×\(cols))")
        try expectEnd(r, after: "\(n) images")
        return (pixels, n, rows, cols)
    }

    /// Labels of an `idx1-ubyte` file, each checked to be below `classes`.
    static func readLabels(_ path: String, classes: Int, check: LoadCheck) throws -> [Int32] {
        let (r, dims) = try open(path, dimensions: 1, what: "labels", check: check)
        let n = dims[0]
        let bytes = try r.readBytes(n, what: "labels (\(n))")
        try expectEnd(r, after: "\(n) labels")
        var labels = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let v = bytes[i]
            if Int(v) >= classes {
                throw DatasetError(file: path, location: r.location(8 + i),
                                   expected: "a class label 0…\(classes - 1) (label \(i))", found: "\(v)")
            }
            labels[i] = Int32(v)
        }
        return labels
    }

    /// Checks the magic number and returns the dimension sizes.
    private static func readHeader(_ r: GzipReader, dimensions d: Int, what: String) throws -> [Int] {
        var head = [UInt8](repeating: 0, count: 4 + 4 * d)
        let n = try head.withUnsafeMutableBytes { try r.read(into: $0) }
        let expectedMagic = 0x0800 | UInt32(d)
        let magic = n >= 4 ? head[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } : nil
        guard let magic, magic == expectedMagic else {
            let found = magic.map { hex32($0) } ?? "only \(n) bytes"
            throw DatasetError(file: r.path, location: r.location(0),
                               expected: "magic number \(hex32(expectedMagic)) (IDX unsigned-byte \(what), \(d) dimension\(d == 1 ? "" : "s"))",
                               found: found)
        }
        guard n == head.count else {
            throw DatasetError(file: r.path, location: r.location(n),
                               expected: "a \(head.count)-byte header with \(d) dimension sizes",
                               found: "the end of the data after \(n) bytes")
        }
        return (0..<d).map { k in head[4 + 4 * k..<8 + 4 * k].reduce(0) { $0 << 8 | Int($1) } }
    }

    private static func expectEnd(_ r: GzipReader, after what: String) throws {
        let end = r.offset
        if try !r.atEnd() {
            throw DatasetError(file: r.path, location: r.location(end),
                               expected: "the end of the file after \(what) (as the header says)", found: "more data")
        }
    }

    static func hex32(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }
}
