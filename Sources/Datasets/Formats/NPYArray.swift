/// One array read from a `.npy` file (or an `.npz` member): its header and its data bytes.
///
/// The data must be exactly prod(shape) × item size bytes after the header: fewer is a
/// truncated file, more is damage (NumPy writes nothing after the data).
struct NPYArray {
    let header: NPYHeader
    let bytes: [UInt8]
    /// The file, and the archive member when the bytes are one.
    let file: String
    let member: String?

    init(bytes: [UInt8], file: String, member: String? = nil) throws {
        self.bytes = bytes
        self.file = file
        self.member = member
        let location = { (o: Int) -> DatasetError.Location in member.map { .member($0, byte: o) } ?? .byte(o) }
        header = try NPYHeader(bytes) { o, e, f in DatasetError(file: file, location: location(o), expected: e, found: f) }
        let need = header.count * header.dtype.itemSize
        let have = bytes.count - header.dataOffset
        if have != need {
            throw DatasetError(file: file, location: location(header.dataOffset + min(have, need)),
                               expected: "\(need) bytes of data for shape \(shapeDescription) of \(header.dtype.name) ('\(header.dtype.text)')",
                               found: have < need ? "the end of the data after \(have) bytes" : "\(have - need) more bytes after the data")
        }
    }

    /// `(60000, 28, 28)`, as NumPy prints shapes.
    var shapeDescription: String { PythonLiteral.tuple(header.shape.map { .int($0) }).description }

    /// What the array is called in messages: `x_train.npy` or `data.npz:x_train.npy`.
    var name: String { member.map { "\(file):\($0)" } ?? file }

    func error(at offset: Int? = nil, expected: String, found: String) -> DatasetError {
        let location: DatasetError.Location
        if let o = offset { location = member.map { .member($0, byte: o) } ?? .byte(o) } else { location = .file }
        return DatasetError(file: file, location: location, expected: expected, found: found)
    }

    /// Byte offset of item `i` in storage order.
    func offset(ofItem i: Int) -> Int { header.dataOffset + i * header.dtype.itemSize }

    /// The items reordered so that output axis j is the array's axis `axes[j]`, in C
    /// order: the identity for a C-order array read as it is, a transpose for Fortran
    /// order or another layout. `convert(storageIndex)` reads one item. `check` is
    /// called each time another `LoadCheck.chunk` items were written.
    func permuted<T>(axes: [Int], check: LoadCheck, _ convert: (UnsafeRawBufferPointer, Int) -> T) throws -> [T] {
        let shape = header.shape
        let rank = shape.count
        precondition(axes.sorted() == Array(0..<rank), "NPYArray.permuted: \(axes) is not a permutation of \(rank) axes")
        // Stride, in items, of each logical axis in storage.
        var strides = [Int](repeating: 1, count: rank)
        if header.fortranOrder {
            for a in 1..<max(rank, 1) { strides[a] = strides[a - 1] * shape[a - 1] }
        } else if rank > 1 {
            for a in stride(from: rank - 2, through: 0, by: -1) { strides[a] = strides[a + 1] * shape[a + 1] }
        }
        // Up to four output axes, padded with size-1 axes in front.
        var outShape = axes.map { shape[$0] }, outStrides = axes.map { strides[$0] }
        while outShape.count < 4 { outShape.insert(1, at: 0); outStrides.insert(0, at: 0) }
        precondition(outShape.count == 4, "NPYArray.permuted: at most 4 axes")
        let total = header.count
        return try bytes.withUnsafeBytes { raw -> [T] in
            let data = UnsafeRawBufferPointer(rebasing: raw[header.dataOffset...])
            var out: [T] = []
            out.reserveCapacity(total)
            var nextCheck = 0
            for i0 in 0..<outShape[0] {
                for i1 in 0..<outShape[1] {
                    for i2 in 0..<outShape[2] {
                        if out.count >= nextCheck {
                            try check()
                            nextCheck = out.count + LoadCheck.chunk
                        }
                        let base = i0 * outStrides[0] + i1 * outStrides[1] + i2 * outStrides[2]
                        let s3 = outStrides[3]
                        for i3 in 0..<outShape[3] { out.append(convert(data, base + i3 * s3)) }
                    }
                }
            }
            return out
        }
    }

    /// Item `i` (storage order) of an integer array as Int64; nil when a uint64 does
    /// not fit. The dtype must be an integer one.
    func integer(_ data: UnsafeRawBufferPointer, _ i: Int) -> Int64? {
        let size = header.dtype.itemSize
        var u: UInt64 = 0
        let at = i * size
        if header.dtype.littleEndian {
            for k in stride(from: size - 1, through: 0, by: -1) { u = u << 8 | UInt64(data[at + k]) }
        } else {
            for k in 0..<size { u = u << 8 | UInt64(data[at + k]) }
        }
        if header.dtype.kind == .signed {
            let shift = UInt64(64 - 8 * size)
            return Int64(bitPattern: u << shift) >> Int64(shift)      // sign-extend
        }
        return u > UInt64(Int64.max) ? nil : Int64(u)
    }

    /// Item `i` of a float32 array.
    func float32(_ data: UnsafeRawBufferPointer, _ i: Int) -> Float {
        let at = i * 4
        var u = UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16 | UInt32(data[at + 3]) << 24
        if !header.dtype.littleEndian { u = u.byteSwapped }
        return Float(bitPattern: u)
    }
}
