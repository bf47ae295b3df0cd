import CZlib

/// Writes `.npy` arrays (format 1.0, C order, as `numpy.save` does) and stored `.npz`
/// archives of them (as `numpy.savez` does, without zip64: members under 4 GiB).
public enum NPYWriter {
    /// An array to write: little-endian float32 or int64 values and a shape.
    public enum Values: Sendable {
        case float32([Float])
        case int64([Int64])
    }

    /// The bytes of a `.npy` file: magic, version 1.0, the header dict padded with
    /// spaces to a multiple of 64 bytes and ended by '\n', then the data.
    public static func npy(_ values: Values, shape: [Int]) -> [UInt8] {
        let descr: String
        var data: [UInt8] = []
        switch values {
        case .float32(let v):
            precondition(v.count == shape.reduce(1, *), "NPYWriter.npy: \(v.count) values for shape \(shape)")
            descr = "<f4"
            data.reserveCapacity(4 * v.count)
            for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        case .int64(let v):
            precondition(v.count == shape.reduce(1, *), "NPYWriter.npy: \(v.count) values for shape \(shape)")
            descr = "<i8"
            data.reserveCapacity(8 * v.count)
            for x in v { withUnsafeBytes(of: x.littleEndian) { data.append(contentsOf: $0) } }
        }
        let shapeText = PythonLiteral.tuple(shape.map { .int($0) }).description
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = header.utf8.count
        return NPYHeader.magic + [1, 0, UInt8(length & 0xff), UInt8(length >> 8)] + Array(header.utf8) + data
    }

    /// A stored (uncompressed) zip archive of `name.npy` members, as `numpy.savez` writes.
    public static func npz(_ arrays: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
        func le32(_ v: Int) -> [UInt8] { le16(v & 0xffff) + le16(v >> 16 & 0xffff) }
        for (name, bytes) in arrays {
            let file = Array((name + ".npy").utf8)
            let crc = bytes.withUnsafeBufferPointer { Int(crc32(0, $0.baseAddress, UInt32($0.count))) }
            let offset = out.count
            // version 2.0, no flags, stored, time/date 1980-01-01 00:00
            let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc) + le32(bytes.count) + le32(bytes.count)
                + le16(file.count) + le16(0)
            out += [0x50, 0x4b, 3, 4] + common + file + bytes
            central += [0x50, 0x4b, 1, 2] + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + file
        }
        let cdOffset = out.count
        out += central
        out += [0x50, 0x4b, 5, 6] + le16(0) + le16(0) + le16(arrays.count) + le16(arrays.count)
            + le32(central.count) + le32(cdOffset) + le16(0)
        return out
    }
}
