import Testing
import Tensors
@testable import Networks

/// Finite-difference check of a layer's backward pass.
///
/// The scalar loss is L(x, θ) = Σ_i y_i · r_i with y = layer(x) and r a fixed random
/// tensor, so ∂L/∂y = r is what backward receives. Each input and parameter entry
/// is compared with the central difference (L(v + h) − L(v − h)) / (v⁺ − v⁻), where
/// v± are the perturbed values as actually stored in Float and L is summed in Double.
///
/// Why these numbers: the forward pass is Float, so L carries rounding noise of
/// about ε·Σ|y·r| ≈ 6e-8 · (a few hundred) ≈ 1e-5; dividing by 2h = 2e-2 keeps that
/// near 1e-3 absolute even in the worst case, while the truncation error of the
/// central difference is O(h²) ≈ 1e-4 for these smooth, O(1) layers (h = 1e-3
/// would let the rounding noise grow tenfold). The error is measured per tensor,
///   err = max_i |a_i − n_i| / max(max_i |a_i| + max_i |n_i|, 1e-3),
/// not per element, because entries near zero carry large relative noise that says
/// nothing about the formula. Measured over every check in this target, correct
/// layers give err ≤ 1.6e-5 (the worst: avgpool input), so the tolerance 1e-3 leaves
/// a 60× margin, yet it fails a gradient that is off by 0.2 % overall or drops
/// BatchNorm's small x̂·Σdy·x̂/M term (err ≈ 0.017–0.17; mutation-tested).
/// Inputs must keep kinks (ReLU at 0, ties in max pooling) farther than h away.
struct GradientCheck {
    var h: Float = 1e-2
    var tolerance: Double = 1e-3

    /// Checks dx (unless `checkInput` is false) and every parameter's gradient.
    /// `prepare` runs before each forward (e.g. to reseed dropout's generator).
    func check(_ layer: Layer, input x: Tensor, training: Bool = true, checkInput: Bool = true,
               seed: UInt64 = 99, prepare: () -> Void = {},
               sourceLocation: SourceLocation = #_sourceLocation) {
        let params = (layer as? ParameterizedLayer)?.parameters ?? []
        prepare()
        let y = run(layer, x, training: training)
        let r = randomTensor(y.shape, seed: seed)
        for p in params { p.zeroGrad() }
        var dx = Tensor(zeros: [0])
        layer.backward(input: x, output: y, gradient: r, into: &dx, needsInputGradient: checkInput)

        func loss(_ input: Tensor) -> Double {
            prepare()
            let out = run(layer, input, training: training)
            var s = 0.0
            for i in 0..<out.count { s += Double(out.data[i]) * Double(r.data[i]) }
            return s
        }
        if checkInput {
            var numeric = [Double](repeating: 0, count: x.count)
            var xv = x
            for i in 0..<x.count {
                xv.data[i] = x.data[i] + h; let plus = xv.data[i]; let lp = loss(xv)
                xv.data[i] = x.data[i] - h; let minus = xv.data[i]; let lm = loss(xv)
                xv.data[i] = x.data[i]
                numeric[i] = (lp - lm) / (Double(plus) - Double(minus))
            }
            report("\(layer.name) input", analytic: dx.data, numeric: numeric, sourceLocation)
        }
        for p in params {
            let analytic = p.grad.data
            var numeric = [Double](repeating: 0, count: p.value.count)
            for i in 0..<p.value.count {
                let v = p.value.data[i]
                p.value.data[i] = v + h; let plus = p.value.data[i]; let lp = loss(x)
                p.value.data[i] = v - h; let minus = p.value.data[i]; let lm = loss(x)
                p.value.data[i] = v
                numeric[i] = (lp - lm) / (Double(plus) - Double(minus))
            }
            report(p.name, analytic: analytic, numeric: numeric, sourceLocation)
        }
    }

    /// Relative error as defined above.
    static func error(_ a: [Float], _ n: [Double]) -> Double {
        var diff = 0.0, maxA = 0.0, maxN = 0.0
        for i in a.indices {
            diff = max(diff, abs(Double(a[i]) - n[i]))
            maxA = max(maxA, abs(Double(a[i])))
            maxN = max(maxN, abs(n[i]))
        }
        return diff / max(maxA + maxN, 1e-3)
    }

    private func report(_ what: String, analytic: [Float], numeric: [Double], _ loc: SourceLocation) {
        guard analytic.count == numeric.count else {
            Issue.record("\(what): analytic gradient has \(analytic.count) values, numeric \(numeric.count)", sourceLocation: loc)
            return
        }
        let err = Self.error(analytic, numeric)
        if !(err < tolerance) {
            let a = analytic.prefix(24).map { String(format: "%.5f", Double($0)) }.joined(separator: " ")
            let n = numeric.prefix(24).map { String(format: "%.5f", $0) }.joined(separator: " ")
            Issue.record("\(what): gradient relative error \(err) ≥ \(tolerance)\n  analytic: \(a)\n  numeric:  \(n)",
                         sourceLocation: loc)
        }
    }
}

import Foundation
