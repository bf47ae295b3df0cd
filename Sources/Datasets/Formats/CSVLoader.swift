/// Loads a tabular dataset from CSV: numeric feature columns and one label column.
///
/// `path` is either a directory holding `train.csv` and `test.csv`, or one CSV file,
/// from which a stratified, seeded test split is held out (default 20%). Samples are
/// [F] float features, stored as given (normalisation is per feature).
///
/// Labels are either all integers or all names (the kind of the first row's label):
/// - integers are class indices 0…N−1 (or 1…N, class 0 then empty), N ≤ 10000, and
///   every class from 1 to the largest must occur in the training file, so a stray
///   `10000` is an error naming its line rather than 9990 empty classes;
/// - names are the classes, sorted; a test-file name the training file lacks is an error.
/// A number that is not an integer (`1.0`, `NaN`, `1e3`) or not decimal (`0x10`), an
/// empty label or one with control characters (a NUL byte) is refused, naming the file
/// and line: it would otherwise make an extra class and renumber the others.
public enum CSVLoader {
    /// Options: `label` (column name), `test` (held-out share for a single file:
    /// "20%" or a count), `seed` (for that hold-out, default 0). `check` is called
    /// throughout (see `LoadCheck`).
    public static func load(path: String, options: [String: String] = [:], check: LoadCheck = .none) throws -> Dataset {
        let dir = try FileLocator.directory(path)
        let isDir = FileLocator.isDirectory(path)
        let trainFile = isDir ? try FileLocator.find(["train.csv", "train.csv.gz"], in: dir) : path
        let testFile = isDir ? try FileLocator.find(["test.csv", "test.csv.gz"], in: dir) : nil
        let trainTable = try CSVTable(path: trainFile, label: options["label"], check: check)
        let testTable = try testFile.map { try CSVTable(path: $0, label: trainTable.labelColumn, check: check) }
        if let t = testTable, t.featureNames != trainTable.featureNames {
            throw columnMismatch(test: t, train: trainTable)
        }
        let (names, trainLabels, testLabels) = try classes(train: trainTable, test: testTable)
        func split(_ t: CSVTable, _ labels: [Int32]) -> Split {
            Split(storage: .float(t.features), labels: labels, sampleShape: [t.featureNames.count])
        }
        var train = split(trainTable, trainLabels)
        var test: Split
        if let testTable {
            test = split(testTable, testLabels)
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
                       files: files, fingerprint: try FNV1a64.ofFiles(files, check: check))
    }

    /// The test file's feature columns differ from the training file's: the first
    /// difference and a few names of each, not both whole lists (a wide file has
    /// thousands of columns, and the message must stay one readable line).
    static func columnMismatch(test t: CSVTable, train: CSVTable) -> DatasetError {
        func names(_ n: [String]) -> String {
            n.count <= 8 ? n.joined(separator: ", ") : n.prefix(6).joined(separator: ", ") + ", …, \(n.last!) (\(n.count) in all)"
        }
        let a = train.featureNames, b = t.featureNames
        let found: String
        if let k = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            found = "feature column \(k + 1) named '\(b[k])' where it has '\(a[k])' (\(b.count) feature columns: \(names(b)))"
        } else {
            found = "\(b.count) feature columns (\(names(b)))"
        }
        return DatasetError(file: t.path, location: .line(t.headerLine),
                            expected: "the \(a.count) feature columns of \(train.path) (\(names(a)))", found: found)
    }

    /// Largest number of classes integer labels may ask for.
    static let maxClasses = 10_000

    enum LabelKind { case integer, name }
    enum LabelCheck { case success(LabelKind), failure(String) }

    /// The kind of a label, or why it is not one.
    static func kind(_ label: String) -> LabelCheck {
        if label.isEmpty { return .failure("an empty label") }
        if label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return .failure("a label with a control character (\(label.unicodeScalars.first { $0.properties.generalCategory == .control }.map { "U+" + String($0.value, radix: 16, uppercase: true) } ?? ""))")
        }
        if Int(label) != nil { return .success(.integer) }
        if let d = Double(label) {
            if !d.isFinite || CSVTable.isDecimalNumber(label) { return .failure("'\(label)', a number that is not an integer") }
            return .failure("'\(label)', a number that is not decimal (class labels are decimal integers or names)")
        }
        return .success(.name)
    }

    /// The class names and the class of every row of `train` and `test` (see the rules above).
    static func classes(train: CSVTable, test: CSVTable?) throws -> (names: [String], train: [Int32], test: [Int32]) {
        let tables = [train] + (test.map { [$0] } ?? [])
        guard let first = tables.first(where: { $0.rows > 0 }) else { return ([], [], []) }
        let firstKind: LabelKind
        switch kind(first.labels[0]) {
        case .success(let k): firstKind = k
        case .failure(let why):
            throw DatasetError(file: first.path, location: .line(first.lines[0]), expected: "a class label (an integer or a name)", found: why)
        }
        let reference = "like '\(first.labels[0])' on line \(first.lines[0])"
        let expectedText = firstKind == .integer ? "an integer class label \(reference)" : "a class name \(reference)"
        for t in tables {
            for (i, label) in t.labels.enumerated() {
                switch kind(label) {
                case .success(let k) where k == firstKind: continue
                case .success: throw DatasetError(file: t.path, location: .line(t.lines[i]), expected: expectedText, found: "'\(label)'")
                case .failure(let why): throw DatasetError(file: t.path, location: .line(t.lines[i]), expected: expectedText, found: why)
                }
            }
        }
        if firstKind == .name {
            let names = Set(train.labels).sorted()
            let classOf = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
            var testLabels: [Int32] = []
            if let test {
                for (i, label) in test.labels.enumerated() {
                    guard let c = classOf[label] else {
                        throw DatasetError(file: test.path, location: .line(test.lines[i]),
                                           expected: "a class name of the training file \(train.path) (\(names.prefix(10).joined(separator: ", "))\(names.count > 10 ? ", …" : ""))",
                                           found: "'\(label)'")
                    }
                    testLabels.append(c)
                }
            }
            return (names, train.labels.map { classOf[$0]! }, testLabels)
        }
        // Integer labels: class indices.
        func values(_ t: CSVTable) throws -> [Int32] {
            try t.labels.enumerated().map { i, label in
                let v = Int(label)!
                guard v >= 0, v < maxClasses else {
                    throw DatasetError(file: t.path, location: .line(t.lines[i]),
                                       expected: "a class index 0…\(maxClasses - 1)", found: "'\(label)'")
                }
                return Int32(v)
            }
        }
        let trainValues = try values(train)
        let testValues = try test.map(values) ?? []
        guard let top = trainValues.max() else { return ([], [], testValues) }
        var seen = [Bool](repeating: false, count: Int(top) + 1)
        for v in trainValues { seen[Int(v)] = true }
        if top >= 1, let gap = (1...Int(top)).first(where: { !seen[$0] }) {
            let line = train.lines[trainValues.firstIndex(of: top)!]
            throw DatasetError(file: train.path, location: .line(line),
                               expected: "class indices 0…N−1 or 1…N with every class present (class \(gap) has no row)",
                               found: "label '\(top)', which would make \(top + 1) classes")
        }
        if let test, let i = testValues.firstIndex(where: { $0 > top }) {
            throw DatasetError(file: test.path, location: .line(test.lines[i]),
                               expected: "a class index 0…\(top) as in the training file \(train.path)", found: "'\(test.labels[i])'")
        }
        return ((0...top).map(String.init), trainValues, testValues)
    }
}
