import Tensors

/// Builds one layer from its spec for a given per-sample input shape.
enum LayerFactory {
    static func make(_ s: LayerSpec, name: String, inputShape: [Int], rng: inout SplitMix64) throws -> Layer {
        switch s {
        case let .conv(f, k, st, p, b):
            guard inputShape.count == 3 else {
                throw ModelError("\(name) (\(s.text)): expects an image input C×H×W, got \(shapeText(inputShape))")
            }
            return Conv2D(name: name, inputChannels: inputShape[0], filters: f, kernel: k, stride: st, padding: p,
                          useBias: b, rng: &rng)
        case let .dense(n, b):
            return Dense(name: name, inputFeatures: inputShape.reduce(1, *), outputFeatures: n, useBias: b, rng: &rng)
        case .batchNorm:
            return BatchNorm(name: name, features: inputShape[0])
        case .relu: return ReLU(name: name)
        case .hardTanh: return HardTanh(name: name)
        case let .maxPool(w, st): return MaxPool(name: name, window: w, stride: st)
        case let .avgPool(w, st): return AvgPool(name: name, window: w, stride: st)
        case .flatten: return Flatten(name: name)
        case let .dropout(r): return Dropout(name: name, rate: Float(r), seed: rng.next())
        }
    }
}
