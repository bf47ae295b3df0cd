/// Loads a dataset by its built-in name.
///
/// | name            | path                          | files                                   |
/// |-----------------|-------------------------------|-----------------------------------------|
/// | `fashion-mnist` | default /usr/share/datasets/fashion-mnist | IDX (`IDXLoader`), gzipped or not |
/// | `mnist`         | required                      | IDX                                     |
/// | `cifar10`       | required                      | CIFAR-10 binary (`CIFARLoader`)         |
/// | `cifar100`      | required                      | CIFAR-100 binary; option labels=coarse  |
/// | `svhn`          | required                      | `train_32x32.mat`, `test_32x32.mat`     |
/// | `csv`           | required (file or directory)  | CSV (`CSVLoader`); option label=COLUMN  |
/// | `npy`           | required (.npz or directory)  | NumPy `.npz` / `.npy` (`NumPyLoader`)   |
///
/// Options: `labels` = `fine` (default) or `coarse` for cifar100; `label`, `test`,
/// `seed` for csv (see `CSVLoader`); array names and `layout` for npy (see `NumPyLoader`). Unknown options are an error, so a typo is not
/// silently ignored.
public enum DatasetLoader {
    public static let builtinNames = ["fashion-mnist", "mnist", "cifar10", "cifar100", "svhn", "csv", "npy"]
    /// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
    public static let fashionMNISTPath = "/usr/share/datasets/fashion-mnist"
    /// Where the system installs the dataset `name` (loaded when no path is given), or nil.
    public static func installedPath(of name: String) -> String? {
        canonicalName(name) == "fashion-mnist" ? fashionMNISTPath : nil
    }
    /// The dataset loaded when none is named.
    public static let defaultName = "fashion-mnist"

    static let aliases = ["fashion_mnist": "fashion-mnist", "fmnist": "fashion-mnist", "fashionmnist": "fashion-mnist",
                          "cifar-10": "cifar10", "cifar-100": "cifar100", "npz": "npy", "numpy": "npy"]
    static let knownOptions: [String: Set<String>] = ["cifar100": ["labels"], "csv": ["label", "test", "seed", "name"],
                                                      "npy": NumPyLoader.optionNames]

    /// The built-in name `name` stands for (case and aliases folded), or nil.
    public static func canonicalName(_ name: String) -> String? {
        let key = aliases[name.lowercased()] ?? name.lowercased()
        return builtinNames.contains(key) ? key : nil
    }

    /// Every name `load` accepts, built-in names first.
    public static var acceptedNames: [String] { builtinNames + aliases.keys.sorted() }

    /// Loads and checks the dataset: a training split with no samples is refused
    /// (naming the training file); an empty test split is allowed, and commands that
    /// need test data say so. `check` is called throughout the load; what it throws
    /// ends the load and comes out of here unchanged (see `LoadCheck`).
    public static func load(_ name: String, path: String? = nil, options: [String: String] = [:],
                            check: LoadCheck = .none) throws -> Dataset {
        let d = try loadUnchecked(name, path: path, options: options, check: check)
        if d.train.count == 0 {
            throw DatasetError(file: d.files.first ?? d.name, expected: "a training split of at least 1 sample",
                               found: "none (0 samples)")
        }
        return d
    }

    static func loadUnchecked(_ name: String, path: String?, options: [String: String], check: LoadCheck) throws -> Dataset {
        guard let key = canonicalName(name) else {
            throw DatasetError(file: name, expected: "a dataset name (\(builtinNames.joined(separator: ", ")))", found: "'\(name)'")
        }
        if let bad = options.keys.sorted().first(where: { !(knownOptions[key] ?? []).contains($0) }) {
            let allowed = knownOptions[key].map { $0.sorted().joined(separator: ", ") } ?? "none"
            throw DatasetError(file: key, expected: "an option \(key) takes (\(allowed))", found: "'\(bad)'")
        }
        if key == "fashion-mnist" {
            return try IDXLoader.load(name: key, path: path ?? fashionMNISTPath, classNames: IDXLoader.fashionMNISTClassNames, check: check)
        }
        guard let path else {
            throw DatasetError(file: key, expected: "a path to the \(key) files (only fashion-mnist is built in)", found: "no path")
        }
        switch key {
        case "mnist":
            return try IDXLoader.load(name: key, path: path, classNames: IDXLoader.mnistClassNames, check: check)
        case "cifar10":
            return try CIFARLoader.loadCIFAR10(path: path, check: check)
        case "cifar100":
            let labels = options["labels"] ?? "fine"
            guard labels == "fine" || labels == "coarse" else {
                throw DatasetError(file: path, expected: "labels=fine or labels=coarse", found: "labels=\(labels)")
            }
            return try CIFARLoader.loadCIFAR100(path: path, coarse: labels == "coarse", check: check)
        case "svhn":
            return try SVHNLoader.load(path: path, check: check)
        case "npy":
            return try NumPyLoader.load(path: path, options: options, check: check)
        default:
            return try CSVLoader.load(path: path, options: options, check: check)
        }
    }
}
