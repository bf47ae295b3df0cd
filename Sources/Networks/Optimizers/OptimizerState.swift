/// Saving and restoring an optimizer's state (see ``TrainingState``): Adam's moments
/// and step count, SGD's momentum buffers. Entries are prefixed `optimizer/`; an
/// optimizer that has not stepped yet saves an empty state and restores to it.
extension Adam {
    func captureState(into state: inout TrainingState) {
        state.values["optimizer/adam/steps"] = .words([UInt64(steps)])
        state.values["optimizer/adam/count"] = .words([UInt64(m.count)])
        for i in m.indices {
            state.values["optimizer/adam/m/\(i)"] = .floats(m[i])
            state.values["optimizer/adam/v/\(i)"] = .floats(v[i])
        }
    }

    func restoreState(from state: TrainingState) throws {
        let count = Int(try state.words("optimizer/adam/count", count: 1)[0])
        steps = Int(try state.words("optimizer/adam/steps", count: 1)[0])
        m = try (0..<count).map { try state.floats("optimizer/adam/m/\($0)") }
        v = try (0..<count).map { try state.floats("optimizer/adam/v/\($0)", count: m[$0].count) }
    }
}

extension SGD {
    func captureState(into state: inout TrainingState) {
        state.values["optimizer/sgd/count"] = .words([UInt64(buffers.count)])
        for (i, b) in buffers.enumerated() { state.values["optimizer/sgd/b/\(i)"] = .floats(b) }
    }

    func restoreState(from state: TrainingState) throws {
        let count = Int(try state.words("optimizer/sgd/count", count: 1)[0])
        buffers = try (0..<count).map { try state.floats("optimizer/sgd/b/\($0)") }
    }
}

/// The state of `optimizer` (Adam or SGD) into `state`.
public func captureOptimizerState(_ optimizer: Optimizer, into state: inout TrainingState) {
    if let a = optimizer as? Adam { a.captureState(into: &state) }
    else if let s = optimizer as? SGD { s.captureState(into: &state) }
    else { preconditionFailure("captureOptimizerState: \(type(of: optimizer)) has no checkpoint support") }
}

/// Restores what ``captureOptimizerState(_:into:)`` saved; throws naming a missing entry.
public func restoreOptimizerState(_ optimizer: Optimizer, from state: TrainingState) throws {
    if let a = optimizer as? Adam { try a.restoreState(from: state) }
    else if let s = optimizer as? SGD { try s.restoreState(from: state) }
    else { preconditionFailure("restoreOptimizerState: \(type(of: optimizer)) has no checkpoint support") }
}
