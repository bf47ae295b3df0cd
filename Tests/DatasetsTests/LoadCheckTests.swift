import Foundation
import Testing
@testable import Datasets

/// Ctrl-C during `data load`: every loader calls its `LoadCheck` through the load and
/// stops with the error the check throws (the shell's `QuantlabError.interrupted`).
/// Before, no loader had a hook, and a 54 MB CSV or a large .npz loaded to the end.
@Suite struct LoadCheckTests {
    struct Stop: Error {}

    /// A check that counts its calls and throws `Stop` at call `stopAt` (never when nil).
    final class Counter {
        let stopAt: Int?
        var calls = 0
        init(stopAt: Int?) { self.stopAt = stopAt }
        var check: LoadCheck {
            LoadCheck { [self] in
                calls += 1
                if calls == stopAt { throw Stop() }
            }
        }
    }

    /// Loads once with a check that never stops, counting its `n` calls (at least
    /// `minimumCalls`), then with checks that throw at call 1, 2, …, n: each load ends
    /// with that error, at that call (nothing runs on to the next check).
    static func stopsAtEveryCheck(minimumCalls: Int, _ load: (LoadCheck) throws -> Dataset) throws {
        let full = Counter(stopAt: nil)
        let d = try load(full.check)
        #expect(d.train.count > 0)
        #expect(full.calls >= minimumCalls, "\(full.calls) calls")
        for k in 1...max(full.calls, 1) {
            let c = Counter(stopAt: k)
            #expect(throws: Stop.self, "stop at call \(k) of \(full.calls)") { _ = try load(c.check) }
            #expect(c.calls == k, "stop at call \(k): \(c.calls) calls")
        }
    }

    /// Every format, in the files the format tests write (or NumPy's own fixtures).
    /// `minimumCalls` is one per CSV row and CIFAR record, one per read elsewhere.
    @Test(arguments: ["idx", "idx.gz", "cifar10", "cifar100", "svhn", "svhn-compressed", "csv", "csv-quoted",
                      "csv-directory", "npz-stored", "npz-deflated", "npy-directory", "npz-float32"])
    func everyLoaderStopsAtEveryCheck(format: String) throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        let rows = (0..<40).map { "\($0).5,\(-$0)e-1,\($0 % 3)" }
        switch format {
        case "idx", "idx.gz":
            TestFiles.writeIDX(dir, gzip: format == "idx.gz")
            try Self.stopsAtEveryCheck(minimumCalls: 8) { try DatasetLoader.load("mnist", path: dir, check: $0) }
        case "cifar10":
            CIFARTests.writeCIFAR10(dir)
            try Self.stopsAtEveryCheck(minimumCalls: 13) { try DatasetLoader.load("cifar10", path: dir, check: $0) }
        case "cifar100":
            CIFARTests.writeCIFAR100(dir)
            try Self.stopsAtEveryCheck(minimumCalls: 10) {
                try DatasetLoader.load("cifar100", path: dir, options: ["labels": "coarse"], check: $0)
            }
        case "svhn", "svhn-compressed":
            for (name, labels) in [("train", [1, 10, 5, 3]), ("test", [10, 2])] {
                TestFiles.write(MATWriter.svhn(labels: labels, compressed: format == "svhn-compressed"), dir + "/\(name)_32x32.mat")
            }
            try Self.stopsAtEveryCheck(minimumCalls: 4) { try DatasetLoader.load("svhn", path: dir, check: $0) }
        case "csv", "csv-quoted":
            let quote = format == "csv-quoted" ? "\"" : ""
            TestFiles.write(Array(("x,\(quote)y\(quote),label\n" + rows.joined(separator: "\n")).utf8), dir + "/data.csv")
            try Self.stopsAtEveryCheck(minimumCalls: 41) { try DatasetLoader.load("csv", path: dir + "/data.csv", check: $0) }
        case "csv-directory":
            TestFiles.write(Array(("x,y,label\n" + rows.joined(separator: "\n")).utf8), dir + "/train.csv")
            TestFiles.writeGzip(Array(("x,y,label\n" + rows.prefix(6).joined(separator: "\n")).utf8), dir + "/test.csv.gz")
            try Self.stopsAtEveryCheck(minimumCalls: 47) { try DatasetLoader.load("csv", path: dir, check: $0) }
        case "npz-stored", "npz-deflated":
            let file = NumPyTests.fixture(format == "npz-stored" ? "stored.npz" : "deflated.npz")
            try Self.stopsAtEveryCheck(minimumCalls: 6) { try DatasetLoader.load("npy", path: file, check: $0) }
        case "npy-directory":
            let folder = NumPyTests.fixture("u8-nchw-v1")
            try Self.stopsAtEveryCheck(minimumCalls: 4) { try DatasetLoader.load("npy", path: folder, check: $0) }
        default:
            let x = NPYWriter.npy(.float32((0..<60).map { Float($0) / 7 }), shape: [6, 10])
            let y = NPYWriter.npy(.int64((0..<6).map { Int64($0 % 2) }), shape: [6])
            TestFiles.write(NPYWriter.npz([("x_train", x), ("y_train", y)]), dir + "/f.npz")
            try Self.stopsAtEveryCheck(minimumCalls: 5) { try DatasetLoader.load("npy", path: dir + "/f.npz", check: $0) }
        }
    }

    /// The byte loops check once per `LoadCheck.chunk` bytes, whatever the size of the
    /// read: reading a gzip file, inflating a zlib stream, hashing files and computing
    /// the normalisation of a split 5 chunks long each call the check at least 5 times.
    @Test func byteLoopsCheckEveryChunk() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        let size = 5 * LoadCheck.chunk
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        TestFiles.writeGzip(bytes, dir + "/b.gz")
        TestFiles.write(bytes, dir + "/b")

        var reads = Counter(stopAt: nil)
        #expect(try GzipReader(path: dir + "/b.gz", check: reads.check).readToEnd() == bytes)
        #expect(reads.calls >= 5, "\(reads.calls)")
        reads = Counter(stopAt: nil)
        #expect(try GzipReader(path: dir + "/b", check: reads.check).readToEnd() == bytes)
        #expect(reads.calls >= 5, "\(reads.calls)")

        let inflates = Counter(stopAt: nil)
        let out = try inflateZlib(TestFiles.zlibCompress(bytes)[...], prefixCount: 1, check: inflates.check, size: { _ in size },
                                  fail: { e, f, o in DatasetError(file: "z", location: .byte(o), expected: e, found: f) })
        #expect(out == bytes)
        #expect(inflates.calls >= 5, "\(inflates.calls)")

        let hashes = Counter(stopAt: nil)
        #expect(try FNV1a64.ofFiles([dir + "/b"], check: hashes.check) == FNV1a64.ofFiles([dir + "/b"], check: .none))
        #expect(hashes.calls >= 5, "\(hashes.calls)")

        let split = Split(storage: .uint8(bytes), labels: [Int32](repeating: 0, count: size / 1024), sampleShape: [1, 32, 32])
        let sums = Counter(stopAt: nil)
        #expect(try Normalization.compute(split, check: sums.check) == Normalization.compute(split))
        #expect(sums.calls >= 5, "\(sums.calls)")
        let stopped = Counter(stopAt: 3)
        #expect(throws: Stop.self) { try Normalization.compute(split, check: stopped.check) }
    }
}
