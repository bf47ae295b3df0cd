import Tensors

/// Builds one layer from its spec for a given per-sample input shape.
enum LayerFactory {
    /// Most weights one layer may have (2^28 floats = 1 GiB): a typo like `dense 4000000000`
    /// is an error, not an allocation that ends the process.
    static let maxWeights = 1 << 28

    static func checkWeights(_ dims: [Int], _ name: String, _ s: LayerSpec) throws {
        var n = 1
        for d in dims {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o, p <= maxWeights else {
                throw ModelError("\(name) (\(s.text)): \(dims.map(String.init).joined(separator: "×")) weights, more than \(maxWeights)")
            }
            n = p
        }
    }

    static func make(_ s: LayerSpec, name: String, inputShape: [Int], rng: inout SplitMix64) throws -> Layer {
        switch s {
        case let .conv(f, k, st, p, b):
            guard inputShape.count == 3 else {
                throw ModelError("\(name) (\(s.text)): expects an image input C×H×W, got \(shapeText(inputShape))")
            }
            try checkWeights([f, inputShape[0], k, k], name, s)
            return Conv2D(name: name, inputChannels: inputShape[0], filters: f, kernel: k, stride: st, padding: p,
                          useBias: b, rng: &rng)
        case let .dense(n, b):
            try checkWeights([n, inputShape.reduce(1, *)], name, s)
            return Dense(name: name, inputFeatures: inputShape.reduce(1, *), outputFeatures: n, useBias: b, rng: &rng)
        case .batchNorm:
            guard !inputShape.isEmpty else { throw ModelError("\(name) (bn): expects an input with channels, got a scalar") }
            return BatchNorm(name: name, features: inputShape[0])
        case .relu: return ReLU(name: name)
        case .hardTanh: return HardTanh(name: name)
        case let .maxPool(w, st): return MaxPool(name: name, window: w, stride: st)
        case let .avgPool(w, st): return AvgPool(name: name, window: w, stride: st)
        case .flatten: return Flatten(name: name)
        case let .dropout(r): return Dropout(name: name, rate: Float(r), seed: rng.next())
        case .globalAvgPool: return GlobalAvgPool(name: name)
        case let .channelPad(f, st): return ChannelPad(name: name, channels: f, stride: st)
        case .residual: preconditionFailure("LayerFactory.make: residual blocks are built by ModelBuilder")
        }
    }
}
