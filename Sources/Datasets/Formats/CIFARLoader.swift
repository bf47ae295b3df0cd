/// Loads CIFAR-10 and CIFAR-100 in their binary versions (Krizhevsky 2009).
///
/// A batch file is a sequence of fixed-size records, nothing else:
/// ```
/// CIFAR-10   [label u8 0…9] [3072 pixel bytes]                    3073 bytes
/// CIFAR-100  [coarse u8 0…19] [fine u8 0…99] [3072 pixel bytes]   3074 bytes
/// ```
/// The 3072 pixel bytes are channel-planar: 1024 red, 1024 green, 1024 blue, each
/// 32×32 row-major — already the [3, 32, 32] layout of a sample.
///
/// CIFAR-10: `data_batch_1.bin` … `data_batch_5.bin` (train), `test_batch.bin`,
/// class names in `batches.meta.txt`. CIFAR-100: `train.bin`, `test.bin`, names in
/// `fine_label_names.txt` / `coarse_label_names.txt`. Files are looked for in the
/// given directory and in the folder the archive unpacks to (`cifar-10-batches-bin`,
/// `cifar-100-binary`); meta files are optional (default names are used).
public enum CIFARLoader {
    public static let cifar10ClassNames = ["airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"]
    static let imageBytes = 3072
    static let shape = [3, 32, 32]

    public static func loadCIFAR10(path: String, check: LoadCheck = .none) throws -> Dataset {
        let dir = try FileLocator.directory(path)
        let sub = ["cifar-10-batches-bin"]
        let trainFiles = try (1...5).map { try FileLocator.find(["data_batch_\($0).bin"], in: dir, subfolders: sub) }
        let testFile = try FileLocator.find(["test_batch.bin"], in: dir, subfolders: sub)
        var files = trainFiles + [testFile]
        var names = cifar10ClassNames
        if let meta = FileLocator.optional(["batches.meta.txt"], in: dir, subfolders: sub) {
            names = try classNames(meta, count: 10)
            files.append(meta)
        }
        try checkSizes(trainFiles + [testFile], labelBytes: 1, check: check)
        let train = try readBatches(trainFiles, labelBytes: 1, labelByte: 0, classes: [10], check: check)
        let test = try readBatches([testFile], labelBytes: 1, labelByte: 0, classes: [10], check: check)
        return Dataset(name: "cifar10", train: train, test: test, classNames: names, sampleShape: shape,
                       files: files, fingerprint: try FNV1a64.ofFiles(files, check: check))
    }

    /// CIFAR-100 with the 100 fine labels, or the 20 coarse (superclass) labels when
    /// `coarse` is true.
    public static func loadCIFAR100(path: String, coarse: Bool = false, check: LoadCheck = .none) throws -> Dataset {
        let dir = try FileLocator.directory(path)
        let sub = ["cifar-100-binary"]
        let trainFile = try FileLocator.find(["train.bin"], in: dir, subfolders: sub)
        let testFile = try FileLocator.find(["test.bin"], in: dir, subfolders: sub)
        var files = [trainFile, testFile]
        let classes = coarse ? 20 : 100
        var names = (0..<classes).map(String.init)
        if let meta = FileLocator.optional([coarse ? "coarse_label_names.txt" : "fine_label_names.txt"], in: dir, subfolders: sub) {
            names = try classNames(meta, count: classes)
            files.append(meta)
        }
        let which = coarse ? 0 : 1
        try checkSizes([trainFile, testFile], labelBytes: 2, check: check)
        let train = try readBatches([trainFile], labelBytes: 2, labelByte: which, classes: [20, 100], check: check)
        let test = try readBatches([testFile], labelBytes: 2, labelByte: which, classes: [20, 100], check: check)
        return Dataset(name: "cifar100", train: train, test: test, classNames: names, sampleShape: shape,
                       files: files, fingerprint: try FNV1a64.ofFiles(files, check: check))
    }

    /// Checks every uncompressed batch file's length before any is read: a file that
    /// is not a whole number of records fails at once, not after gigabytes of reading.
    /// (A gzipped batch is checked as it is read; its memory grows only with its data.)
    static func checkSizes(_ paths: [String], labelBytes: Int, check: LoadCheck) throws {
        for path in paths {
            let r = try GzipReader(path: path, check: check)
            if !r.isCompressed { try checkRecords(path, size: r.fileSize, labelBytes: labelBytes) }
        }
    }

    static func checkRecords(_ path: String, size: Int, labelBytes: Int) throws {
        let record = labelBytes + imageBytes
        let n = size / record
        if size % record != 0 || n == 0 {
            let what = labelBytes == 1 ? "1 label byte" : "\(labelBytes) label bytes"
            throw DatasetError(file: path, location: .byte(n * record),
                               expected: "a whole number (at least 1) of \(record)-byte records (\(what) + \(imageBytes) pixel bytes)",
                               found: "\(size) bytes: \(n) records and \(size % record) bytes left over")
        }
    }

    /// Reads the records of `paths` into one split. `classes[k]` bounds label byte k
    /// (all label bytes are checked); `labelByte` is the one kept. `check` is called
    /// per chunk read and per record.
    static func readBatches(_ paths: [String], labelBytes: Int, labelByte: Int, classes: [Int], check: LoadCheck) throws -> Split {
        let record = labelBytes + imageBytes
        var pixels: [UInt8] = []
        var labels: [Int32] = []
        for path in paths {
            let bytes = try GzipReader(path: path, check: check).readToEnd(what: "CIFAR records")
            try checkRecords(path, size: bytes.count, labelBytes: labelBytes)
            let n = bytes.count / record
            pixels.reserveCapacity(pixels.count + n * imageBytes)
            labels.reserveCapacity(labels.count + n)
            try bytes.withUnsafeBufferPointer { p in
                for i in 0..<n {
                    try check()
                    let base = i * record
                    for k in 0..<labelBytes where Int(p[base + k]) >= classes[k] {
                        throw DatasetError(file: path, location: .byte(base + k),
                                           expected: "a label 0…\(classes[k] - 1) (record \(i))", found: "\(p[base + k])")
                    }
                    labels.append(Int32(p[base + labelByte]))
                    pixels.append(contentsOf: UnsafeBufferPointer(rebasing: p[(base + labelBytes)..<(base + record)]))
                }
            }
        }
        return Split(storage: .uint8(pixels), labels: labels, sampleShape: shape)
    }

    /// Exactly `count` non-empty lines of class names.
    static func classNames(_ path: String, count: Int) throws -> [String] {
        let names = try FileLocator.lines(path)
        guard names.count == count else {
            throw DatasetError(file: path, expected: "\(count) class names, one per line", found: "\(names.count)")
        }
        return names
    }
}
