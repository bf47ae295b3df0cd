import Testing
import Tensors
import Quantization
import Random
@testable import Networks

/// Checks a ≈ b elementwise: same count, |a − b| ≤ atol + rtol·|b| (numpy's
/// `isclose`), NaN matching only NaN. On failure prints the first mismatch, the
/// largest difference and both arrays.
func assertClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-6, _ what: String = "",
                 sourceLocation: SourceLocation = #_sourceLocation) {
    let label = what.isEmpty ? "" : "\(what): "
    guard a.count == b.count else {
        Issue.record("\(label)counts differ: \(a.count) vs \(b.count)\n  a = \(preview(a))\n  b = \(preview(b))",
                     sourceLocation: sourceLocation)
        return
    }
    var first: Int?, worst = 0, worstDiff: Float = 0
    for i in a.indices {
        let x = a[i], y = b[i]
        let ok: Bool
        if x.isNaN || y.isNaN { ok = x.isNaN && y.isNaN } else { ok = abs(x - y) <= atol + rtol * abs(y) }
        if !ok {
            if first == nil { first = i }
            let d = x.isNaN || y.isNaN ? Float.infinity : abs(x - y)
            if d > worstDiff { worstDiff = d; worst = i }
        }
    }
    if let first {
        Issue.record("""
            \(label)not close (rtol \(rtol), atol \(atol)): first at [\(first)] \(a[first]) vs \(b[first]), \
            largest at [\(worst)] \(a[worst]) vs \(b[worst])
              a = \(preview(a))
              b = \(preview(b))
            """, sourceLocation: sourceLocation)
    }
}

private func preview(_ v: [Float]) -> String {
    let head = v.prefix(48).map { "\($0)" }.joined(separator: ", ")
    return "[\(head)\(v.count > 48 ? ", … (\(v.count) values)" : "")]"
}

/// A tensor of N(0, scale²) values from a seeded generator.
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = SplitMix64(seed: seed)
    var t = Tensor(zeros: shape)
    for i in 0..<t.count { t.data[i] = rng.nextNormal() * scale }
    return t
}

/// Two networks built alike (`spec` on `inputShape`, every layer at `precision`, seeded
/// initial weights): for tests that turn a fused path off in one and compare bits.
func twinNetworks(_ spec: String, inputShape: [Int], precision: String, seed: UInt64) throws -> (Sequential, Sequential) {
    let parsed = try ModelSpec(parsing: spec)
    func build() throws -> Sequential {
        var rng = SplitMix64(seed: seed)
        return try Sequential(spec: parsed, inputShape: inputShape, precision: { _ in LayerPrecision(precision)! }, rng: &rng)
    }
    return (try build(), try build())
}

/// Runs each model forward on `x`; with a logit gradient, also backward from it (gradients
/// zeroed first) and, with a learning rate, a plain SGD step on every parameter.
func runStep(_ models: [Sequential], input x: Tensor, training: Bool, logitGradient r: Tensor? = nil,
             learningRate: Float? = nil) {
    for m in models {
        m.withInput { $0 = x }
        m.forward(training: training)
        guard let r else { continue }
        m.zeroGrad()
        m.withLogitGradient { $0 = r }
        m.backward()
        guard let learningRate else { continue }
        for p in m.parameters { for i in p.value.data.indices { p.value.data[i] -= learningRate * p.grad.data[i] } }
    }
}

/// A tensor of distinct values spaced `gap` apart (a shuffled ramp), centred on 0:
/// inputs for max pooling and ReLU whose maxima and signs a finite-difference step
/// smaller than gap/2 cannot flip.
func distinctTensor(_ shape: [Int], seed: UInt64, gap: Float = 0.1) -> Tensor {
    let n = shape.reduce(1, *)
    var rng = SplitMix64(seed: seed)
    let order = rng.permutation(n)
    return Tensor(shape: shape, data: order.map { (Float($0) - Float(n) / 2 + 0.5) * gap })
}

/// ∂loss/∂p by central differences in Double, each value of `p` moved by ±h (the
/// divisor is the step actually taken in Float); `p` is left as it was.
func centralDifferences(_ p: Parameter, _ loss: () -> Double, h: Float) -> [Double] {
    var numeric = [Double](repeating: 0, count: p.value.count)
    for i in 0..<p.value.count {
        let v = p.value.data[i]
        p.value.data[i] = v + h; let plus = p.value.data[i]; let lp = loss()
        p.value.data[i] = v - h; let minus = p.value.data[i]; let lm = loss()
        p.value.data[i] = v
        numeric[i] = (lp - lm) / (Double(plus) - Double(minus))
    }
    return numeric
}

/// y = layer(x) into a fresh tensor.
func run(_ layer: Layer, _ x: Tensor, training: Bool = true) -> Tensor {
    var y = Tensor(zeros: [0])
    layer.forward(x, into: &y, training: training)
    return y
}

/// dx for upstream gradient dy, after a forward on x (parameter gradients zeroed first).
func inputGradient(_ layer: Layer, _ x: Tensor, _ dy: Tensor, training: Bool = true) -> Tensor {
    (layer as? ParameterizedLayer)?.zeroGrad()
    let y = run(layer, x, training: training)
    var dx = Tensor(zeros: [0])
    layer.backward(input: x, output: y, gradient: dy, into: &dx, needsInputGradient: true)
    return dx
}

/// The message of a `ModelError` thrown by `outputShape(for:)`, or nil.
func shapeError(_ layer: Layer, _ input: [Int]) -> String? {
    do { _ = try layer.outputShape(for: input); return nil } catch let e as ModelError { return e.message } catch { return "\(error)" }
}
