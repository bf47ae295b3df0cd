import Testing
import Tensors
@testable import Quantization

/// Elementwise |a − b| ≤ atol + rtol·|b|, same counts; NaN only equals NaN. Prints both on failure.
func assertClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-6, atol: Float = 0,
                 _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    guard a.count == b.count else {
        Issue.record("counts differ: \(a.count) vs \(b.count)\n a = \(a)\n b = \(b)", sourceLocation: sourceLocation)
        return
    }
    for i in a.indices {
        let x = a[i], y = b[i]
        if x.isNaN || y.isNaN {
            if x.isNaN != y.isNaN {
                Issue.record("\(comment.map { "\($0): " } ?? "")NaN mismatch at \(i)\n a = \(a)\n b = \(b)", sourceLocation: sourceLocation)
                return
            }
            continue
        }
        if abs(x - y) > atol + rtol * abs(y) {
            Issue.record("\(comment.map { "\($0): " } ?? "")differ at \(i): \(x) vs \(y)\n a = \(a)\n b = \(b)", sourceLocation: sourceLocation)
            return
        }
    }
}

/// Scalar close check.
func assertClose(_ a: Double, _ b: Double, rtol: Double = 1e-9, atol: Double = 0,
                 _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(abs(a - b) <= atol + rtol * abs(b), "\(comment.map { "\($0): " } ?? "")\(a) vs \(b)", sourceLocation: sourceLocation)
}

/// Deterministic normal weights.
func randomWeights(_ count: Int, seed: UInt64, std: Float = 0.1) -> [Float] {
    var g = SplitMix64(seed: seed)
    return (0..<count).map { _ in g.nextNormal() * std }
}

/// Evenly spaced values lo…hi inclusive.
func linspace(_ lo: Float, _ hi: Float, _ count: Int) -> [Float] {
    (0..<count).map { lo + (hi - lo) * Float($0) / Float(count - 1) }
}

/// Number of distinct values.
func distinctCount(_ v: [Float]) -> Int { Set(v.map { $0 == 0 ? 0 : $0 }).count }

/// STE backward of a weight quantizer over arrays: returns dw0 + mask·dq.
func weightBackward(_ q: WeightQuantizer, w: [Float], dq: [Float], dw0: [Float], channels: Int = 1) -> [Float] {
    var dw = dw0
    w.withUnsafeBufferPointer { wp in
        dq.withUnsafeBufferPointer { qp in
            dw.withUnsafeMutableBufferPointer { dp in
                q.backward(wp.baseAddress!, gradient: qp.baseAddress!, addInto: dp.baseAddress!, count: w.count, channels: channels)
            }
        }
    }
    return dw
}

/// The definition of k-bit weight quantization, written naively: division, libm rounding.
func referenceUniform(_ w: [Float], bits: Int, scale s: Float) -> [Float] {
    let n = Float((1 << (bits - 1)) - 1)
    guard s != 0 else { return w.map { _ in 0 } }
    return w.map { s * min(n, max(-n, ($0 / s).rounded(.toNearestOrEven))) }
}
