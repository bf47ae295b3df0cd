import Foundation
import Tensors

/// Differentiable mask pruning (after Ramakrishnan, Sari & Partovi Nia, "Differentiable Mask
/// for Pruning Convolutional and Recurrent Networks", 2019/2020) over another weight
/// quantizer. Each weight (or each output filter, `granularity: .filter`) has a learned score
/// s, initialised to its magnitude relative to the layer's mean magnitude; the layer keeps the
/// `kept(of:)` highest scores. With t the kept-th highest score (recomputed every forward
/// pass) and temperature τ,
///
///     training:    m = σ((s − t)/τ)      q = m ⊙ Q(w)
///     evaluation:  m = 1{s ≥ t}          q = m ⊙ Q(w)
///
/// so the loss and the scores decide which weights survive, jointly with the weights.
/// Backward: dw += inner STE of (m ⊙ dq); ds += dq ⊙ Q(w) ⊙ m(1 − m)/τ (t held fixed; summed
/// over a filter's row). τ anneals τ_t = max(τ_min, τ₀·γ^t) over optimizer steps t, set by the
/// trainer (``setStep(_:)``), so training's soft mask approaches evaluation's hard one. The
/// scores are parameters of the layer: the optimizer moves them and checkpoints keep them.
public final class MaskedWeightQuantizer: WeightQuantizer {
    public static let tau0: Float = 0.5, tauDecay: Float = 0.99, tauMin: Float = 0.02

    public let inner: WeightQuantizer
    public let settings: PruneSettings
    public let scores: Parameter
    /// Weights per score: 1, or a filter's row length.
    public let rowLength: Int
    public var tau: Float = MaskedWeightQuantizer.tau0
    private var innerQ: [Float] = []
    private var mask: [Float] = []
    private var scratch: [Float] = []
    private var maskedGradient: [Float] = []

    /// `weights` in output-channel rows (`channels` of them).
    public init(inner: WeightQuantizer, settings: PruneSettings, weights: [Float], channels: Int) {
        precondition(channels > 0 && weights.count % channels == 0, "MaskedWeightQuantizer: \(weights.count) weights in \(channels) rows")
        self.inner = inner
        self.settings = settings
        let row = settings.granularity == .filter ? weights.count / channels : 1
        rowLength = row
        let groups = weights.count / row
        let mean = max(weights.reduce(0.0) { $0 + Double(abs($1)) } / Double(max(1, weights.count)), 1e-12)
        let s = (0..<groups).map { g -> Float in
            var sum = 0.0
            for i in (g * row)..<((g + 1) * row) { sum += Double(abs(weights[i])) }
            return Float(sum / Double(row) / mean)
        }
        scores = Parameter(name: "dmp_scores", value: Tensor(shape: [groups], data: s), decays: false)
    }

    public var precision: Precision { inner.precision }
    public var transformsWeights: Bool { true }
    public var scales: [Float] { inner.scales }
    public var parameters: [Parameter] { [scores] }
    public var latentWeightUpdate: ((inout Tensor) -> Void)? { inner.latentWeightUpdate }

    /// τ after `step` optimizer steps.
    public func setStep(_ step: Int) { tau = max(Self.tauMin, Self.tau0 * pow(Self.tauDecay, Float(step))) }

    /// The kept-th highest score: weights (filters) with s ≥ t are kept in evaluation.
    public var threshold: Float {
        let s = scores.value.data
        let k = settings.kept(of: s.count)
        if scratch.count != s.count { scratch = s } else { for i in s.indices { scratch[i] = s[i] } }
        return Self.select(&scratch, kthLargest: k)
    }

    /// Weights kept in evaluation (the hard mask): what the cost model counts.
    public var keptWeights: Int {
        let t = threshold
        return scores.value.data.reduce(0) { $0 + ($1 >= t ? 1 : 0) } * rowLength
    }

    public func quantize(_ w: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, count: Int, channels: Int, training: Bool) {
        if innerQ.count != count { innerQ = [Float](repeating: 0, count: count) }
        innerQ.withUnsafeMutableBufferPointer { p in
            if inner.precision == .float { p.baseAddress!.update(from: w, count: count) }
            else { inner.quantize(w, into: p.baseAddress!, count: count, channels: channels, training: training) }
        }
        let t = threshold, s = scores.value.data
        if mask.count != s.count { mask = [Float](repeating: 0, count: s.count) }
        for g in s.indices {
            mask[g] = training ? 1 / (1 + exp(-(s[g] - t) / tau)) : (s[g] >= t ? 1 : 0)
        }
        for i in 0..<count { q[i] = mask[i / rowLength] * innerQ[i] }
    }

    public func backward(_ w: UnsafePointer<Float>, gradient dq: UnsafePointer<Float>, addInto dw: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        precondition(innerQ.count == count, "MaskedWeightQuantizer.backward before a forward pass")
        if maskedGradient.count != count { maskedGradient = [Float](repeating: 0, count: count) }
        for i in 0..<count { maskedGradient[i] = mask[i / rowLength] * dq[i] }
        maskedGradient.withUnsafeBufferPointer { mp in
            if inner.precision == .float { Kernels.addInto(dw, mp.baseAddress!, count: count) }
            else { inner.backward(w, gradient: mp.baseAddress!, addInto: dw, count: count, channels: channels) }
        }
        scores.grad.data.withUnsafeMutableBufferPointer { gs in
            for g in 0..<gs.count {
                let m = mask[g]
                var sum: Float = 0
                for i in (g * rowLength)..<((g + 1) * rowLength) { sum += dq[i] * innerQ[i] }
                gs[g] += sum * m * (1 - m) / tau
            }
        }
    }

    public func codes(_ w: UnsafePointer<Float>, count: Int, channels: Int) -> WeightCodes? {
        guard let c = inner.codes(w, count: count, channels: channels) else { return nil }
        let t = threshold, s = scores.value.data
        var codes = c.codes
        for i in codes.indices where s[i / rowLength] < t { codes[i] = 0 }
        return WeightCodes(scheme: c.scheme == .binary ? .ternary : c.scheme, codes: codes, scales: c.scales)
    }

    /// The k-th largest value of `a` (1-based k), reordering `a` (quickselect, median of three).
    public static func select(_ a: inout [Float], kthLargest k: Int) -> Float {
        precondition(k >= 1 && k <= a.count, "select: k = \(k) of \(a.count)")
        var lo = 0, hi = a.count - 1
        let target = k - 1                       // index in descending order
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            let x = a[lo], y = a[mid], z = a[hi]
            let pivot = max(min(x, y), min(max(x, y), z))
            var i = lo, j = hi
            while i <= j {
                while a[i] > pivot { i += 1 }
                while a[j] < pivot { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { return a[target] }
        }
        return a[lo]
    }
}
