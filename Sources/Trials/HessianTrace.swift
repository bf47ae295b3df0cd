import Tensors
import Networks
import Datasets

/// Hutchinson estimate of the trace of the loss Hessian of each weighted layer's
/// weights (HAWQ-V2, Dong et al. 2020, use it to rank layer sensitivity):
///
///     tr(H_l) = E_v[v_lᵀ H_ll v_l] ≈ (1/m) Σ_k v_kᵀ (g(w + εv_k) − g(w − εv_k)) / 2ε,
///
/// v Rademacher (±1) over every layer's weights at once, restricted to layer l's
/// block (cross-layer terms have mean zero); g the gradient of the mean
/// cross-entropy on the first `count` samples of `split` (one batch, training-mode
/// forward). Hessian-vector products by central differences of gradients, so no
/// second-order backward is needed: 2 gradients per probe.
///
/// The model's weights are restored bit for bit afterwards; a training-mode forward
/// moves batch-norm statistics and activation clips, so call it when the model is
/// no longer trained or evaluated for results. Deterministic from `seed`.
public func hessianTraces(model: Sequential, split: Split, normalization: Normalization, count: Int = 256,
                          probes: Int = 8, epsilon: Float = 1e-3, seed: UInt64) -> [Double] {
    precondition(probes >= 1 && epsilon > 0 && count >= 1, "hessianTraces: probes ≥ 1, epsilon > 0, count ≥ 1")
    let layers = model.weightedLayers
    let n = min(count, split.count)
    guard n > 0 else { return layers.map { _ in .nan } }
    var labels: [Int32] = []
    var fillRNG = SplitMix64(seed: 0)
    let indices = Array(0..<n)
    let original = layers.map { $0.weight.value.data }
    func gradients() -> [[Float]] {
        model.withInput { x in
            fillBatch(split, indices: indices[...], normalization: normalization, augmentation: nil,
                      rng: &fillRNG, x: &x, labels: &labels)
        }
        model.zeroGrad()
        let logits = model.forward(training: true)
        _ = model.withLogitGradient { g in SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels, gradient: &g) }
        model.backward()
        return layers.map { $0.weight.grad.data }
    }
    var rng = SplitMix64(seed: seed)
    var sums = [Double](repeating: 0, count: layers.count)
    for _ in 0..<probes {
        let v = original.map { w in w.map { _ in rng.next() & 1 == 0 ? Float(1) : Float(-1) } }
        for (l, layer) in layers.enumerated() { layer.weight.value.data = zip(original[l], v[l]).map { $0 + epsilon * $1 } }
        let plus = gradients()
        for (l, layer) in layers.enumerated() { layer.weight.value.data = zip(original[l], v[l]).map { $0 - epsilon * $1 } }
        let minus = gradients()
        for l in layers.indices {
            var s = 0.0
            for i in v[l].indices { s += Double(v[l][i]) * Double(plus[l][i] - minus[l][i]) }
            sums[l] += s / (2 * Double(epsilon))
        }
    }
    for (l, layer) in layers.enumerated() { layer.weight.value.data = original[l] }
    model.zeroGrad()
    return sums.map { $0 / Double(probes) }
}
