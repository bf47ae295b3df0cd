import Testing
import Tensors
@testable import Quantization

@Suite struct ContainerTests {
    static func sample() -> QLMContainer {
        let w = randomWeights(4 * 9, seed: 2)
        let header = Array(#"{"spec":"conv 4 k3 | dense 10"}"#.utf8)
        return QLMContainer(header: header, records: [
            ArchiveRecord(name: "conv1.weight", shape: [4, 1, 3, 3],
                          payload: .packed(PackedTensor(UniformWeightQuantizer(bits: 3, perChannel: true).codes(w, channels: 4)!))),
            ArchiveRecord(name: "conv1.bias", shape: [4], values: [0.5, -1, 2, 0]),
            ArchiveRecord(name: "dense1.weight", shape: [2, 18],
                          payload: .packed(PackedTensor(BinaryWeightQuantizer().codes(w, channels: 2)!))),
            ArchiveRecord(name: "conv1.act.clip", shape: [1], values: [3.25]),
            ArchiveRecord(name: "empty", shape: [0], values: []),
        ])
    }

    @Test func roundTrip() throws {
        let c = Self.sample()
        let bytes = c.encode()
        #expect(Array(bytes[0..<4]) == Array("QLM1".utf8))
        #expect(try QLMContainer.decode(bytes, file: "m.qlm") == c)
        let w = randomWeights(4 * 9, seed: 2)
        #expect(try c.record("conv1.weight")!.values() == UniformWeightQuantizer(bits: 3, perChannel: true).quantized(w, channels: 4))
        // 36 3-bit codes at 3 bits: ⌈108/8⌉ = 14 bytes + 4 scales.
        #expect(c.record("conv1.weight")!.dataBytes == 14 + 16)
    }

    func error(_ bytes: [UInt8]) -> ArchiveError? {
        do { _ = try QLMContainer.decode(bytes, file: "m.qlm"); return nil } catch { return error }
    }

    @Test func badMagic() {
        var b = Self.sample().encode()
        b[0] = 0x50; b[1] = 0x4B; b[2] = 3; b[3] = 4
        let e = error(b)
        #expect(e?.kind == .badMagic && e?.offset == 0)
        #expect(e?.description == #"m.qlm: at byte 0: expected magic "QLM1", found "PK\x03\x04""#)
        #expect(error([0x51])?.kind == .truncated)
    }

    @Test func wrongVersion() {
        var b = Self.sample().encode()
        b[4] = 7
        #expect(error(b)?.description == "m.qlm: at byte 4: expected format version 2, found version 7 (a newer quantlab wrote it; this build reads version 2 only)")
        b[4] = 1
        #expect(error(b)?.description == "m.qlm: at byte 4: expected format version 2, found version 1 (an older quantlab wrote it; this build reads version 2 only: export the model again)")
    }

    /// The file size follows from the records by formula: 3-bit codes cost 3 bits.
    @Test func exactFileSize() {
        let c = Self.sample()
        var expected = 4 + 4 + 8 + 4 + c.header.count + 4 + 4          // magic, version, length, header, count, CRC
        for r in c.records {
            expected += 2 + r.name.utf8.count + 1 + 4 * r.shape.count + 1
            switch r.payload {
            case .float(let v): expected += 4 * v.count
            case .packed(let p):
                let k = PackedTensor.codeBits(p.scheme)
                expected += 1 + 1 + 4 + 4 * p.scales.count + (r.shape.reduce(1, *) * k + 7) / 8
            }
        }
        #expect(c.encode().count == expected)
        #expect(expected == 28 + c.header.count + (2 + 12 + 1 + 16 + 1 + 6 + 16 + 14) + (2 + 10 + 1 + 4 + 1 + 16)
                + (2 + 13 + 1 + 8 + 1 + 6 + 8 + 5) + (2 + 14 + 1 + 4 + 1 + 4) + (2 + 5 + 1 + 4 + 1))
    }

    @Test func truncated() {
        let b = Self.sample().encode()
        let e = error(Array(b.dropLast(10)))
        #expect(e?.kind == .truncated)
        #expect(e?.description == "m.qlm: at byte \(b.count - 10): expected \(b.count) bytes (the length field at byte 8), found \(b.count - 10) bytes")
        for n in 0..<b.count { #expect(error(Array(b.prefix(n))) != nil, "prefix \(n)") }
    }

    @Test func checksumMismatch() {
        var b = Self.sample().encode()
        b[40] ^= 0x01
        let e = error(b)
        #expect(e?.kind == .checksumMismatch && e?.offset == b.count - 4)
        #expect(e?.description.hasPrefix("m.qlm: at byte \(b.count - 4): expected CRC-32 0x") == true)
    }

    /// A well-checksummed file whose fields lie: still an error with an offset, no trap.
    @Test func malformedFieldsWithValidChecksum() {
        let good = Self.sample().encode()
        var g = SplitMix64(seed: 5)
        for trial in 0..<400 {
            var b = good
            let i = 16 + g.nextInt(below: b.count - 20)
            b[i] = UInt8(g.nextInt(below: 256))
            if trial % 3 == 0 { b[16 + g.nextInt(below: b.count - 20)] = 0xFF }
            let crc = CRC32.checksum(b[0..<(b.count - 4)])
            for k in 0..<4 { b[b.count - 4 + k] = UInt8((crc >> UInt32(8 * k)) & 0xFF) }
            if let e = error(b) {
                #expect(e.offset != nil && e.file == "m.qlm", "\(e)")
            }
        }
        // A bad payload kind, at its offset.
        var b = QLMContainer(header: [], records: [ArchiveRecord(name: "x", shape: [1], values: [1])]).encode()
        let kindOffset = 16 + 4 + 4 + 2 + 1 + 1 + 4
        b[kindOffset] = 9
        let crc = CRC32.checksum(b[0..<(b.count - 4)])
        for k in 0..<4 { b[b.count - 4 + k] = UInt8((crc >> UInt32(8 * k)) & 0xFF) }
        #expect(error(b)?.description == "m.qlm: at byte \(kindOffset): expected payload kind 0 (Float32) or 1 (packed codes) for x, found 9")
    }
}
