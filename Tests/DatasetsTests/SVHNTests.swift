import Foundation
import Testing
@testable import Datasets

@Suite struct SVHNTests {
    static let trainLabels = [1, 10, 5, 3]
    static let testLabels = [10, 2]

    func write(_ dir: String, compressed: Bool, yAsDouble: Bool = true) {
        TestFiles.write(MATWriter.svhn(labels: Self.trainLabels, compressed: compressed, yAsDouble: yAsDouble), dir + "/train_32x32.mat")
        TestFiles.write(MATWriter.svhn(labels: Self.testLabels, compressed: compressed, yAsDouble: yAsDouble), dir + "/test_32x32.mat")
    }

    func check(_ split: Split, _ labels: [Int]) {
        #expect(split.sampleShape == [3, 32, 32])
        #expect(split.labels == labels.map { Int32($0 % 10) })   // label 10 is the digit 0
        guard case .uint8(let px) = split.storage else { Issue.record("storage"); return }
        var expected = [UInt8](repeating: 0, count: labels.count * 3072)
        for i in 0..<labels.count { for c in 0..<3 { for h in 0..<32 { for w in 0..<32 {
            expected[((i * 3 + c) * 32 + h) * 32 + w] = MATWriter.svhnPixel(h: h, w: w, c: c, i: i)
        } } } }
        #expect(px == expected)
    }

    @Test(arguments: [(true, true), (false, true), (true, false), (false, false)])
    func loadsAndReordersToNCHW(compressed: Bool, yAsDouble: Bool) throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        write(dir, compressed: compressed, yAsDouble: yAsDouble)
        let d = try DatasetLoader.load("svhn", path: dir)
        check(d.train, Self.trainLabels)
        check(d.test, Self.testLabels)
        #expect(d.classNames == (0..<10).map(String.init))
    }

    /// A .mat file with 0 images gave runs on 0 images and `test acc nan`.
    @Test func zeroTrainingImagesAreRefused() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.write(MATWriter.svhn(labels: [], compressed: false), dir + "/train_32x32.mat")
        TestFiles.write(MATWriter.svhn(labels: [3], compressed: false), dir + "/test_32x32.mat")
        let e = #expect(throws: DatasetError.self) { try DatasetLoader.load("svhn", path: dir) }
        #expect(e?.description.hasSuffix("/train_32x32.mat: expected a training split of at least 1 sample, found none (0 samples).") == true, "\(String(describing: e))")
    }

    /// Pixels stored as doubles convert value by value (no 8-byte-per-pixel copy).
    @Test func doublePixelsConvert() throws {
        var values = [UInt8]()
        for v in [0.0, 255.0, 17.0] { withUnsafeBytes(of: v.bitPattern.littleEndian) { values += $0 } }
        let a = MATArray(name: "X", classID: 6, isComplex: false, dims: [3, 1], storageType: .double,
                         buffer: values, range: 0..<24, bigEndian: false, element: nil)
        #expect(try a.byteValues(check: .none) == [0, 255, 17])
        var bad = values
        withUnsafeBytes(of: (2.5).bitPattern.littleEndian) { for k in 0..<8 { bad[8 + k] = $0[k] } }
        #expect(try MATArray(name: "X", classID: 6, isComplex: false, dims: [3, 1], storageType: .double,
                         buffer: bad, range: 0..<24, bigEndian: false, element: nil).byteValues(check: .none) == nil)
    }

    @Test func longNamesAndOtherVariablesAreHandled() throws {
        // A name over 4 bytes is a normal element; a char array is skipped.
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        let note = MATWriter.matrix(name: "comment", classID: 4, dims: [1, 2], storageType: 4, data: [104, 0, 105, 0])
        let file = MATWriter.svhn(labels: [3], compressed: true) + MATWriter.compressed(note)
            + MATWriter.matrix(name: "labels_extra", classID: 6, dims: [1, 1], storageType: 9, data: MATWriter.doubles([7]), smallName: false)
        let mat = try { let p = dir + "/a.mat"; TestFiles.write(file, p); return try MATFile(path: p, check: .none) }()
        #expect(mat.arrays.map(\.name) == ["X", "y", "labels_extra"])
        #expect(mat.array("labels_extra")?.doubleValues() == [7])
    }

    func error(_ file: [UInt8]) -> String? {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.write(file, dir + "/train_32x32.mat")
        TestFiles.write(MATWriter.svhn(labels: [1], compressed: true), dir + "/test_32x32.mat")
        do { _ = try SVHNLoader.load(path: dir); return nil } catch { return "\(error)" }
    }

    @Test func unknownElementType() throws {
        var file = MATWriter.svhn(labels: [1], compressed: false)
        file[128] = 11   // type 14 → 11 (a reserved type)
        let e = try #require(error(file))
        #expect(e.hasSuffix("train_32x32.mat: expected a miMATRIX (14) or miCOMPRESSED (15) element, found element type 11 at byte offset 128."))
    }

    @Test func labelOutOfRange() throws {
        let e = try #require(error(MATWriter.svhn(labels: [1, 11], compressed: false)))
        #expect(e.contains("train_32x32.mat: expected a label 1…10 (10 is the digit 0) for image 1, found 11.0 at byte offset"))
    }

    @Test func labelCountMismatch() throws {
        let x = MATWriter.matrix(name: "X", classID: 9, dims: [32, 32, 3, 2], storageType: 2, data: [UInt8](repeating: 0, count: 6144))
        let y = MATWriter.matrix(name: "y", classID: 6, dims: [3, 1], storageType: 9, data: MATWriter.doubles([1, 2, 3]))
        let e = try #require(error(MATWriter.header() + MATWriter.compressed(x) + MATWriter.compressed(y)))
        #expect(e.hasSuffix("train_32x32.mat: expected y as a real 2×1 array, one label per image in X, found 3×1."))
    }

    /// Offset 56 in the inflated element: its tag (8), array flags (16), dimensions
    /// (8 + 16), the name "X" as a small element (8).
    @Test func realPartSizeMismatchInsideCompressedElement() throws {
        let x = MATWriter.matrix(name: "X", classID: 9, dims: [32, 32, 3, 2], storageType: 2, data: [UInt8](repeating: 0, count: 6000))
        let e = try #require(error(MATWriter.header() + MATWriter.compressed(x)))
        #expect(e.hasSuffix("expected 6144 values of 1 bytes for 'X' (32×32×3×2), found 6000 bytes at byte offset 56 of the decompressed data of the compressed element at byte offset 128."))
    }

    @Test func compressedTagClaimingMoreThanTheStreamHolds() throws {
        var y = MATWriter.matrix(name: "y", classID: 6, dims: [1, 1], storageType: 9, data: MATWriter.doubles([1]))
        y[4] = 200   // the miMATRIX size field: 56 → 200 (element: 8-byte tag + 56)
        let x = MATWriter.matrix(name: "X", classID: 9, dims: [32, 32, 3, 1], storageType: 2, data: [UInt8](repeating: 0, count: 3072))
        let e = try #require(error(MATWriter.header() + MATWriter.compressed(x) + MATWriter.compressed(y)))
        #expect(e.contains("train_32x32.mat: expected 208 bytes of decompressed data (as the element's tag says), found the compressed stream ends after 64 at byte offset 64 of the decompressed data of the compressed element at byte offset "))
    }

    @Test func corruptCompressedElement() throws {
        var file = MATWriter.svhn(labels: [1, 2], compressed: true)
        for k in 150..<170 { file[k] ^= 0xA5 }
        let e = try #require(error(file))
        #expect(e.contains("train_32x32.mat: expected"))
        #expect(e.contains("compressed element at byte offset 128"))
    }

    @Test func version73IsNamed() throws {
        let e = try #require(error(MATWriter.header(text: "MATLAB 7.3 MAT-file, Platform: GLNXA64", endian: "\0\0") + [UInt8](repeating: 0, count: 64)))
        #expect(e.hasSuffix("expected the MAT-file endian indicator \"IM\" or \"MI\" (a MATLAB v5 file), found a v7.3 (HDF5) MAT-file; re-save it with -v7 at byte offset 126."))
    }

    @Test func truncatedFile() throws {
        let file = MATWriter.svhn(labels: [1, 2], compressed: false)
        let e = try #require(error(Array(file.prefix(5000))))
        #expect(e.contains("train_32x32.mat: expected"))
        #expect(e.contains("byte offset"))
    }
}
