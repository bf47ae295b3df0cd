/// Integer codes and float scales of a quantized weight tensor: what export stores.
///
/// Q(w)[i] = scales[g] · Float(codes[i]), with g = 0 for one scale per tensor and
/// g = i / (count / scales.count) for one scale per output channel (rows).
public struct WeightCodes: Equatable, Sendable {
    /// Which codes a scheme can produce.
    public enum Scheme: Equatable, Sendable {
        /// k-bit narrow range: codes −n…n, n = 2^(k−1) − 1.
        case uniform(bits: Int)
        /// Codes −1, 0, +1.
        case ternary
        /// Codes −1, +1.
        case binary
    }

    public var scheme: Scheme
    public var codes: [Int32]
    public var scales: [Float]

    public init(scheme: Scheme, codes: [Int32], scales: [Float]) {
        precondition(!scales.isEmpty && codes.count % scales.count == 0,
                     "WeightCodes: \(codes.count) codes do not split into \(scales.count) scale groups")
        self.scheme = scheme
        self.codes = codes
        self.scales = scales
    }

    /// Bits a code needs: k, 2 (ternary), 1 (binary).
    public var bits: Int {
        switch scheme {
        case .uniform(let k): return k
        case .ternary: return 2
        case .binary: return 1
        }
    }

    /// Every code the scheme can produce, ascending.
    public var representableCodes: [Int32] {
        switch scheme {
        case .uniform(let k):
            let n = Int32((1 << (k - 1)) - 1)
            return Array(-n...n)
        case .ternary: return [-1, 0, 1]
        case .binary: return [-1, 1]
        }
    }

    /// Q(w) rebuilt from codes and scales: the exact floats `quantize` produced.
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: codes.count)
        guard !codes.isEmpty else { return out }
        let rowLength = codes.count / scales.count
        for g in 0..<scales.count {
            let s = scales[g]
            for i in g * rowLength..<(g + 1) * rowLength { out[i] = s * Float(codes[i]) }
        }
        return out
    }
}
