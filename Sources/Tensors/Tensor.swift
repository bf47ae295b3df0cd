/// A dense Float tensor, contiguous, row-major; images are NCHW.
///
/// Storage is a Swift array (copy-on-write). Layers keep their own output and
/// scratch tensors and overwrite them in place every step, so the training loop
/// allocates nothing after the first batch.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var data: [Float]

    /// Wraps `data` with `shape`; the element counts must agree.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor: shape \(shape) holds \(shape.reduce(1, *)) elements, data has \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Resizes in place to `shape`, reusing the storage when it is large enough.
    /// Contents are unspecified afterwards (callers overwrite them).
    public mutating func reshapeForOverwrite(_ newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if data.count != n { data = [Float](repeating: 0, count: n) }
        shape = newShape
    }

    /// Same data, another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    public subscript(_ index: Int...) -> Float {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    @inline(__always)
    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor: index \(index) for shape \(shape)")
        var flat = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "Tensor: index \(index) out of range for shape \(shape)")
            flat = flat * n + i
        }
        return flat
    }

    public mutating func fill(_ value: Float) {
        data.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = value }
        }
    }

    /// Sum of squares, in Double.
    public var squaredNorm: Double {
        data.reduce(0) { $0 + Double($1) * Double($1) }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = data.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(head)\(data.count > 8 ? ", …" : "")])"
    }
}

import Foundation
