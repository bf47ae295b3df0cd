import Tensors
import Networks
import Quantization

/// CoNNTrA's update (after Date, Carothers, Mitchell, Hendler & Magdon-Ismail, "Training Deep
/// Neural Networks with Constrained Learning Parameters", 2020): ternary weights s·c, c ∈ {−1,
/// 0, +1}, changed by coordinate descent on the batch loss over the discrete values; there are
/// no latent float weights and no optimizer state.
///
/// One step, after the batch's forward and backward pass gave g = ∂L/∂w at the current codes:
/// 1. every coordinate i that can move one level against its gradient (c → c − sign(g_i),
///    staying in {−1, 0, 1}) has a predicted gain |g_i|·s (first order);
/// 2. the K coordinates of largest gain (ties: layer order, then index; K = ⌈fraction·N⌉ of
///    the N ternary weights) move together, and the batch loss is evaluated exactly (forward,
///    evaluation mode) at the new codes;
/// 3. the move is kept if that loss is below the loss at the old codes; otherwise it is undone
///    and the K/2 best are tried, then K/4, K/8; if none lowers the loss, nothing changes.
/// With K = 1 this is exact coordinate descent on the gradient-chosen coordinate (tested on a
/// 2-weight problem solved by hand). Biases keep their initial values (0).
///
/// Sizes: the paper trains MNIST-scale MLPs and small CNNs; models over ``maximumWeights``
/// ternary weights, or with BatchNorm, are refused (``Configuration/checkTrainingMethods(model:)``).
public final class ConnTraStep {
    public static let maximumWeights = 500_000
    public static let fraction = 0.01
    public static let halvings = 3

    let layers: [WeightedLayer]
    let scales: [Float]
    public let weightCount: Int
    private var gains: [Float] = []
    private var scratch: [Float] = []
    private var labels: [Int32] = []

    public init(model: Sequential, configurationName: String) throws {
        // What it can train is checked by ``Configuration/checkTrainingMethods(model:)`` (every
        // weighted layer ternary, no BatchNorm, at most `maximumWeights`) before a trainer exists.
        let ternary = model.weightedLayers.filter { $0.weightQuantizer is ConnTraWeights }
        let n = ternary.reduce(0) { $0 + $1.weight.value.count }
        layers = ternary
        scales = ternary.map { l in l.weight.value.data.reduce(Float(0)) { max($0, abs($1)) } }
        weightCount = n
    }

    /// K of step 2.
    public var blockSize: Int { max(1, Int((Self.fraction * Double(weightCount)).rounded(.up))) }

    /// The step; the model's gradients are those of the batch now in its input, `labels` its labels.
    /// Returns the number of coordinates changed.
    @discardableResult
    public func step(_ model: Sequential, labels batchLabels: [Int32]) -> Int {
        labels = batchLabels
        // 1. Gains, in layer order.
        if gains.count != weightCount { gains = [Float](repeating: 0, count: weightCount) }
        var offset = 0
        for (l, layer) in layers.enumerated() {
            let s = scales[l], w = layer.weight.value.data, g = layer.weight.grad.data
            for i in w.indices {
                let c = s == 0 ? 0 : (w[i] / s).rounded()
                let feasible = (g[i] > 0 && c > -1) || (g[i] < 0 && c < 1)
                gains[offset + i] = feasible ? abs(g[i]) * s : 0
            }
            offset += w.count
        }
        let before = SoftmaxCrossEntropy.loss(logits: model.forward(training: false), labels: labels).loss
        var k = blockSize
        for _ in 0...Self.halvings {
            let chosen = best(k)
            if chosen.isEmpty { return 0 }
            move(chosen, undo: false)
            let after = SoftmaxCrossEntropy.loss(logits: model.forward(training: false), labels: labels).loss
            if after < before { return chosen.count }
            move(chosen, undo: true)
            if k == 1 { break }
            k = max(1, k / 2)
        }
        return 0
    }

    /// Global indices of the k largest positive gains (ties by index).
    private func best(_ k: Int) -> [Int] {
        let positive = gains.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
        let take = min(k, positive)
        guard take > 0 else { return [] }
        if scratch.count != gains.count { scratch = gains } else { for i in gains.indices { scratch[i] = gains[i] } }
        let t = MaskedWeightQuantizer.select(&scratch, kthLargest: take)
        var above = gains.indices.filter { gains[$0] > t }
        for i in gains.indices where gains[i] == t && above.count < take { above.append(i) }
        return above.sorted()
    }

    /// Moves (or moves back) each chosen coordinate one level against its gradient.
    private func move(_ chosen: [Int], undo: Bool) {
        var layer = 0, start = 0
        for index in chosen {
            while index >= start + layers[layer].weight.value.count { start += layers[layer].weight.value.count; layer += 1 }
            let p = layers[layer].weight, i = index - start, s = scales[layer]
            let direction: Float = p.grad.data[i] > 0 ? -1 : 1
            p.value.data[i] += (undo ? -direction : direction) * s
        }
    }

    /// Bytes of training state per method: CoNNTrA keeps 2-bit codes and a float gradient;
    /// backpropagation with Adam keeps float weights, gradients and two moments (SGD with
    /// momentum: one buffer). Activations are the same for both and not counted.
    public static func trainingStateBytes(weights: Int, conntra: Bool, optimizer: String) -> Int {
        conntra ? (weights * 2 + 7) / 8 + weights * 4 : weights * 4 * (optimizer == "sgd" ? 3 : 4)
    }
}
