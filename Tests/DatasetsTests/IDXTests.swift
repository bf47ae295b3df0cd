import Foundation
import Testing
@testable import Datasets

@Suite struct IDXTests {
    func checkContents(_ d: Dataset, train: Int = 20, test: Int = 10) {
        #expect(d.sampleShape == [1, 4, 3])
        #expect(d.train.count == train && d.test.count == test)
        for (split, n) in [(d.train, train), (d.test, test)] {
            guard case .uint8(let px) = split.storage else { Issue.record("not uint8"); return }
            #expect(px == (0..<n).flatMap { i in (0..<12).map { TestFiles.pattern(i, $0) } })
            #expect(split.labels == (0..<n).map { Int32($0 % 10) })
        }
    }

    @Test(arguments: [(false, 0), (false, 1), (true, 0), (true, 1)])
    func loadsPlainAndGzippedInBothNamingStyles(gzip: Bool, style: Int) throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.writeIDX(dir, gzip: gzip, style: style)
        let d = try DatasetLoader.load("mnist", path: dir)
        checkContents(d)
        #expect(d.classNames == (0..<10).map(String.init))
        #expect(d.files.count == 4 && d.files.allSatisfy { $0.hasSuffix(gzip ? ".gz" : "ubyte") })
        #expect(d.fingerprint.count == 16)
    }

    @Test func fashionMNISTNameUsesFashionClassNames() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.writeIDX(dir, gzip: true)
        let d = try DatasetLoader.load("fashion-mnist", path: dir + "/train-images-idx3-ubyte.gz")
        checkContents(d)
        #expect(d.classNames[9] == "Ankle boot")
    }

    @Test func fingerprintIsStableAndSeesOneByte() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.writeIDX(dir, gzip: false)
        let a = try DatasetLoader.load("mnist", path: dir).fingerprint
        #expect(try DatasetLoader.load("mnist", path: dir).fingerprint == a)
        var bytes = TestFiles.read(dir + "/t10k-images-idx3-ubyte")
        bytes[20] ^= 1
        TestFiles.write(bytes, dir + "/t10k-images-idx3-ubyte")
        #expect(try DatasetLoader.load("mnist", path: dir).fingerprint != a)
    }

    @Test func fnvMatchesPublishedVectors() {
        // Test vectors from the FNV reference (isthe.com/chongo/tech/comp/fnv).
        var h = FNV1a64()
        #expect(h.hex == "cbf29ce484222325")
        h.update(Array("a".utf8))
        #expect(h.hex == "af63dc4c8601ec8c")
        var f = FNV1a64()
        f.update(Array("foobar".utf8))
        #expect(f.hex == "85944171f73967e8")
    }

    /// Writes a valid directory, lets `damage` change one file, and returns the error.
    func loadError(gzip: Bool = false, _ damage: (String) -> Void) -> DatasetError? {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.writeIDX(dir, gzip: gzip)
        damage(dir)
        do {
            _ = try DatasetLoader.load("mnist", path: dir)
            return nil
        } catch let e as DatasetError {
            return e
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func wrongMagicNumber() throws {
        let e = try #require(loadError { dir in
            TestFiles.write(TestFiles.idxLabels([1, 2]), dir + "/train-images-idx3-ubyte")
        })
        #expect(e.description.contains("train-images-idx3-ubyte: expected magic number 0x00000803"))
        #expect(e.description.contains("found 0x00000801 at byte offset 0."))
    }

    @Test func truncatedImages() throws {
        let e = try #require(loadError { dir in
            let p = dir + "/train-images-idx3-ubyte"
            TestFiles.write(Array(TestFiles.read(p).dropLast(5)), p)
        })
        #expect(e.description.hasSuffix("train-images-idx3-ubyte: expected a file of 256 bytes (a header of 16 bytes and 20 images of 4×3 bytes, as the header says), found 251 bytes at byte offset 251."))
    }

    @Test func truncatedGzipStream() throws {
        let e = try #require(loadError(gzip: true) { dir in
            let p = dir + "/train-images-idx3-ubyte.gz"
            let b = TestFiles.read(p)
            TestFiles.write(Array(b.prefix(b.count - 12)), p)
        })
        #expect(e.description.contains("train-images-idx3-ubyte.gz: expected"))
        #expect(e.location != .file)
    }

    @Test func corruptGzip() throws {
        let e = try #require(loadError(gzip: true) { dir in
            let p = dir + "/t10k-images-idx3-ubyte.gz"
            var b = TestFiles.read(p)
            for k in 12..<b.count - 8 { b[k] ^= 0x5A }
            TestFiles.write(b, p)
        })
        #expect(e.description.contains("t10k-images-idx3-ubyte.gz: expected"))
        #expect(e.description.contains("of the decompressed data"))
    }

    @Test func gzipHeaderClaimingMoreThanTheStreamHolds() throws {
        // 2000 images claimed, 20 present: the reader must not trust the claim.
        let e = try #require(loadError(gzip: true) { dir in
            let pixels = (0..<20).flatMap { i in (0..<12).map { TestFiles.pattern(i, $0) } }
            TestFiles.writeGzip(TestFiles.idxImages(count: 2000, rows: 4, cols: 3, pixels: pixels), dir + "/train-images-idx3-ubyte.gz")
            TestFiles.writeGzip([0, 0, 8, 1] + TestFiles.be32(2000) + (0..<20).map { UInt8($0 % 10) }, dir + "/train-labels-idx1-ubyte.gz")
        })
        #expect(e.description.hasSuffix("train-images-idx3-ubyte.gz: expected 24000 bytes of pixels (2000 images of 4×3) starting at offset 16, found the end of the data after 240 bytes at byte offset 256 of the decompressed data."))
    }

    @Test func labelOutOfRange() throws {
        let e = try #require(loadError { dir in
            TestFiles.write(TestFiles.idxLabels((0..<20).map { $0 == 7 ? 10 : UInt8($0 % 10) }), dir + "/train-labels-idx1-ubyte")
        })
        #expect(e.description.hasSuffix("train-labels-idx1-ubyte: expected a class label 0…9 (label 7), found 10 at byte offset 15."))
    }

    @Test func imageAndLabelCountsDiffer() throws {
        let e = try #require(loadError { dir in
            TestFiles.write(TestFiles.idxLabels((0..<19).map { UInt8($0 % 10) }), dir + "/train-labels-idx1-ubyte")
        })
        #expect(e.description.contains("train-labels-idx1-ubyte: expected 20 labels, one per image"))
        #expect(e.description.hasSuffix("found 19 labels in the header at byte offset 4."))
    }

    @Test func trailingData() throws {
        let e = try #require(loadError { dir in
            let p = dir + "/t10k-labels-idx1-ubyte"
            TestFiles.write(TestFiles.read(p) + [0], p)
        })
        #expect(e.description.hasSuffix("t10k-labels-idx1-ubyte: expected a file of 18 bytes (a header of 8 bytes and 10 one-byte labels, as the header says), found 19 bytes at byte offset 18."))
    }

    /// Every header and size is checked before any values are read: a damaged test
    /// file is reported before the (large) training files are read.
    @Test func sizesCheckedBeforeAnyValueIsRead() throws {
        let e = try #require(loadError { dir in
            TestFiles.write(TestFiles.idxLabels((0..<20).map { $0 == 3 ? 200 : UInt8($0 % 10) }), dir + "/train-labels-idx1-ubyte")
            let p = dir + "/t10k-images-idx3-ubyte"
            TestFiles.write(TestFiles.read(p) + [1, 2, 3, 4, 5], p)
        })
        #expect(e.description.hasPrefix(NSTemporaryDirectory()) && e.description.contains("/t10k-images-idx3-ubyte: expected a file of 136 bytes"), "\(e)")
    }

    /// A training split with no images is refused, naming the file (it gave runs on 0 images).
    @Test func emptyTrainingSplitIsRefused() throws {
        let e = try #require(loadError { dir in
            TestFiles.write(TestFiles.idxImages(count: 0, rows: 4, cols: 3, pixels: []), dir + "/train-images-idx3-ubyte")
            TestFiles.write(TestFiles.idxLabels([]), dir + "/train-labels-idx1-ubyte")
        })
        #expect(e.description.hasSuffix("/train-images-idx3-ubyte: expected a training split of at least 1 sample, found none (0 samples)."), "\(e)")
    }

    /// Whole-file reads (CSV, .mat, class names) stop at a limit instead of inflating a
    /// gzip bomb into memory.
    @Test func wholeFileReadsHaveALimit() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.writeGzip([UInt8](repeating: 0, count: 5000), dir + "/z.csv.gz")
        let e = #expect(throws: DatasetError.self) { try GzipReader(path: dir + "/z.csv.gz", check: .none).readToEnd(limit: 1000, what: "CSV text") }
        #expect(e?.description.hasSuffix("z.csv.gz: expected CSV text of at most 1000 bytes, found more when decompressed at byte offset 1000 of the decompressed data.") == true, "\(String(describing: e))")
        #expect(try GzipReader(path: dir + "/z.csv.gz", check: .none).readToEnd(limit: 5000).count == 5000)
    }

    @Test func missingFile() throws {
        let e = try #require(loadError { dir in try? FileManager.default.removeItem(atPath: dir + "/t10k-labels-idx1-ubyte") })
        #expect(e.description.contains("expected a file named t10k-labels-idx1-ubyte.gz, t10k-labels-idx1-ubyte, t10k-labels.idx1-ubyte.gz or t10k-labels.idx1-ubyte, found none in this directory."))
        let missing = #expect(throws: DatasetError.self) { try DatasetLoader.load("mnist", path: "/nonexistent/mnist") }
        #expect(missing?.description == "/nonexistent/mnist: expected a dataset directory or file, found no such file or directory.")
    }

    @Test func unknownNameAndMissingPath() {
        let e = #expect(throws: DatasetError.self) { try DatasetLoader.load("imagenet") }
        #expect(e?.description == "imagenet: expected a dataset name (fashion-mnist, mnist, cifar10, cifar100, svhn, csv, npy), found 'imagenet'.")
        let p = #expect(throws: DatasetError.self) { try DatasetLoader.load("cifar10") }
        #expect(p?.description == "cifar10: expected a path to the cifar10 files (only fashion-mnist is built in), found no path.")
    }
}
