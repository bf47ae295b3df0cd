/// Appends little-endian fields to a byte buffer.
struct ByteWriter: Sendable {
    private(set) var bytes: [UInt8] = []

    init() {}

    var count: Int { bytes.count }
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8)) }
    mutating func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((v >> UInt32(s)) & 0xFF)) } }
    mutating func u64(_ v: UInt64) { for s in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8((v >> UInt64(s)) & 0xFF)) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func f32s(_ v: [Float]) {
        bytes.reserveCapacity(bytes.count + 4 * v.count)
        for x in v { u32(x.bitPattern) }
    }
    mutating func raw<C: Collection>(_ v: C) where C.Element == UInt8 { bytes.append(contentsOf: v) }
    /// u16 length, then UTF-8.
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        precondition(utf8.count <= Int(UInt16.max), "ByteWriter.string: \(utf8.count) bytes is too long")
        u16(UInt16(utf8.count))
        raw(utf8)
    }
    /// Overwrites 8 bytes at `offset` with `v`.
    mutating func patchU64(at offset: Int, _ v: UInt64) {
        for k in 0..<8 { bytes[offset + k] = UInt8((v >> UInt64(8 * k)) & 0xFF) }
    }
}
