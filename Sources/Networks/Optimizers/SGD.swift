import Tensors

/// Stochastic gradient descent with momentum and L2 weight decay, as PyTorch's
/// `torch.optim.SGD` (dampening 0).
///
/// Per parameter w with gradient g, learning rate η, momentum μ, decay λ:
///   g ← g + λ·w              (only when `w.decays`)
///   b ← μ·b + g              (b starts at 0, so the first step has b = g)
///   d = g + μ·b  (Nesterov)   or   d = b
///   w ← w − η·d
/// With μ = 0 no state is kept and d = g.
public final class SGD: Optimizer {
    public let momentum: Float
    public let weightDecay: Float
    public let nesterov: Bool
    var buffers: [[Float]] = []     // internal: OptimizerState saves and restores them

    public init(momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(momentum >= 0 && weightDecay >= 0, "SGD: momentum and weight decay must be ≥ 0")
        precondition(!nesterov || momentum > 0, "SGD: Nesterov needs momentum > 0")
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public func step(_ params: [Parameter], learningRate lr: Float) {
        if momentum != 0 {
            if buffers.isEmpty { buffers = params.map { [Float](repeating: 0, count: $0.value.count) } }
            checkState(count: buffers.count, for: params, "SGD")
        }
        for (index, p) in params.enumerated() {
            let lambda = p.decays ? weightDecay : 0
            let mu = momentum, nesterov = nesterov
            p.grad.data.withUnsafeBufferPointer { g in
                p.value.data.withUnsafeMutableBufferPointer { w in
                    precondition(g.count == w.count, "SGD: \(p.name) gradient and value sizes differ")
                    if mu == 0 {
                        for i in 0..<w.count { w[i] -= lr * (g[i] + lambda * w[i]) }
                        return
                    }
                    buffers[index].withUnsafeMutableBufferPointer { b in
                        precondition(b.count == w.count, "SGD: \(p.name) changed size since the first step")
                        for i in 0..<w.count {
                            let gi = g[i] + lambda * w[i]
                            let bi = mu * b[i] + gi
                            b[i] = bi
                            w[i] -= lr * (nesterov ? gi + mu * bi : bi)
                        }
                    }
                }
            }
            p.afterUpdate?(&p.value)
        }
    }
}
