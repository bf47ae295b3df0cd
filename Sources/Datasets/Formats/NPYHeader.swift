/// The header of a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0).
///
/// ```
/// offset 0   6 bytes  magic  \x93NUMPY
///        6   1 byte   major version (1, 2 or 3)
///        7   1 byte   minor version (0)
///        8   2 bytes  header length H, little-endian (version 1.0)
///            4 bytes  header length H, little-endian (versions 2.0 and 3.0)
///   10 or 12 H bytes  a Python dict literal, padded with spaces and ended by '\n':
///                     {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
/// then the array data: prod(shape) items of the dtype, C (row-major) or Fortran
/// (column-major) order.
/// ```
/// Version 3.0 differs from 2.0 only in allowing UTF-8 in the header (structured
/// dtypes' field names); versions 1.0 and 2.0 are Latin-1. The literal is parsed by a
/// small parser of Python literals (strings, integers, True/False/None, tuples, lists,
/// dicts), as `numpy.lib.format` does with `ast.literal_eval`, and must hold exactly
/// the keys `descr`, `fortran_order` and `shape`.
struct NPYHeader: Equatable {
    var version: (major: UInt8, minor: UInt8)
    var dtype: NPYDType
    var fortranOrder: Bool
    var shape: [Int]
    /// Offset of the first data byte.
    var dataOffset: Int

    static func == (a: NPYHeader, b: NPYHeader) -> Bool {
        a.version == b.version && a.dtype == b.dtype && a.fortranOrder == b.fortranOrder
            && a.shape == b.shape && a.dataOffset == b.dataOffset
    }

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Items the shape holds (the product of its dimensions).
    var count: Int { shape.reduce(1, *) }

    /// Parses the header at the start of `bytes`; `fail(offset, expected, found)` builds
    /// the errors (the caller knows the file, or the archive member, the bytes are).
    init(_ bytes: [UInt8], fail: @escaping (Int, String, String) -> DatasetError) throws {
        func hex(_ r: Range<Int>) -> String {
            r.clamped(to: 0..<bytes.count).map { b in
                (b >= 0x20 && b < 0x7f) ? String(UnicodeScalar(bytes[b])) : "\\x" + String(bytes[b], radix: 16, uppercase: false)
            }.joined()
        }
        guard bytes.count >= 8, Array(bytes[0..<6]) == Self.magic else {
            throw fail(0, "the .npy magic \\x93NUMPY", bytes.isEmpty ? "an empty file" : "'\(hex(0..<min(6, bytes.count)))'")
        }
        let major = bytes[6], minor = bytes[7]
        guard (1...3).contains(major) else {
            throw fail(6, "format version 1, 2 or 3", "version \(major).\(minor)")
        }
        guard minor == 0 else { throw fail(7, "format version \(major).0", "version \(major).\(minor)") }
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else {
            throw fail(8, "a \(lengthBytes)-byte header length", "the end of the data after \(bytes.count) bytes")
        }
        var length = 0
        for k in stride(from: lengthBytes - 1, through: 0, by: -1) { length = length << 8 | Int(bytes[8 + k]) }
        let start = 8 + lengthBytes
        guard length <= bytes.count - start else {
            throw fail(8, "a header length of at most the \(bytes.count - start) bytes that follow", "\(length)")
        }
        var parser = PythonLiteralParser(bytes: bytes, position: start, end: start + length, fail: fail)
        let dict = try parser.parseHeaderDictionary()
        version = (major, minor)
        dataOffset = start + length

        func value(_ key: String) throws -> (PythonLiteral, Int) {
            guard let v = dict[key] else {
                throw fail(start, "the key '\(key)' in the header dictionary", "keys \(dict.keys.sorted().map { "'\($0)'" }.joined(separator: ", "))")
            }
            return v
        }
        if let extra = dict.keys.sorted().first(where: { !["descr", "fortran_order", "shape"].contains($0) }) {
            throw fail(dict[extra]!.1, "only the keys 'descr', 'fortran_order' and 'shape'", "a key '\(extra)'")
        }
        let (descr, descrAt) = try value("descr")
        guard case .string(let d) = descr else {
            throw fail(descrAt, "'descr' as a dtype string such as '<f4' or '|u1'",
                       descr.isList ? "a list (a structured dtype; only plain arrays are read)" : descr.kind)
        }
        guard let dt = NPYDType(d) else {
            throw fail(descrAt, "'descr' as a dtype string such as '<f4' or '|u1'", "'\(d)'")
        }
        dtype = dt
        let (fortran, fortranAt) = try value("fortran_order")
        guard case .bool(let f) = fortran else { throw fail(fortranAt, "'fortran_order' True or False", fortran.kind) }
        fortranOrder = f
        let (shapeValue, shapeAt) = try value("shape")
        guard case .tuple(let dims) = shapeValue else { throw fail(shapeAt, "'shape' as a tuple of integers", shapeValue.kind) }
        var shape: [Int] = []
        var total = 1
        for d in dims {
            guard case .int(let n) = d, n >= 0 else {
                throw fail(shapeAt, "'shape' as a tuple of integers ≥ 0", "\(shapeValue)")
            }
            let (p, o) = total.multipliedReportingOverflow(by: n)
            let (_, o2) = p.multipliedReportingOverflow(by: dt.itemSize)
            guard !o, !o2 else { throw fail(shapeAt, "a shape whose data fits in memory", "\(shapeValue)") }
            total = p
            shape.append(n)
        }
        self.shape = shape
    }
}

/// A NumPy dtype string: byte order, kind and item size (`<f4`, `|u1`, `>i8`).
struct NPYDType: Equatable {
    enum Kind: Character { case unsigned = "u", signed = "i", float = "f", bool = "b", complex = "c", other = "?" }
    var littleEndian: Bool
    var kind: Kind
    var itemSize: Int
    var text: String

    /// nil when the string is not a dtype NumPy writes for plain arrays.
    init?(_ s: String) {
        let chars = Array(s)
        guard chars.count >= 2, "<>|=".contains(chars[0]) else { return nil }
        littleEndian = chars[0] != ">"       // '=' is native: every platform quantlab runs on is little-endian
        let kindChar = chars[1]
        guard "uifbcOSUVMmaH".contains(kindChar) else { return nil }
        kind = Kind(rawValue: kindChar) ?? .other
        let size = String(chars[2...])
        if size.isEmpty {
            guard kindChar == "O" else { return nil }
            itemSize = 8
        } else {
            guard size.allSatisfy(\.isASCII), let n = Int(size), n >= 1, n <= 1 << 16 else { return nil }
            itemSize = n
        }
        text = s
    }

    /// "float32", "uint8", … for messages.
    var name: String {
        switch kind {
        case .unsigned: return "uint\(itemSize * 8)"
        case .signed: return "int\(itemSize * 8)"
        case .float: return "float\(itemSize * 8)"
        case .bool: return "bool"
        case .complex: return "complex\(itemSize * 8)"
        case .other:
            switch text.dropFirst().first {
            case "O": return "object (pickled Python objects)"
            case "S", "a": return "bytes"
            case "U": return "str"
            case "M", "m": return "datetime"
            default: return "void"
            }
        }
    }

    var isUInt8: Bool { kind == .unsigned && itemSize == 1 }
    var isFloat32: Bool { kind == .float && itemSize == 4 }
    var isInteger: Bool { (kind == .unsigned || kind == .signed) && [1, 2, 4, 8].contains(itemSize) }
}
