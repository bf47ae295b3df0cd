/// The identity weight quantizer (32-bit float): q = w, dw += dq.
public final class FloatWeights: WeightQuantizer {
    public init() {}
    public var precision: Precision { .float }
    public func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int, training: Bool) {
        q.update(from: w, count: count)
    }
    public func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        Kernels.addInto(dw, dq, count: count)
    }
}
