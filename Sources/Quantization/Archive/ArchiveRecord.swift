/// One named tensor in a `.qlm` file: raw Float32 values, or packed weight codes.
public struct ArchiveRecord: Equatable, Sendable {
    public enum Payload: Equatable, Sendable {
        case float([Float])
        case packed(PackedTensor)
    }

    /// `conv1.weight`, `conv1.bias`, `bn1.running_mean`, `conv1.act.clip`, …
    public var name: String
    public var shape: [Int]
    public var payload: Payload

    public init(name: String, shape: [Int], payload: Payload) {
        self.name = name; self.shape = shape; self.payload = payload
    }

    public init(name: String, shape: [Int], values: [Float]) {
        self.init(name: name, shape: shape, payload: .float(values))
    }

    /// Element count from the payload.
    public var count: Int {
        switch payload {
        case .float(let v): return v.count
        case .packed(let p): return p.count
        }
    }

    /// The values: raw, or the dequantized codes (s · code), exactly what the
    /// quantizer produced.
    public func values() throws(PackingError) -> [Float] {
        switch payload {
        case .float(let v): return v
        case .packed(let p): return try p.codes().dequantized()
        }
    }

    /// Bytes this record's data takes in the file (not counting its name and shape).
    public var dataBytes: Int {
        switch payload {
        case .float(let v): return 4 * v.count
        case .packed(let p): return 4 * p.scales.count + p.bytes.count
        }
    }
}
