import Foundation
import Testing
@testable import Datasets

@Suite struct CIFARTests {
    /// CIFAR-10: batch b holds 2 records with labels (b + k) % 10; test holds 3.
    static func writeCIFAR10(_ dir: String, meta: Bool = true) {
        for b in 1...5 {
            let bytes = (0..<2).flatMap { k in TestFiles.cifarRecord(labels: [UInt8((b + k) % 10)], seed: b * 10 + k) }
            TestFiles.write(bytes, dir + "/data_batch_\(b).bin")
        }
        TestFiles.write((0..<3).flatMap { k in TestFiles.cifarRecord(labels: [UInt8(9 - k)], seed: 100 + k) }, dir + "/test_batch.bin")
        if meta {
            TestFiles.write(Array((CIFARLoader.cifar10ClassNames.map { $0.uppercased() }.joined(separator: "\n") + "\n\n").utf8),
                            dir + "/batches.meta.txt")
        }
    }

    @Test func cifar10PixelsAndLabels() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        Self.writeCIFAR10(dir)
        let d = try DatasetLoader.load("cifar10", path: dir)
        #expect(d.sampleShape == [3, 32, 32])
        #expect(d.train.count == 10 && d.test.count == 3)
        #expect(d.train.labels == (1...5).flatMap { b in (0..<2).map { Int32((b + $0) % 10) } })
        #expect(d.test.labels == [9, 8, 7])
        guard case .uint8(let px) = d.train.storage, case .uint8(let tp) = d.test.storage else { Issue.record("storage"); return }
        #expect(px == (1...5).flatMap { b in (0..<2).flatMap { k in (0..<3072).map { TestFiles.pattern(b * 10 + k, $0) } } })
        #expect(tp == (0..<3).flatMap { k in (0..<3072).map { TestFiles.pattern(100 + k, $0) } })
        #expect(d.classNames.first == "AIRPLANE" && d.classNames.count == 10)
        #expect(d.files.count == 7)
    }

    @Test func cifar10InArchiveFolderWithoutMeta() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        let sub = dir + "/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        Self.writeCIFAR10(sub, meta: false)
        let d = try DatasetLoader.load("cifar-10", path: dir)
        #expect(d.classNames == CIFARLoader.cifar10ClassNames)
        #expect(d.train.count == 10)
    }

    static func writeCIFAR100(_ dir: String) {
        func records(_ n: Int, _ seed: Int) -> [UInt8] {
            (0..<n).flatMap { k in TestFiles.cifarRecord(labels: [UInt8((seed + k) % 20), UInt8((seed + 7 * k) % 100)], seed: seed + k) }
        }
        TestFiles.write(records(6, 0), dir + "/train.bin")
        TestFiles.write(records(4, 50), dir + "/test.bin")
        TestFiles.write(Array((0..<100).map { "fine\($0)" }.joined(separator: "\n").utf8), dir + "/fine_label_names.txt")
        TestFiles.write(Array((0..<20).map { "coarse\($0)" }.joined(separator: "\n").utf8), dir + "/coarse_label_names.txt")
    }

    @Test func cifar100FineByDefaultCoarseOnRequest() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        Self.writeCIFAR100(dir)
        let fine = try DatasetLoader.load("cifar100", path: dir)
        let trainFine: [Int32] = (0..<6).map { k in Int32(7 * k % 100) }
        let testFine: [Int32] = (0..<4).map { k in Int32((50 + 7 * k) % 100) }
        #expect(fine.train.labels == trainFine)
        #expect(fine.test.labels == testFine)
        #expect(fine.classNames.count == 100 && fine.classNames[42] == "fine42")
        guard case .uint8(let px) = fine.test.storage else { Issue.record("storage"); return }
        #expect(px == (0..<4).flatMap { k in (0..<3072).map { TestFiles.pattern(50 + k, $0) } })

        let coarse = try DatasetLoader.load("cifar100", path: dir, options: ["labels": "coarse"])
        let trainCoarse: [Int32] = (0..<6).map { k in Int32(k % 20) }
        #expect(coarse.train.labels == trainCoarse)
        #expect(coarse.classNames.count == 20 && coarse.classNames[3] == "coarse3")
        #expect(coarse.train.storage == fine.train.storage)
        #expect(throws: DatasetError.self) { try DatasetLoader.load("cifar100", path: dir, options: ["labels": "medium"]) }
        #expect(throws: DatasetError.self) { try DatasetLoader.load("cifar100", path: dir, options: ["lables": "fine"]) }
    }

    @Test func recordSizeMustDivideTheFile() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        Self.writeCIFAR10(dir)
        let p = dir + "/data_batch_3.bin"
        TestFiles.write(TestFiles.read(p) + [1, 2, 3], p)
        let e = #expect(throws: DatasetError.self) { try DatasetLoader.load("cifar10", path: dir) }
        #expect(e?.description.hasSuffix("data_batch_3.bin: expected a whole number (at least 1) of 3073-byte records (1 label byte + 3072 pixel bytes), found 6149 bytes: 2 records and 3 bytes left over at byte offset 6146.") == true)
    }

    /// Every batch file's size is checked before any is read: a test batch 5 bytes off
    /// fails at once (it cost gigabytes and tens of seconds of reading the training batches).
    @Test func sizesCheckedBeforeAnyRecordIsRead() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        Self.writeCIFAR10(dir)
        var b = TestFiles.read(dir + "/data_batch_1.bin")
        b[0] = 200                                     // would fail when read
        TestFiles.write(b, dir + "/data_batch_1.bin")
        TestFiles.write(TestFiles.read(dir + "/test_batch.bin") + [1, 2, 3, 4, 5], dir + "/test_batch.bin")
        let e = #expect(throws: DatasetError.self) { try DatasetLoader.load("cifar10", path: dir) }
        #expect(e?.description.hasSuffix("test_batch.bin: expected a whole number (at least 1) of 3073-byte records (1 label byte + 3072 pixel bytes), found 9224 bytes: 3 records and 5 bytes left over at byte offset 9219.") == true, "\(String(describing: e))")
    }

    @Test func labelOutOfRange() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        Self.writeCIFAR100(dir)
        var b = TestFiles.read(dir + "/test.bin")
        b[3074 * 2] = 20   // coarse label of record 2
        TestFiles.write(b, dir + "/test.bin")
        let e = #expect(throws: DatasetError.self) { try DatasetLoader.load("cifar100", path: dir) }
        #expect(e?.description.hasSuffix("test.bin: expected a label 0…19 (record 2), found 20 at byte offset 6148.") == true)
    }

    @Test func wrongNumberOfClassNames() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        Self.writeCIFAR10(dir)
        TestFiles.write(Array("cat\ndog\n".utf8), dir + "/batches.meta.txt")
        let e = #expect(throws: DatasetError.self) { try DatasetLoader.load("cifar10", path: dir) }
        #expect(e?.description.hasSuffix("batches.meta.txt: expected 10 class names, one per line, found 2.") == true)
    }

    /// A names file saved with a byte-order mark (Notepad, Excel) gave a first class
    /// '\u{FEFF}AIRPLANE', shown as AIRPLANE but not equal to it. Found by
    /// fuzz_structure.py (cifar class names).
    @Test func byteOrderMarkInClassNamesIsSkipped() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        Self.writeCIFAR10(dir)
        TestFiles.write([0xEF, 0xBB, 0xBF] + Array(CIFARLoader.cifar10ClassNames.joined(separator: "\r\n").utf8), dir + "/batches.meta.txt")
        let d = try DatasetLoader.load("cifar10", path: dir)
        #expect(d.classNames == CIFARLoader.cifar10ClassNames)
    }
}
