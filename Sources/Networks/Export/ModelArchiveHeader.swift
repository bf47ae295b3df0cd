import Quantization

/// The JSON header of a `.qlm` file: what is needed to rebuild the network before
/// its tensors are poured in.
public struct ModelArchiveHeader: Codable, Equatable, Sendable {
    /// One weighted layer: its name and precision (`w4a8`).
    public struct LayerEntry: Codable, Equatable, Sendable {
        public var name: String
        public var precision: String
        public init(name: String, precision: String) { self.name = name; self.precision = precision }
    }

    /// Always "quantlab model".
    public var format: String
    /// The model spec text (`conv 16 k3 | relu | … | dense 10`).
    public var spec: String
    /// Per-sample input shape (`[1, 28, 28]`).
    public var inputShape: [Int]
    /// Weighted layers in order.
    public var layers: [LayerEntry]
    public var options: QuantizerOptions
    public var classNames: [String]?

    public init(spec: String, inputShape: [Int], layers: [LayerEntry], options: QuantizerOptions, classNames: [String]? = nil) {
        format = "quantlab model"
        self.spec = spec; self.inputShape = inputShape; self.layers = layers
        self.options = options; self.classNames = classNames
    }

    /// Layer name → precision; nil when an entry does not parse.
    public func precisions() -> [String: LayerPrecision]? {
        var out: [String: LayerPrecision] = [:]
        for l in layers {
            guard let p = LayerPrecision(l.precision) else { return nil }
            out[l.name] = p
        }
        return out
    }
}
