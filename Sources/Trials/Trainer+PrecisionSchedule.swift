import Networks
import Datasets
import Quantization

/// The training step's forward and backward passes, through the configuration's
/// precision schedule or dual modes (``PrecisionController``) when it has one.
extension Trainer {
    /// Forward and backward of the batch in the model's input (gradients add into the
    /// zeroed parameters); returns the batch's summed loss ÷ count and correct count.
    ///
    /// Fixed precision: one pass. A schedule: one pass at the iteration's bits. A dual
    /// network in its joint phase: a pass in each mode, each with its logit gradient
    /// halved, so the step descends ½(L_high + L_low); the loss and accuracy reported are
    /// the high mode's. `iteration` counts from 0 over the run the schedule spans
    /// (`iterations` in all).
    func forwardBackward(iteration: Int, iterations: Int) -> (loss: Double, correct: Int) {
        guard let pc = precisionControl else { return pass(gradientScale: 1) }
        let epoch = epochsDone
        var modes: [ScheduledBits?] = [pc.scheduledBits(iteration: iteration, iterations: iterations, epoch: epoch)]
        if let dual = pc.dual, pc.isJoint(epoch: epoch, scheduleEpochs: scheduleEpochs) { modes.append(dual.low) }
        var first: (loss: Double, correct: Int)?
        for bits in modes {
            pc.apply(bits)
            let r = pass(gradientScale: 1 / Float(modes.count))
            pc.countPass(bits)
            if first == nil { first = r }
        }
        pc.endIteration(accuracy: Double(first!.correct) / Double(max(1, labels.count)))
        return first!
    }

    private func pass(gradientScale: Float) -> (loss: Double, correct: Int) {
        let logits = model.forward(training: true)
        let r = model.withLogitGradient { g in
            let r = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels, gradient: &g)
            if gradientScale != 1 { for i in g.data.indices { g.data[i] *= gradientScale } }
            return r
        }
        model.backward()
        return r
    }

    /// The dual network's low mode (`dual=`), nil otherwise.
    public var dualLowMode: ScheduledBits? { precisionControl?.dual?.low }

    /// Mean loss and accuracy on `split` with the driven layers at `bits` (the dual
    /// network's low mode), then back at the configuration's own precision.
    public func evaluate(on split: Split, normalization: Normalization, at bits: ScheduledBits) -> (loss: Double, accuracy: Double) {
        guard let pc = precisionControl else { return evaluate(on: split, normalization: normalization) }
        pc.apply(bits)
        defer { pc.restoreDeployed() }
        return evaluate(on: split, normalization: normalization)
    }

    /// What this trainer has trained so far: mean forward BOPs per training image at
    /// the precision trained and the mean bits; at fixed precision the inference BOPs
    /// and the configuration's bits. Nil before any schedule iteration.
    public var trainedCost: TrainedCost? {
        guard let pc = precisionControl else {
            return TrainedCost(bopsPerImage: Double(cost.bops),
                               weightBits: configuration.precisions.map { Double($0.weight.storageBits) }.max() ?? 32,
                               activationBits: configuration.precisions.map { Double($0.activation.storageBits) }.max() ?? 32)
        }
        return pc.trainedCost
    }
}
