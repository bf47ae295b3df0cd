/// Loads a tabular dataset from CSV: numeric feature columns and one label column.
///
/// `path` is either a directory holding `train.csv` and `test.csv`, or one CSV file,
/// from which a stratified, seeded test split is held out (default 20%). Labels that
/// are all non-negative integers below 10000 are class indices directly (names
/// "0"…"max"); otherwise the distinct values, sorted (numerically when all are
/// integers), are the class names and a label's class is its rank. Samples are
/// [F] float features, stored as given (normalisation is per feature).
public enum CSVLoader {
    /// Options: `label` (column name), `test` (held-out share for a single file:
    /// "20%" or a count), `seed` (for that hold-out, default 0).
    public static func load(path: String, options: [String: String] = [:]) throws -> Dataset {
        let dir = try FileLocator.directory(path)
        let isDir = FileLocator.isDirectory(path)
        let trainFile = isDir ? try FileLocator.find(["train.csv", "train.csv.gz"], in: dir) : path
        let testFile = isDir ? try FileLocator.find(["test.csv", "test.csv.gz"], in: dir) : nil
        let trainTable = try CSVTable(path: trainFile, label: options["label"])
        let testTable = try testFile.map { try CSVTable(path: $0, label: trainTable.labelColumn) }
        if let t = testTable, t.featureNames != trainTable.featureNames {
            throw DatasetError(file: t.path, location: .line(1), expected: "the feature columns of \(trainFile) (\(trainTable.featureNames.joined(separator: ", ")))",
                               found: t.featureNames.joined(separator: ", "))
        }
        let (names, classOf) = classes(trainTable.labels + (testTable?.labels ?? []))
        func split(_ t: CSVTable) -> Split {
            Split(storage: .float(t.features), labels: t.labels.map { classOf[$0] ?? 0 }, sampleShape: [t.featureNames.count])
        }
        var train = split(trainTable)
        var test: Split
        if let testTable {
            test = split(testTable)
        } else {
            let spec = options["test"] ?? "20%"
            guard let k = parseSampleCount(spec, of: train.count) else {
                throw DatasetError(file: trainFile, expected: "option test= as a count or a percentage (e.g. 20%)", found: "'\(spec)'")
            }
            let seed = options["seed"].flatMap { UInt64($0) } ?? 0
            (train, test) = stratifiedSplit(train, holdOut: k, classes: names.count, seed: seed)
        }
        let files = [trainFile] + (testFile.map { [$0] } ?? [])
        let name = options["name"] ?? "csv"
        return Dataset(name: name, train: train, test: test, classNames: names, sampleShape: train.sampleShape,
                       files: files, fingerprint: try FNV1a64.ofFiles(files))
    }

    /// Class names for the label strings and the class of each distinct label:
    /// the integer itself for small non-negative integers (names "0"…"max"), else the
    /// rank of the value among the distinct values sorted.
    static func classes(_ labels: [String]) -> (names: [String], classOf: [String: Int32]) {
        let distinct = Set(labels)
        let ints = distinct.map { ($0, Int($0)) }
        if ints.allSatisfy({ $0.1 != nil }) {
            let values = ints.compactMap(\.1)
            if let hi = values.max(), let lo = values.min(), lo >= 0, hi < 10_000 {
                let classOf = Dictionary(uniqueKeysWithValues: ints.map { ($0.0, Int32($0.1 ?? 0)) })
                return ((0...hi).map(String.init), classOf)
            }
            let sorted = Set(values).sorted()
            let rank = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, Int32($0)) })
            let classOf = Dictionary(uniqueKeysWithValues: ints.map { ($0.0, rank[$0.1 ?? 0] ?? 0) })
            return (sorted.map(String.init), classOf)
        }
        let sorted = distinct.sorted()
        return (sorted, Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, Int32($0)) }))
    }
}
