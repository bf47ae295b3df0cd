import Datasets
import Networks

extension TrialData {
    /// Checks, before any training, that `model` can train on this data: its input
    /// holds as many values as a sample (the same shape, or a reshape of it, e.g.
    /// `input=784` for 1×28×28 images) and it ends in one output per class.
    ///
    /// A mismatch used to reach the batch copy and the loss unchecked and corrupt
    /// memory (`malloc(): invalid size`, a crash in `Sequential.backward`).
    ///
    /// - Parameter classes: the dataset's class count; when nil, the largest label
    ///   present in the splits decides.
    /// - Throws: ``TrialError`` naming the configuration, the model and both shapes.
    public func checkFits(_ model: Sequential, configuration c: Configuration, classes: Int? = nil) throws {
        try checkFits(model, label: "configuration \(c.name): model \(c.modelName)", classes: classes)
    }

    /// The same check for any model (`evaluate` of a loaded file); `label` starts the message.
    public func checkFits(_ model: Sequential, label what: String, classes: Int? = nil) throws {
        let sample = train.sampleShape
        if model.inputShape.reduce(1, *) != sample.reduce(1, *) {
            throw TrialError("\(what) takes \(shapeText(model.inputShape)) inputs but the data has \(shapeText(sample)) samples; "
                + "define the model for \(shapeText(sample)) (or leave out input=)")
        }
        let out = model.outputShape
        let labels = [train.labels.max(), validation?.labels.max(), test?.labels.max()].compactMap { $0 }
        let needed = classes ?? Int(labels.max() ?? 0) + 1
        guard out.count == 1, out[0] == needed else {
            throw TrialError("\(what) ends in \(shapeText(out)) outputs but the data has \(needed) classes: end with dense \(needed)")
        }
        if let top = labels.max(), Int(top) >= out[0] {
            throw TrialError("\(what) has \(out[0]) outputs but the data has label \(top)")
        }
    }
}
