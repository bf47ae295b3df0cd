/// A numeric array read from a MAT-file: its name, class, dimensions and the raw
/// bytes of its real part, in the file's storage type and byte order.
///
/// MATLAB stores an array's values in any numeric type that holds them exactly (a
/// double array of small integers is often written as miUINT8), so `storageType`
/// may differ from `classID`; the accessors convert. Values are column-major:
/// element (i, j, k, …) is at i + d0·(j + d1·(k + …)).
struct MATArray {
    /// MAT data types (the tag's type field).
    enum DataType: Int {
        case int8 = 1, uint8 = 2, int16 = 3, uint16 = 4, int32 = 5, uint32 = 6
        case single = 7, double = 9, int64 = 12, uint64 = 13

        var width: Int {
            switch self {
            case .int8, .uint8: return 1
            case .int16, .uint16: return 2
            case .int32, .uint32, .single: return 4
            case .double, .int64, .uint64: return 8
            }
        }
        var name: String { "mi" + String(describing: self).uppercased() }
    }

    var name: String
    /// mxCLASS: 6 double, 7 single, 8 int8, 9 uint8, … 15 uint64.
    var classID: Int
    var isComplex: Bool
    var dims: [Int]
    var storageType: DataType
    /// The bytes holding the real part (a range of `buffer`).
    var buffer: [UInt8]
    var range: Range<Int>
    var bigEndian: Bool
    /// File offset of the compressed element holding the array, if any.
    var element: Int?

    /// Where value `i` is stored, for error messages.
    func location(ofValue i: Int) -> DatasetError.Location {
        let o = range.lowerBound + i * storageType.width
        return element.map { .compressedElement(element: $0, byte: o) } ?? .byte(o)
    }

    var count: Int { dims.reduce(1, *) }

    /// The values as bytes; nil when one is not an integer in 0…255. Converted one
    /// value at a time (no Double copy of a whole SVHN X, which would be 8× its size),
    /// calling `check` per `LoadCheck.chunk` values.
    func byteValues(check: LoadCheck) throws -> [UInt8]? {
        if storageType == .uint8 || storageType == .int8 && !buffer[range].contains(where: { $0 >= 128 }) {
            return Array(buffer[range])
        }
        let n = range.count / storageType.width
        var out = [UInt8](repeating: 0, count: n)
        var ok = true
        try buffer.withUnsafeBufferPointer { p in
            try check.forEachChunk(of: n) { values in
                guard ok else { return }
                for i in values {
                    let d = value(p, i)
                    guard d >= 0, d <= 255, d.rounded() == d else { ok = false; return }
                    out[i] = UInt8(d)
                }
            }
        }
        return ok ? out : nil
    }

    /// The values as Double (64-bit integers beyond 2^53 round).
    func doubleValues() -> [Double] {
        let n = range.count / storageType.width
        return buffer.withUnsafeBufferPointer { p in (0..<n).map { value(p, $0) } }
    }

    /// Value `i` as Double.
    private func value(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Double {
        let w = storageType.width
        let v = ByteReader.load(p, range.lowerBound + i * w, w, bigEndian: bigEndian)
        switch storageType {
        case .int8: return Double(Int8(truncatingIfNeeded: v))
        case .uint8: return Double(UInt8(truncatingIfNeeded: v))
        case .int16: return Double(Int16(truncatingIfNeeded: v))
        case .uint16: return Double(UInt16(truncatingIfNeeded: v))
        case .int32: return Double(Int32(truncatingIfNeeded: v))
        case .uint32: return Double(UInt32(truncatingIfNeeded: v))
        case .single: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: v)))
        case .double: return Double(bitPattern: v)
        case .int64: return Double(Int64(bitPattern: v))
        case .uint64: return Double(v)
        }
    }
}
