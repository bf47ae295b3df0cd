/// A loaded dataset: its splits, class names and where it came from.
///
/// `fingerprint` is the FNV-1a 64-bit hash of the raw bytes of `files`, in order, as
/// 16 hex digits: it changes when any file changes and is recorded in session headers,
/// so a replayed session can tell it runs on the same data.
public struct Dataset: Sendable, Equatable {
    /// Built-in name, e.g. "fashion-mnist".
    public var name: String
    public var train: Split
    /// Held out from the original training data by `holdOutValidation`; nil until then.
    public var validation: Split?
    public var test: Split
    public var classNames: [String]
    /// [C, H, W] for images, [F] for tabular data.
    public var sampleShape: [Int]
    /// Absolute or given paths of every file read, in the order hashed.
    public var files: [String]
    public var fingerprint: String

    public init(name: String, train: Split, validation: Split? = nil, test: Split, classNames: [String],
                sampleShape: [Int], files: [String], fingerprint: String) {
        self.name = name
        self.train = train
        self.validation = validation
        self.test = test
        self.classNames = classNames
        self.sampleShape = sampleShape
        self.files = files
        self.fingerprint = fingerprint
    }

    public var classCount: Int { classNames.count }

    /// Moves a stratified, seeded `count` samples from the training split into
    /// `validation` (see `stratifiedSplit`). A previous validation split is first
    /// appended back to `train`; to reproduce a split exactly, start from the dataset
    /// as loaded.
    public mutating func holdOutValidation(count: Int, seed: UInt64) {
        if let v = validation {
            train = concatenate(train, v)
            validation = nil
        }
        let (t, h) = stratifiedSplit(train, holdOut: count, classes: classCount, seed: seed)
        train = t
        validation = h
    }
}

/// `a` followed by `b`; both must have the same sample shape and storage kind.
public func concatenate(_ a: Split, _ b: Split) -> Split {
    precondition(a.sampleShape == b.sampleShape, "concatenate: sample shapes \(a.sampleShape) and \(b.sampleShape) differ")
    switch (a.storage, b.storage) {
    case (.uint8(let x), .uint8(let y)):
        return Split(storage: .uint8(x + y), labels: a.labels + b.labels, sampleShape: a.sampleShape)
    case (.float(let x), .float(let y)):
        return Split(storage: .float(x + y), labels: a.labels + b.labels, sampleShape: a.sampleShape)
    default:
        preconditionFailure("concatenate: storage kinds differ")
    }
}
