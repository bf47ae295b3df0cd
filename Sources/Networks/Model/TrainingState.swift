import Tensors
import Quantization

/// One named piece of training state: float values, or 64-bit words (generator
/// states, step counters).
public enum StateValue: Equatable, Sendable {
    case floats([Float])
    case words([UInt64])
}

/// Everything training changes that a later step reads, by name: what a checkpoint
/// must hold so that training resumed from it continues bit for bit as if it had
/// never stopped (a Slurm task preempted between epochs).
///
/// Model: every parameter's value (PACT clips included), batch-norm running mean and
/// variance, each activation quantizer's moving-average clip (absent before the first
/// training batch), dropout and stochastic-rounding generators. Optimizer: Adam's
/// moments and step count, SGD's momentum buffers. Scratch buffers (activations,
/// gradients, column matrices, cached scales) are recomputed by the next step and are
/// not saved.
public struct TrainingState: Equatable, Sendable {
    public var values: [String: StateValue] = [:]
    public init(values: [String: StateValue] = [:]) { self.values = values }

    public func floats(_ name: String, count: Int? = nil) throws -> [Float] {
        guard case let .floats(f)? = values[name] else { throw ModelError("checkpoint: missing float entry '\(name)'") }
        if let count, f.count != count {
            throw ModelError("checkpoint: entry '\(name)' holds \(f.count) values, the model expects \(count)")
        }
        return f
    }

    public func words(_ name: String, count: Int? = nil) throws -> [UInt64] {
        guard case let .words(w)? = values[name] else { throw ModelError("checkpoint: missing word entry '\(name)'") }
        if let count, w.count != count {
            throw ModelError("checkpoint: entry '\(name)' holds \(w.count) words, expected \(count)")
        }
        return w
    }
}

extension Sequential {
    /// The model's training state (see ``TrainingState``), entries prefixed `model/`.
    public func captureState(into state: inout TrainingState) {
        for (i, p) in parameters.enumerated() { state.values["model/param/\(i)/\(p.name)"] = .floats(p.value.data) }
        for layer in allLayers {
            if let bn = layer as? BatchNorm {
                state.values["model/\(bn.name)/running_mean"] = .floats(bn.runningMean)
                state.values["model/\(bn.name)/running_var"] = .floats(bn.runningVar)
            }
            if let d = layer as? Dropout { state.values["model/\(d.name)/rng"] = .words([d.rng.state]) }
            if let w = layer as? WeightedLayer {
                state.values["model/\(w.name)/clip"] = .floats(w.activationQuantizer.clip.map { [$0] } ?? [])
                if let u = w.weightQuantizer as? UniformWeightQuantizer {
                    state.values["model/\(w.name)/rounding_rng"] = .words([u.rng.state])
                }
            }
        }
    }

    /// Restores what ``captureState(into:)`` saved; throws naming the first entry that
    /// is missing or of another size (a checkpoint of another model).
    public func restoreState(from state: TrainingState) throws {
        for (i, p) in parameters.enumerated() {
            p.value.data = try state.floats("model/param/\(i)/\(p.name)", count: p.value.count)
        }
        for layer in allLayers {
            if let bn = layer as? BatchNorm {
                bn.runningMean = try state.floats("model/\(bn.name)/running_mean", count: bn.features)
                bn.runningVar = try state.floats("model/\(bn.name)/running_var", count: bn.features)
            }
            if let d = layer as? Dropout { d.rng = SplitMix64(seed: try state.words("model/\(d.name)/rng", count: 1)[0]) }
            if let w = layer as? WeightedLayer {
                let clip = try state.floats("model/\(w.name)/clip")
                guard clip.count <= 1 else { throw ModelError("checkpoint: entry 'model/\(w.name)/clip' holds \(clip.count) values, expected 0 or 1") }
                w.activationQuantizer.clip = clip.first
                if let u = w.weightQuantizer as? UniformWeightQuantizer {
                    u.restoreRandomState(try state.words("model/\(w.name)/rounding_rng", count: 1)[0])
                }
            }
        }
    }
}
