import Testing
import Tensors
@testable import Datasets

@Suite struct BatchTests {
    /// 3 samples of 2×2×3 bytes: sample i, channel c, pixel p = 10·i + 4·c + p.
    static func pixel(_ i: Int, _ c: Int, _ p: Int) -> UInt8 { UInt8(10 * i + 4 * c + p) }
    static let images: Split = {
        var px: [UInt8] = []
        for i in 0..<3 { for c in 0..<2 { for p in 0..<6 { px.append(pixel(i, c, p)) } } }
        return Split(storage: .uint8(px), labels: [2, 0, 1], sampleShape: [2, 2, 3])
    }()

    @Test func normalizationMatchesDirectFormula() {
        let n = Normalization.compute(Self.images)
        for c in 0..<2 {
            var v: [Double] = []
            for i in 0..<3 { for p in 0..<6 { v.append(Double(Self.pixel(i, c, p)) / 255) } }
            let mean = v.reduce(0, +) / Double(v.count)
            var ss = 0.0
            for e in v { ss += (e - mean) * (e - mean) }
            let std = (ss / Double(v.count)).squareRoot()
            #expect(abs(Double(n.mean[c]) - mean) < 1e-6)
            #expect(abs(Double(n.std[c]) - std) < 1e-6)
        }
        let flat = Normalization.compute(Split(storage: .float([1, 5, 3, 5]), labels: [0, 1], sampleShape: [2]))
        #expect(flat.mean == [2, 5] && flat.std == [1, 1])   // the constant feature gets std 1
    }

    @Test func fillBatchNormalizesAndGathers() {
        let norm = Normalization(mean: [0.1, 0.2], std: [0.5, 0.25])
        var rng = SplitMix64(seed: 1)
        var x = Tensor(zeros: [1])
        var labels: [Int32] = []
        fillBatch(Self.images, indices: [2, 0][...], normalization: norm, augmentation: nil, rng: &rng, x: &x, labels: &labels)
        #expect(x.shape == [2, 2, 2, 3] && labels == [1, 2])
        #expect(rng == SplitMix64(seed: 1))
        for (k, i) in [2, 0].enumerated() { for c in 0..<2 { for p in 0..<6 {
            let raw = Float(Self.pixel(i, c, p)) / 255
            let want = (raw - norm.mean[c]) / norm.std[c]
            #expect(abs(x.data[(k * 2 + c) * 6 + p] - want) < 1e-5)
        } } }
    }

    @Test func augmentationShiftsFlipsAndIsSeeded() {
        // One 1×4×5 image, pixel (h, w) = 1 + 5h + w; identity normalisation in raw units.
        let img = Split(storage: .uint8((0..<20).map { UInt8(1 + $0) }), labels: [0], sampleShape: [1, 4, 5])
        let norm = Normalization(mean: [0], std: [1.0 / 255])
        let aug = Augmentation(cropPadding: 2, flip: true)
        var seen = Set<[Float]>()
        for seed in 0..<40 {
            var rng = SplitMix64(seed: UInt64(seed))
            var x = Tensor(zeros: [0]), labels: [Int32] = []
            fillBatch(img, indices: [0][...], normalization: norm, augmentation: aug, rng: &rng, x: &x, labels: &labels)
            var replay = SplitMix64(seed: UInt64(seed))
            let (dy, dx, mirrored) = aug.draw(&replay)
            #expect(rng == replay)
            #expect((-2...2).contains(dy) && (-2...2).contains(dx))
            for h in 0..<4 { for w in 0..<5 {
                let sy = h + dy, sx = (mirrored ? 4 - w : w) + dx
                let want: Float = sy >= 0 && sy < 4 && sx >= 0 && sx < 5 ? Float(1 + 5 * sy + sx) : 0
                #expect(abs(x.data[h * 5 + w] - want) < 1e-3)
            } }
            seen.insert(x.data)
        }
        #expect(seen.count > 20)
    }

    @Test func tabularSamplesIgnoreAugmentation() {
        let s = Split(storage: .float([1, 2, 3, 4]), labels: [0, 1], sampleShape: [2])
        var rng = SplitMix64(seed: 9)
        var x = Tensor(zeros: [0]), labels: [Int32] = []
        fillBatch(s, indices: [1][...], normalization: Normalization(mean: [1, 2], std: [2, 4]), augmentation: .standard,
                  rng: &rng, x: &x, labels: &labels)
        #expect(x.shape == [1, 2] && x.data == [1, 0.5] && labels == [1])
    }
}
