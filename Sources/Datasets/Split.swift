/// One split of a dataset (train, validation, test or a sample of one): samples and
/// their class labels.
///
/// Layout: `storage` holds `count` samples of `sampleSize` values each, sample after
/// sample; an image sample is C×H×W (channel-planar, rows top to bottom), a tabular
/// sample is F features. `labels[i]` is the class index of sample `i`.
public struct Split: Sendable, Equatable {
    public var storage: PixelStorage
    public var labels: [Int32]
    /// [C, H, W] for images, [F] for tabular data.
    public var sampleShape: [Int]

    /// Wraps storage and labels; their sizes must agree (programmer error otherwise —
    /// loaders validate file contents before building a split).
    public init(storage: PixelStorage, labels: [Int32], sampleShape: [Int]) {
        let size = sampleShape.reduce(1, *)
        precondition(storage.valueCount == labels.count * size,
                     "Split: \(labels.count) samples of \(sampleShape) need \(labels.count * size) values, storage has \(storage.valueCount)")
        self.storage = storage
        self.labels = labels
        self.sampleShape = sampleShape
    }

    /// An empty split with the given sample shape and storage kind.
    public static func empty(sampleShape: [Int], float: Bool = false) -> Split {
        Split(storage: float ? .float([]) : .uint8([]), labels: [], sampleShape: sampleShape)
    }

    public var count: Int { labels.count }
    /// Values per sample (product of `sampleShape`).
    public var sampleSize: Int { sampleShape.reduce(1, *) }

    /// The samples at `indices`, in that order (indices may repeat).
    public func subset(_ indices: [Int]) -> Split {
        let size = sampleSize
        let newLabels = indices.map { labels[$0] }
        switch storage {
        case .uint8(let src):
            return Split(storage: .uint8(Split.gather(src, indices, size)), labels: newLabels, sampleShape: sampleShape)
        case .float(let src):
            return Split(storage: .float(Split.gather(src, indices, size)), labels: newLabels, sampleShape: sampleShape)
        }
    }

    /// Number of samples per class, for classes 0..<classes (labels outside are not counted).
    public func classHistogram(classes: Int) -> [Int] {
        var h = [Int](repeating: 0, count: max(classes, 0))
        for l in labels where l >= 0 && Int(l) < classes { h[Int(l)] += 1 }
        return h
    }

    /// Indices of the samples of each class, ascending, for classes 0..<classes.
    public func indicesByClass(classes: Int) -> [[Int]] {
        var byClass = [[Int]](repeating: [], count: max(classes, 0))
        for (i, l) in labels.enumerated() where l >= 0 && Int(l) < classes { byClass[Int(l)].append(i) }
        return byClass
    }

    private static func gather<T>(_ src: [T], _ indices: [Int], _ size: Int) -> [T] {
        let n = indices.count * size
        if n == 0 { return [] }
        return [T](unsafeUninitializedCapacity: n) { dst, initialized in
            src.withUnsafeBufferPointer { s in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i * size + size <= s.count, "Split.subset: index \(i) out of range")
                    (dst.baseAddress! + k * size).initialize(from: s.baseAddress! + i * size, count: size)
                }
            }
            initialized = n
        }
    }
}
