/// Sample storage of a split: `count × sampleSize` values, sample-major.
///
/// Images stay as the bytes of the file (`uint8`, 0…255) and are converted to Float
/// one batch at a time by `fillBatch`; Fashion-MNIST's training images take 47 MB
/// this way instead of 188 MB as Float. Tabular data (CSV) is stored as `float`.
public enum PixelStorage: Sendable, Equatable {
    case uint8([UInt8])
    case float([Float])

    /// Number of stored values (samples × sample size).
    public var valueCount: Int {
        switch self {
        case .uint8(let a): return a.count
        case .float(let a): return a.count
        }
    }

    /// Short name of the element type, for summaries.
    public var typeName: String {
        switch self {
        case .uint8: return "uint8"
        case .float: return "float32"
        }
    }

    /// The value at flat index `i`, as Float (pixels unscaled: 0…255).
    public func value(at i: Int) -> Float {
        switch self {
        case .uint8(let a): return Float(a[i])
        case .float(let a): return a[i]
        }
    }
}
