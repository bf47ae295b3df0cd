import Foundation
import Testing
import Tensors
@testable import Datasets

/// Feeds every loader many damaged copies of valid files: seeded random byte flips
/// (half of them in the first 256 bytes, where the headers and tags are) and
/// truncations. Each load must either succeed with labels in range or throw a
/// `DatasetError` naming the damaged file; a crash fails the whole test run.
@Suite struct DamagedInputTests {
    struct Format: CustomStringConvertible, Sendable {
        var description: String
        var name: String
        var options: [String: String] = [:]
        /// Writes a valid dataset into the directory; returns the files to damage.
        var write: @Sendable (String) -> [String]
    }

    static let formats: [Format] = [
        Format(description: "idx", name: "mnist") { dir in
            TestFiles.writeIDX(dir, train: 6, test: 4, gzip: false)
            return ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
        },
        Format(description: "idx.gz", name: "fashion-mnist") { dir in
            TestFiles.writeIDX(dir, train: 6, test: 4, gzip: true)
            return ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        },
        Format(description: "cifar10", name: "cifar10") { dir in
            CIFARTests.writeCIFAR10(dir)
            return ["data_batch_2.bin", "test_batch.bin", "batches.meta.txt"]
        },
        Format(description: "cifar100", name: "cifar100", options: ["labels": "coarse"]) { dir in
            CIFARTests.writeCIFAR100(dir)
            return ["train.bin", "coarse_label_names.txt"]
        },
        Format(description: "svhn compressed", name: "svhn") { dir in
            TestFiles.write(MATWriter.svhn(labels: [3, 10], compressed: true), dir + "/train_32x32.mat")
            TestFiles.write(MATWriter.svhn(labels: [1], compressed: true, yAsDouble: false), dir + "/test_32x32.mat")
            return ["train_32x32.mat", "test_32x32.mat"]
        },
        Format(description: "svhn uncompressed", name: "svhn") { dir in
            TestFiles.write(MATWriter.svhn(labels: [3, 10], compressed: false), dir + "/train_32x32.mat")
            TestFiles.write(MATWriter.svhn(labels: [1], compressed: false, yAsDouble: false), dir + "/test_32x32.mat")
            return ["train_32x32.mat", "test_32x32.mat"]
        },
        Format(description: "csv", name: "csv", options: ["label": "kind"]) { dir in
            TestFiles.write(Array("a,kind,b\n1,x,2\n3,\"y\",4\n5,x,6\n".utf8), dir + "/train.csv")
            TestFiles.write(Array("a,kind,b\n7,y,8\n".utf8), dir + "/test.csv")
            return ["train.csv", "test.csv"]
        },
    ]

    @Test(arguments: formats)
    func damagedFilesLoadOrThrowDatasetError(format: Format) throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        let targets = format.write(dir)
        let originals = targets.map { TestFiles.read(dir + "/" + $0) }
        _ = try DatasetLoader.load(format.name, path: dir, options: format.options)   // the undamaged files load
        var rng = SplitMix64(seed: 2024)
        var loaded = 0, failed = 0
        for trial in 0..<160 {
            let t = rng.nextInt(below: targets.count)
            var bytes = originals[t]
            if trial % 4 == 3 {
                bytes = Array(bytes.prefix(rng.nextInt(below: bytes.count)))
            } else {
                for _ in 0...rng.nextInt(below: 4) {
                    let span = rng.nextInt(below: 2) == 0 ? min(256, bytes.count) : bytes.count
                    bytes[rng.nextInt(below: span)] ^= UInt8(1 + rng.nextInt(below: 255))
                }
            }
            let path = dir + "/" + targets[t]
            TestFiles.write(bytes, path)
            do {
                let d = try DatasetLoader.load(format.name, path: dir, options: format.options)
                for s in [d.train, d.test] {
                    #expect(s.labels.allSatisfy { $0 >= 0 && Int($0) < d.classNames.count })
                    #expect(s.sampleShape == d.sampleShape)
                }
                loaded += 1
            } catch let e as DatasetError {
                // The damaged file is named (as the file, or as the reference a
                // second file was checked against).
                #expect(e.description.contains(targets[t]), "\(format) trial \(trial): \(e)")
                #expect(e.description.contains(": expected ") && e.description.contains(", found "))
                failed += 1
            } catch {
                Issue.record("\(format) trial \(trial): not a DatasetError: \(error)")
            }
            TestFiles.write(originals[t], path)
        }
        #expect(failed > 20, "\(format): only \(failed) of 160 damaged inputs were rejected")
        _ = loaded
    }
}
