import Testing
import Tensors
@testable import Quantization

@Suite struct PackingTests {
    /// Codes spanning a container's two's-complement range (±1 at 1 bit).
    static func sampleCodes(bits: Int, count: Int, seed: UInt64) -> [Int32] {
        var g = SplitMix64(seed: seed)
        if bits == 1 { return (0..<count).map { _ in g.nextInt(below: 2) == 0 ? -1 : 1 } }
        let low = -(1 << (bits - 1)), span = 1 << bits
        return (0..<count).map { _ in Int32(low + g.nextInt(below: span)) }
    }

    @Test func roundTripAllWidthsAndOddLengths() throws {
        for bits in 1...16 {
            for count in [0, 1, 2, 3, 5, 7, 8, 9, 15, 17, 31, 33, 1001] {
                let codes = Self.sampleCodes(bits: bits, count: count, seed: UInt64(bits * 10_000 + count))
                let bytes = PackedTensor.pack(codes, bits: bits)
                #expect(bytes.count == (count * bits + 7) / 8, "bits \(bits) count \(count)")
                #expect(try PackedTensor.unpack(bytes, count: count, bits: bits) == codes, "bits \(bits) count \(count)")
            }
        }
    }

    @Test func bitLayoutIsLeastSignificantFirst() {
        // 2-bit: codes 1, −1 (0b11), 0, −2 (0b10) → bits 01 11 00 10 from the low end → 0b10_00_11_01 = 0x8D.
        #expect(PackedTensor.pack([1, -1, 0, -2], bits: 2) == [0x8D])
        // 1-bit: +1 → 1, −1 → 0; 9 codes take 2 bytes, the 7 padding bits zero.
        #expect(PackedTensor.pack([1, -1, 1, 1, -1, -1, -1, 1, 1], bits: 1) == [0b1000_1101, 0b0000_0001])
        // 4-bit: −8 = 0x8, 7 = 0x7 → 0x78; 16-bit little-endian.
        #expect(PackedTensor.pack([-8, 7], bits: 4) == [0x78])
        #expect(PackedTensor.pack([-2, 300], bits: 16) == [0xFE, 0xFF, 0x2C, 0x01])
    }

    /// Codes take their true width: 3-bit codes straddle bytes (a w3 layer is 3/4 of a w4 one).
    @Test func trueWidthLayout() {
        // 3-bit 1 = 001, −1 = 111, 3 = 011, −3 = 101, least significant bit first:
        // byte 0 = bits 0…7 = 1 0 0 | 1 1 1 | 1 1 → 0b1111_1001; byte 1 = 0 | 1 0 1 → 0b0000_1010.
        #expect(PackedTensor.pack([1, -1, 3, -3], bits: 3) == [0xF9, 0x0A])
        // 5-bit −15 = 0b10001, 15 = 0b01111 → bits 10001 01111 → 0xF1, 0x01.
        #expect(PackedTensor.pack([-15, 15], bits: 5) == [0xF1, 0x01])
        #expect(PackedTensor.codeBits(.uniform(bits: 3)) == 3 && PackedTensor.codeBits(.ternary) == 2 && PackedTensor.codeBits(.binary) == 1)
        for k in 2...16 {
            let w = randomWeights(1000, seed: UInt64(k))
            let p = PackedTensor(UniformWeightQuantizer(bits: k).codes(w, channels: 1)!)
            #expect(p.bits == k && p.bytes.count == (1000 * k + 7) / 8, "w\(k): \(p.bytes.count) bytes")
        }
    }

    @Test func packedTensorFromQuantizers() throws {
        let w = randomWeights(7 * 13, seed: 21)
        var opts = QuantizerOptions()
        opts.perChannel = true
        let quantizers: [(WeightQuantizer, Int)] = [
            (UniformWeightQuantizer(bits: 2), 2), (UniformWeightQuantizer(bits: 3), 3),
            (UniformWeightQuantizer(bits: 4, perChannel: true), 4), (UniformWeightQuantizer(bits: 5), 5),
            (UniformWeightQuantizer(bits: 7), 7), (UniformWeightQuantizer(bits: 8), 8), (UniformWeightQuantizer(bits: 11), 11),
            (UniformWeightQuantizer(bits: 16), 16),
            (TernaryWeightQuantizer(), 2), (BinaryWeightQuantizer(), 1), (BinaryWeightQuantizer(variant: .binaryConnect), 1),
        ]
        for (q, container) in quantizers {
            let codes = q.codes(w, channels: 7)!
            let packed = PackedTensor(codes)
            #expect(packed.bits == container)
            #expect(packed.bytes.count == (w.count * container + 7) / 8)
            let back = try packed.codes()
            #expect(back == codes)
            #expect(back.dequantized() == q.quantized(w, channels: 7), "\(q.precision)")
        }
    }

    @Test func damagedBuffersThrow() {
        let bytes = PackedTensor.pack([1, -1, 1], bits: 2)                 // 1 byte, 2 padding bits
        #expect(throws: PackingError.truncated(expectedBytes: 1, foundBytes: 0)) { try PackedTensor.unpack([], count: 3, bits: 2) }
        #expect(throws: PackingError.trailingBytes(expectedBytes: 1, foundBytes: 2)) { try PackedTensor.unpack(bytes + [0], count: 3, bits: 2) }
        #expect(throws: PackingError.unsupportedBits(17)) { try PackedTensor.unpack(bytes, count: 3, bits: 17) }
        #expect(throws: PackingError.unsupportedBits(0)) { try PackedTensor.unpack(bytes, count: 3, bits: 0) }
        #expect(throws: PackingError.badCount(-1)) { try PackedTensor.unpack(bytes, count: -1, bits: 2) }
        #expect(throws: PackingError.nonzeroPadding(byte: 0)) { try PackedTensor.unpack([bytes[0] | 0x80], count: 3, bits: 2) }
        #expect(throws: PackingError.truncated(expectedBytes: 2, foundBytes: 1)) { try PackedTensor.unpack([0], count: 1, bits: 16) }
        // A 3-bit uniform code range is −3…3: −4 fits the 3-bit field but not the scheme.
        let bad = PackedTensor(scheme: .uniform(bits: 3), bits: 3, count: 2, scales: [1], bytes: PackedTensor.pack([-4, 3], bits: 3))
        #expect(throws: PackingError.codeOutOfRange(index: 0, code: -4, allowed: -3...3)) { try bad.codes() }
        let ternary = PackedTensor(scheme: .ternary, bits: 2, count: 1, scales: [1], bytes: [0b10])
        #expect(throws: PackingError.codeOutOfRange(index: 0, code: -2, allowed: -1...1)) { try ternary.codes() }
        let mismatch = PackedTensor(scheme: .uniform(bits: 8), bits: 4, count: 2, scales: [1], bytes: [0])
        #expect(throws: PackingError.widthMismatch(codeBits: 8, storedBits: 4)) { try mismatch.codes() }
        let scales = PackedTensor(scheme: .ternary, bits: 2, count: 3, scales: [1, 2], bytes: [0])
        #expect(throws: PackingError.scaleCount(scales: 2, codes: 3)) { try scales.codes() }
        // Random bytes never trap.
        var g = SplitMix64(seed: 8)
        for _ in 0..<500 {
            let junk = (0..<g.nextInt(below: 12)).map { _ in UInt8(g.nextInt(below: 256)) }
            for bits in 0...17 { _ = try? PackedTensor.unpack(junk, count: g.nextInt(below: 20), bits: bits) }
        }
    }

    @Test func crc32KnownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        var c = CRC32()
        c.update(Array("12345".utf8)); c.update(Array("6789".utf8))
        #expect(c.value == 0xCBF4_3926)
    }
}
