import Networks
import Quantization

extension Configuration {
    /// Whether this configuration's training methods can train its model; the error names
    /// the configuration, the option, the layer and the limit.
    ///
    /// Checked when a configuration is defined (`config add`, `config grid`), so a bad one is
    /// refused before anything trains, and again when a trainer is built (``MethodHooks``):
    /// the backstop for configurations that come from plans, stores or code.
    ///
    /// - `weights=prox`, `stq=`: some layer has binary or ternary weights (what they train).
    /// - `method=conntra`: every weighted layer is ternary (its step replaces the optimizer's
    ///   for the whole model, so any other layer would keep its initial weights), no
    ///   BatchNorm, at most ``ConnTraStep/maximumWeights`` ternary weights.
    /// - `prune=` with `schedule=` or `dual=`: refused (the schedule drives the k-bit
    ///   quantizers, and the masks wrap them).
/// - `dual=`: the low mode lowers the weight or activation bits of some layer it drives.
    public func checkTrainingMethods(model: Sequential) throws {
        let o = options
        let layers = model.weightedLayers
        let named = Array(zip(layerNames, precisions))
        let listed = named.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        func refuse(_ option: String, _ why: String) -> TrialError { TrialError("configuration \(name): \(option): \(why)") }
        let binaryOrTernary = named.filter { $0.1.weight == .binary || $0.1.weight == .ternary }
        for (option, given) in [("weights=prox", o.prox != nil), ("stq=\(o.stq?.text ?? "")", o.stq != nil)] where given && binaryOrTernary.isEmpty {
            let example = named.count > 2 ? named[1].0 : named[0].0
            throw refuse(option, "trains binary and ternary weights (w1…, wt…), and no layer has them (\(listed)); "
                         + "give some layers w1… or wt…, e.g. \(example)=w1a4 or \(example)=wta4")
        }
        if o.prune != nil && (o.precisionSchedule != nil || o.dual != nil) {
            throw refuse("prune=\(o.prune!.text)", "does not combine with \(o.precisionSchedule != nil ? "schedule=" : "dual="): "
                         + "the schedule drives the k-bit weight quantizers and the masks wrap them; give one of the two")
        }
        if let dual = o.dual, !dual.isLowModeView {
            // The driven layers (k-bit weights) take the low mode's bits; it must lower something.
            let driven = named.filter { if case .bits = $0.1.weight { return true } else { return false } }
            let lowers = driven.contains { _, p in
                if case let .bits(w) = p.weight, dual.low.weight < w { return true }
                if case let .bits(a) = p.activation, dual.low.activation < a { return true }
                return false
            }
            if !driven.isEmpty && !lowers {
                throw refuse("dual=\(dual)", "the low mode \(dual.low) lowers no precision of the layers it drives (those with k-bit weights: "
                             + driven.map { "\($0.0)=\($0.1)" }.joined(separator: " ") + "); give it fewer bits, e.g. dual=w2a2")
            }
        }
        guard o.method == .conntra else { return }
        if let other = named.first(where: { $0.1.weight != .ternary }) {
            throw refuse("method=conntra", "trains every weighted layer by coordinate descent over ternary values and replaces the "
                         + "optimizer's step, so layer \(other.0) (\(other.1)) would keep its initial weights; give every weighted layer "
                         + "ternary weights (e.g. config add \(name) \(modelName) wta32)")
        }
        if let bn = model.allLayers.first(where: { $0 is BatchNorm }) {
            throw refuse("method=conntra", "layer \(bn.name) is a BatchNorm layer, whose parameters coordinate descent over "
                         + "ternary weights does not train (its paper uses none); define the model without bn")
        }
        let counts = zip(layerNames, layers).map { ($0, $1.weight.value.count) }
        let total = counts.reduce(0) { $0 + $1.1 }
        if total > ConnTraStep.maximumWeights {
            let largest = counts.max { $0.1 < $1.1 }!
            throw refuse("method=conntra", "is for the sizes its paper trains (MNIST-scale MLPs and small CNNs): at most "
                         + "\(ConnTraStep.maximumWeights) ternary weights, and this model has "
                         + "\(total) (\(counts.map { "\($0.0) \($0.1)" }.joined(separator: ", "))); "
                         + "make \(largest.0) smaller")
        }
    }
}
