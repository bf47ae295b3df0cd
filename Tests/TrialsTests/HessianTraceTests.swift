import Foundation
import Testing
import Tensors
import Datasets
import Networks
@testable import Trials

@Suite(.serialized) struct HessianTraceTests {
    init() { BLAS.setThreads(1) }

    /// One dense layer z = Wx + b under mean softmax cross-entropy has the exact
    /// weight-Hessian trace (1/N) Σ_n ‖x_n‖² Σ_k p_nk (1 − p_nk): the Hutchinson
    /// estimate over many probes must come close, and the weights must be restored.
    @Test func matchesTheExactTraceOfALinearSoftmax() throws {
        let data = syntheticData(count: 48)
        let spec = try ModelSpec(parsing: "dense 3")
        var rng = SplitMix64(seed: 5)
        let model = try Sequential(spec: spec, inputShape: [1, 8, 8], rng: &rng)
        let before = model.weightedLayers[0].weight.value.data
        let estimate = hessianTraces(model: model, split: data.train, normalization: data.normalization,
                                     count: 48, probes: 400, seed: 1)[0]
        #expect(model.weightedLayers[0].weight.value.data == before)
        // Exact: the logits and inputs of the same batch, in Double.
        var labels: [Int32] = [], r = SplitMix64(seed: 0), x = Tensor(zeros: [1])
        fillBatch(data.train, indices: Array(0..<48)[...], normalization: data.normalization, augmentation: nil,
                  rng: &r, x: &x, labels: &labels)
        let w = model.weightedLayers[0].weight.value.data, b = model.weightedLayers[0].bias!.value.data
        var exact = 0.0
        for s in 0..<48 {
            let xs = (0..<64).map { Double(x.data[s * 64 + $0]) }
            let z = (0..<3).map { k in Double(b[k]) + (0..<64).reduce(0.0) { $0 + Double(w[k * 64 + $1]) * xs[$1] } }
            let m = z.max()!, e = z.map { exp($0 - m) }, total = e.reduce(0, +)
            let p = e.map { $0 / total }
            exact += xs.reduce(0) { $0 + $1 * $1 } * p.reduce(0) { $0 + $1 * (1 - $1) }
        }
        exact /= 48
        #expect(abs(estimate - exact) / exact < 0.1, "estimate \(estimate), exact \(exact)")
    }
}
