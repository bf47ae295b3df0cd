@testable import Datasets

/// Builds MATLAB v5 MAT-files byte by byte (little-endian), as MATLAB and scipy
/// write them: 128-byte header, then one miMATRIX element per variable, optionally
/// wrapped in a zlib-compressed miCOMPRESSED element.
enum MATWriter {
    static func header(text: String = "MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: test", endian: String = "IM") -> [UInt8] {
        var h = Array(text.utf8.prefix(116))
        h += [UInt8](repeating: 0x20, count: 116 - h.count)
        h += [UInt8](repeating: 0, count: 8)            // subsystem data offset
        h += [0x00, 0x01]                               // version 0x0100, little-endian
        h += Array(endian.utf8)
        return h
    }

    /// A data element: tag + data + padding to 8 bytes; small format when it fits in 4.
    static func element(_ type: Int, _ data: [UInt8], allowSmall: Bool = true) -> [UInt8] {
        if allowSmall && data.count <= 4 {
            return TestFiles.le32(type | data.count << 16) + data + [UInt8](repeating: 0, count: 4 - data.count)
        }
        let pad = (8 - data.count % 8) % 8
        return TestFiles.le32(type) + TestFiles.le32(data.count) + data + [UInt8](repeating: 0, count: pad)
    }

    /// A numeric miMATRIX: class (6 double, 9 uint8), dims, name, real part stored as
    /// `storageType` (2 miUINT8, 9 miDOUBLE, …) with `data` already encoded.
    static func matrix(name: String, classID: Int, dims: [Int], storageType: Int, data: [UInt8],
                       smallName: Bool = true) -> [UInt8] {
        var body = element(6, TestFiles.le32(classID) + TestFiles.le32(0))
        body += element(5, dims.flatMap(TestFiles.le32))
        body += element(1, Array(name.utf8), allowSmall: smallName)
        body += element(storageType, data, allowSmall: false)
        return element(14, body, allowSmall: false)
    }

    /// The element wrapped as miCOMPRESSED (type 15, zlib stream, not padded).
    static func compressed(_ element: [UInt8]) -> [UInt8] {
        let z = TestFiles.zlibCompress(element)
        return TestFiles.le32(15) + TestFiles.le32(z.count) + z
    }

    static func doubles(_ values: [Double]) -> [UInt8] {
        values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt64($0))) } }
    }

    /// An SVHN file: X 32×32×3×n column-major with X(h,w,c,i) = svhnPixel, y = labels.
    static func svhn(labels: [Int], compressed: Bool, yAsDouble: Bool = true) -> [UInt8] {
        let n = labels.count
        var x = [UInt8](repeating: 0, count: 32 * 32 * 3 * n)
        for i in 0..<n { for c in 0..<3 { for w in 0..<32 { for h in 0..<32 {
            x[h + 32 * (w + 32 * (c + 3 * i))] = svhnPixel(h: h, w: w, c: c, i: i)
        } } } }
        let xm = matrix(name: "X", classID: 9, dims: [32, 32, 3, n], storageType: 2, data: x)
        let ym = yAsDouble
            ? matrix(name: "y", classID: 6, dims: [n, 1], storageType: 9, data: doubles(labels.map(Double.init)))
            : matrix(name: "y", classID: 9, dims: [n, 1], storageType: 2, data: labels.map { UInt8($0) })
        let wrap: ([UInt8]) -> [UInt8] = compressed ? { MATWriter.compressed($0) } : { $0 }
        return header() + wrap(xm) + wrap(ym)
    }

    static func svhnPixel(h: Int, w: Int, c: Int, i: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: h * 3 + w * 11 + c * 71 + i * 29)
    }
}
