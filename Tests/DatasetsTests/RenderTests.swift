import Testing
@testable import Datasets

@Suite struct RenderTests {
    @Test func grayscaleRamp() {
        // One 1×2×5 image: a ramp 0…255 and its reverse; level = v·10/256 → 0, 2, 5, 7, 9.
        let px: [UInt8] = [0, 60, 128, 200, 255, 255, 200, 128, 60, 0]
        let s = Split(storage: .uint8(px), labels: [1], sampleShape: [1, 2, 5])
        #expect(renderImage(s, index: 0, classNames: ["a", "b"]) == """
            sample 0: class 1 (b), 1×2×5
              ::++##@@
            @@##++::

            """)
        #expect(renderImage(s, index: 3, classNames: []) == "no sample 3: the split has 1 (0…0)")
    }

    @Test func colourUsesLuminance() {
        // Pure red, green, blue, white pixels: luminance 76, 150, 29, 255 → levels 2, 5, 1, 9.
        let px: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]
        let s = Split(storage: .uint8(px), labels: [0], sampleShape: [3, 1, 4])
        #expect(renderImage(s, index: 0, classNames: ["x"]).split(separator: "\n")[1] == "::++..@@")
    }

    /// Class names are padded to terminal columns: a CSV's CJK class name (裙子, 4 columns in
    /// 2 Characters) pushed its count 2 columns right of the others'.
    @Test func classHistogramLinesUpWideNames() {
        #expect(renderHistogram([30, 10, 20], classNames: ["裙子", "coat", "a-very-long-class-name"], width: 3) == """
               0 裙子             30 ███
               1 coat             10 █
               2 a-very-long-cla… 20 ██

            """)
    }

    @Test func tabularSampleListsFeatures() {
        let s = Split(storage: .float([1, 2.5, 3]), labels: [0], sampleShape: [3])
        #expect(renderImage(s, index: 0, classNames: ["setosa"]) == "sample 0: class 0 (setosa), 3\n1 2.5 3\n")
    }

    @Test func summaryNamesEverything() {
        let s = Split(storage: .uint8([UInt8](repeating: 0, count: 8)), labels: [0, 1], sampleShape: [1, 2, 2])
        let d = Dataset(name: "tiny", train: s, test: s.subset([1]), classNames: ["a", "b"], sampleShape: [1, 2, 2],
                        files: ["/x/train", "/x/test"], fingerprint: "00000000deadbeef")
        #expect(summary(d) == """
            dataset tiny: 2 classes, samples 1×2×2 uint8
              train 2 (1–1 per class)
              test 1 (0–1 per class)
              classes: a, b
              files: /x/train, /x/test
              fingerprint fnv1a64 00000000deadbeef

            """)
    }
}
