import Tensors

/// The identity activation quantizer (32-bit float): y = x, dx = dy.
public final class FloatActivations: ActivationQuantizer {
    public init() {}
    public var precision: Precision { .float }
    public var parameters: [Parameter] { [] }
    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, training: Bool) {
        if UnsafePointer(y) != x { y.update(from: x, count: count) }
    }
    public func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        if UnsafePointer(dx) != dy { dx.update(from: dy, count: count) }
    }
}
