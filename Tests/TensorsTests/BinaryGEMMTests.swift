import Testing
import Tensors

/// `xnorGemm` (every implementation this CPU runs) against `naiveXnorGemm`, the
/// definition Σ (±1)(±1) over the masked positions: exact, on random lengths that are
/// not multiples of 64 (the bits past the length are zero, as the engine packs them),
/// with and without a mask, filter counts that are not multiples of 8 or 32.
@Suite struct BinaryGEMMTests {
    static let levels = XNORLevel.allCases.filter(\.isSupported)

    /// Random words whose bits at positions ≥ length are 0.
    static func bits(rows: Int, words: Int, length: Int, rng: inout SplitMix64) -> [UInt64] {
        var v = [UInt64](repeating: 0, count: rows * words)
        for r in 0..<rows {
            for j in 0..<words {
                let lo = j * 64, keep = max(0, min(64, length - lo))
                v[r * words + j] = keep == 0 ? 0 : rng.next() & (keep == 64 ? ~0 : (UInt64(1) << UInt64(keep)) - 1)
            }
        }
        return v
    }

    @Test(arguments: levels)
    func matchesTheDefinition(level: XNORLevel) {
        var rng = SplitMix64(seed: 77)
        for (trial, length) in [1, 63, 64, 65, 127, 288, 300, 576, 700, 3136].enumerated() {
            let words = (length + 63) / 64
            let rows = 1 + rng.nextInt(below: 9), filters = [1, 5, 8, 13, 32, 37, 64][trial % 7]
            let x = Self.bits(rows: rows, words: words, length: length, rng: &rng)
            let w = Self.bits(rows: filters, words: words, length: length, rng: &rng)
            let packed = PackedBinaryFilters(rows: w, filters: filters, words: words)
            // Without a mask every position < length counts: the naive loop gets that mask.
            let firstBits = Self.bits(rows: rows, words: words, length: length, rng: &rng).indices.map { i -> UInt64 in
                let lo = (i % words) * 64, keep = max(0, min(64, length - lo))
                return keep == 64 ? ~0 : (UInt64(1) << UInt64(keep)) - 1
            }
            let randomMask = zip(Self.bits(rows: rows, words: words, length: length, rng: &rng), firstBits).map { $0 | ($1 & 0xF0F0_F0F0_F0F0_F0F0) }
            let valid = (0..<rows).map { r in Int32(randomMask[(r * words)..<((r + 1) * words)].reduce(0) { $0 + $1.nonzeroBitCount }) }
            for (mask, label) in [(nil as [UInt64]?, "no mask"), (randomMask, "mask")] {
                var fast = [Int32](repeating: 99, count: rows * (filters + 3)), naive = fast
                x.withUnsafeBufferPointer { xp in
                    valid.withUnsafeBufferPointer { vp in
                        fast.withUnsafeMutableBufferPointer { op in
                            if let mask {
                                mask.withUnsafeBufferPointer { mp in
                                    xnorGemm(level: level, x: xp.baseAddress!, mask: mp.baseAddress!, valid: vp.baseAddress!,
                                             rows: rows, filters: packed, out: op.baseAddress!, ldo: filters + 3)
                                }
                            } else {
                                xnorGemm(level: level, x: xp.baseAddress!, mask: nil, valid: nil, validAll: Int32(length),
                                         rows: rows, filters: packed, out: op.baseAddress!, ldo: filters + 3)
                            }
                        }
                    }
                    (mask ?? firstBits).withUnsafeBufferPointer { mp in
                        w.withUnsafeBufferPointer { wp in
                            naive.withUnsafeMutableBufferPointer { op in
                                naiveXnorGemm(x: xp.baseAddress!, mask: mp.baseAddress!, rows: rows, words: words,
                                              filterRows: wp.baseAddress!, filters: filters, out: op.baseAddress!, ldo: filters + 3)
                            }
                        }
                    }
                }
                let first = fast.indices.first { fast[$0] != naive[$0] }
                #expect(first == nil, "\(level.name), length \(length), \(rows)×\(filters), \(label): first difference at \(first ?? -1): \(first.map { "\(fast[$0]) vs \(naive[$0])" } ?? "")")
            }
        }
    }

    /// The definition on a case worked by hand: x = (+1, −1, +1), w = (+1, +1, −1):
    /// 1 − 1 − 1 = −1; with the middle position masked out, 1 − 1 = 0.
    @Test func handWorkedExample() {
        let x: [UInt64] = [0b101], w: [UInt64] = [0b011]
        var out: [Int32] = [0]
        naiveXnorGemm(x: x, mask: [0b111], rows: 1, words: 1, filterRows: w, filters: 1, out: &out, ldo: 1)
        #expect(out == [-1])
        naiveXnorGemm(x: x, mask: [0b101], rows: 1, words: 1, filterRows: w, filters: 1, out: &out, ldo: 1)
        #expect(out == [0])
        let packed = PackedBinaryFilters(rows: w, filters: 1, words: 1)
        xnorGemm(x: x, mask: nil, valid: nil, validAll: 3, rows: 1, filters: packed, out: &out, ldo: 1)
        #expect(out == [-1])
    }

    /// cpuid agrees with /proc/cpuinfo on the features the kernels use.
    @Test func featuresMatchProcCpuinfo() throws {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let set = Set(flags.split(separator: " ").map(String.init))
        for (name, ours) in [("avx2", "avx2"), ("avx512f", "avx512f"), ("avx512_vnni", "avx512_vnni"),
                             ("avx512_bf16", "avx512_bf16"), ("avx512_vpopcntdq", "avx512_vpopcntdq"), ("amx_int8", "amx_int8")] {
            #expect(set.contains(name) == CPUFeatures.names.contains(ours), "\(name)")
        }
        #expect(XNORLevel.best.isSupported)
    }
}
