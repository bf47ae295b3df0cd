/// Per-channel normalisation statistics: x̂ = (x − mean[c]) / std[c].
///
/// x is the stored value scaled to [0, 1] for images (byte / 255) and the stored
/// value itself for tabular data. Channels are C of an image [C, H, W] sample and
/// the F features of a tabular [F] sample. Computed on the training split only, so
/// validation and test data never leak into training.
public struct Normalization: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count, "Normalization: \(mean.count) means, \(std.count) stds")
        self.mean = mean
        self.std = std
    }

    /// Mean 0, std 1 for `channels` channels: pixels only scaled to [0, 1].
    public static func identity(channels: Int) -> Normalization {
        Normalization(mean: [Float](repeating: 0, count: channels), std: [Float](repeating: 1, count: channels))
    }

    /// Population mean and standard deviation per channel over every sample of
    /// `split`. A channel with std below 1e-6 (constant) gets std 1.
    ///
    /// Byte images are counted into a 256-bin histogram per channel and the moments
    /// taken from it, exact in Double and one pass over the bytes.
    public static func compute(_ split: Split) -> Normalization {
        // `.none` never throws.
        (try? compute(split, check: .none)) ?? .identity(channels: channelLayout(split.sampleShape).0)
    }

    /// `compute(_:)`, calling `check` per `LoadCheck.chunk` bytes of samples (a
    /// 200 MB training split takes 0.4 s): `data load` stops here too after Ctrl-C.
    public static func compute(_ split: Split, check: LoadCheck) throws -> Normalization {
        let (channels, plane) = channelLayout(split.sampleShape)
        var mean = [Double](repeating: 0, count: channels)
        var meanSq = [Double](repeating: 0, count: channels)
        let n = split.count
        guard n > 0, channels > 0, plane > 0 else { return .identity(channels: channels) }
        switch split.storage {
        case .uint8(let bytes):
            var hist = [Int](repeating: 0, count: channels * 256)
            let size = channels * plane
            try bytes.withUnsafeBufferPointer { p in
                try hist.withUnsafeMutableBufferPointer { h in
                    try check.forEachChunk(of: n, itemBytes: size) { samples in
                        for s in samples {
                            for c in 0..<channels {
                                let src = p.baseAddress! + s * size + c * plane
                                let bins = h.baseAddress! + c * 256
                                for i in 0..<plane { bins[Int(src[i])] += 1 }
                            }
                        }
                    }
                }
            }
            for c in 0..<channels {
                for v in 0..<256 {
                    let x = Double(v) / 255, k = Double(hist[c * 256 + v])
                    mean[c] += k * x
                    meanSq[c] += k * x * x
                }
            }
        case .float(let values):
            let size = channels * plane
            try values.withUnsafeBufferPointer { p in
                try check.forEachChunk(of: n, itemBytes: 4 * size) { samples in
                    for s in samples {
                        for c in 0..<channels {
                            let src = p.baseAddress! + s * size + c * plane
                            for i in 0..<plane {
                                let x = Double(src[i])
                                mean[c] += x
                                meanSq[c] += x * x
                            }
                        }
                    }
                }
            }
        }
        let count = Double(n * plane)
        var m = [Float](repeating: 0, count: channels), sd = m
        for c in 0..<channels {
            let mu = mean[c] / count
            let variance = max(meanSq[c] / count - mu * mu, 0)
            m[c] = Float(mu)
            let s = variance.squareRoot()
            sd[c] = s < 1e-6 ? 1 : Float(s)
        }
        return Normalization(mean: m, std: sd)
    }

    /// (channels, values per channel) of a sample shape: [C, H, W] → (C, H·W);
    /// [F] → (F, 1); anything else → (1, size).
    static func channelLayout(_ shape: [Int]) -> (Int, Int) {
        switch shape.count {
        case 3: return (shape[0], shape[1] * shape[2])
        case 1: return (shape[0], 1)
        default: return (1, shape.reduce(1, *))
        }
    }
}
