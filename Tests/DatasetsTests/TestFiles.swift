import CZlib
import Foundation
@testable import Datasets

/// Writers for small files in each dataset's exact on-disk format, into a fresh
/// temporary directory per test.
enum TestFiles {
    /// A new empty directory under the system temporary directory.
    static func directory() -> String {
        let dir = NSTemporaryDirectory() + "quantlab-datasets-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func remove(_ dir: String) { try? FileManager.default.removeItem(atPath: dir) }

    static func write(_ bytes: [UInt8], _ path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    static func read(_ path: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: path) ?? Data())
    }

    /// Writes `bytes` gzip-compressed, through zlib's gzopen/gzwrite.
    static func writeGzip(_ bytes: [UInt8], _ path: String) {
        let f = gzopen(path, "wb")!
        bytes.withUnsafeBytes { _ = gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        gzclose(f)
    }

    /// zlib-format (RFC 1950) compression, as MAT-files' miCOMPRESSED elements hold.
    static func zlibCompress(_ bytes: [UInt8]) -> [UInt8] {
        var size = compressBound(UInt(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let rc = compress2(&out, &size, bytes, UInt(bytes.count), 6)
        precondition(rc == Z_OK)
        return Array(out[0..<Int(size)])
    }

    static func be32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
    static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    // MARK: IDX

    static func idxImages(count: Int, rows: Int, cols: Int, pixels: [UInt8]) -> [UInt8] {
        [0, 0, 8, 3] + be32(count) + be32(rows) + be32(cols) + pixels
    }

    static func idxLabels(_ labels: [UInt8]) -> [UInt8] { [0, 0, 8, 1] + be32(labels.count) + labels }

    /// Pixel k of image i: a pattern that differs per image and per position.
    static func pattern(_ i: Int, _ k: Int) -> UInt8 { UInt8(truncatingIfNeeded: i * 37 + k * 7 + k / 5) }

    /// Writes an MNIST-style directory: `train` images and `test` images of 4×3,
    /// labels i % 10. `style` 0: `train-images-idx3-ubyte`, 1: `train-images.idx3-ubyte`.
    static func writeIDX(_ dir: String, train: Int = 20, test: Int = 10, rows: Int = 4, cols: Int = 3,
                         gzip: Bool, style: Int = 0) {
        for (stem, n) in [("train", train), ("t10k", test)] {
            let pixels = (0..<n).flatMap { i in (0..<rows * cols).map { pattern(i, $0) } }
            let labels = (0..<n).map { UInt8($0 % 10) }
            let sep = style == 0 ? "-" : "."
            let files = [("\(stem)-images\(sep)idx3-ubyte", idxImages(count: n, rows: rows, cols: cols, pixels: pixels)),
                         ("\(stem)-labels\(sep)idx1-ubyte", idxLabels(labels))]
            for (name, bytes) in files {
                if gzip { writeGzip(bytes, dir + "/" + name + ".gz") } else { write(bytes, dir + "/" + name) }
            }
        }
    }

    // MARK: CIFAR

    /// One CIFAR record: label bytes then 3072 pixels, pixel k of image `seed` = pattern.
    static func cifarRecord(labels: [UInt8], seed: Int) -> [UInt8] {
        labels + (0..<3072).map { pattern(seed, $0) }
    }
}
