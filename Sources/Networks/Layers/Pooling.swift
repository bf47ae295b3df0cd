import Tensors

// Dimension legend: N batch, C channels, H×W input, KH = KW = window,
// S stride, OH×OW output.
//
// OH = ⌊(H − window) / S⌋ + 1 (likewise OW): rows and columns that do not fill a
// whole window are dropped, as PyTorch's `MaxPool2d`/`AvgPool2d` do without
// `ceil_mode`.

/// The window of a pooling layer: size, stride, and the shape checks both pooling
/// layers share.
public struct PoolWindow: Equatable, Sendable {
    public var size: Int
    public var stride: Int

    public init(size: Int, stride: Int? = nil) {
        precondition(size >= 1, "PoolWindow: window must be ≥ 1, got \(size)")
        precondition((stride ?? size) >= 1, "PoolWindow: stride must be ≥ 1, got \(stride ?? size)")
        self.size = size
        self.stride = stride ?? size
    }

    /// `2`, or `3 s2` when the stride differs from the window.
    public var specSuffix: String { stride == size ? "\(size)" : "\(size) s\(stride)" }

    /// Output size along one axis of length `n`.
    @inline(__always)
    public func outSize(_ n: Int) -> Int { (n - size) / stride + 1 }

    /// [C, OH, OW] for a per-sample input [C, H, W]; throws naming `layer`.
    public func outputShape(for input: [Int], layer: String) throws -> [Int] {
        guard input.count == 3 else {
            throw ModelError("\(layer): expects an image input C×H×W, got \(shapeText(input))")
        }
        guard input[1] >= size, input[2] >= size else {
            throw ModelError("\(layer): window \(size) does not fit input \(shapeText(input))")
        }
        return [input[0], outSize(input[1]), outSize(input[2])]
    }
}
