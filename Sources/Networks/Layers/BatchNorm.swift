import Tensors

// Dimension legend: N batch, C channels (or F features), H×W plane. Statistics
// are per channel over M = N·H·W values (M = N for a [F] input, H·W = 1).

/// Batch normalisation (Ioffe & Szegedy 2015) over the channels of [C, H, W]
/// inputs or the features of [F] inputs.
///
/// Training, per channel c over its M values:
///   μ = (1/M) Σ x,  σ² = (1/M) Σ (x − μ)²  (biased),  x̂ = (x − μ) / √(σ² + ε)
///   y = γ · x̂ + β
///   running μ ← (1 − m)·running μ + m·μ,  running σ² ← (1 − m)·running σ² + m·σ²·M/(M − 1)
/// with momentum m = 0.1 and the unbiased variance in the running estimate, as
/// PyTorch's `BatchNorm2d`. Evaluation uses the running statistics in place of μ, σ².
///
/// Backward (training), with sums over the M values of channel c:
///   dγ += Σ dy·x̂,  dβ += Σ dy
///   dx = γ/√(σ² + ε) · (dy − Σ dy / M − x̂ · Σ dy·x̂ / M)
/// and in evaluation (statistics are constants) dx = γ/√(σ² + ε) · dy.
/// x̂ is recomputed from x and the saved μ, 1/√(σ² + ε) instead of being stored:
/// one more multiply-add per value saves a buffer the size of the activation.
/// Sums run in Float along a plane and in Double across planes.
public final class BatchNorm: ParameterizedLayer {
    public var name: String
    public let features: Int
    public let gamma: Parameter           // [C], init 1, no weight decay
    public let beta: Parameter            // [C], init 0, no weight decay
    /// Running statistics used in evaluation; exported with the model.
    public var runningMean: [Float]
    public var runningVar: [Float]
    public var momentum: Float
    public let eps: Float

    private var savedMean: [Float]        // μ used by the last forward
    private var savedInvStd: [Float]      // 1/√(σ² + ε) used by the last forward
    private var usedBatchStatistics = false

    /// Wraps given tensors: gamma and beta [C]; running statistics [C] (0 and 1 by default).
    public init(name: String = "bn", gamma: Tensor, beta: Tensor, runningMean: [Float]? = nil,
                runningVar: [Float]? = nil, momentum: Float = 0.1, eps: Float = 1e-5) {
        precondition(gamma.rank == 1 && beta.shape == gamma.shape, "BatchNorm: gamma and beta must be [C], got \(gamma.shape), \(beta.shape)")
        let c = gamma.shape[0]
        precondition(runningMean.map { $0.count == c } ?? true, "BatchNorm: runningMean must have \(c) values")
        precondition(runningVar.map { $0.count == c } ?? true, "BatchNorm: runningVar must have \(c) values")
        self.name = name
        features = c
        self.gamma = Parameter(name: name + ".gamma", value: gamma, decays: false)
        self.beta = Parameter(name: name + ".beta", value: beta, decays: false)
        self.runningMean = runningMean ?? [Float](repeating: 0, count: c)
        self.runningVar = runningVar ?? [Float](repeating: 1, count: c)
        self.momentum = momentum
        self.eps = eps
        savedMean = [Float](repeating: 0, count: c)
        savedInvStd = [Float](repeating: 1, count: c)
    }

    /// γ = 1, β = 0, running mean 0, running variance 1.
    public convenience init(name: String = "bn", features: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        self.init(name: name, gamma: Tensor(repeating: 1, shape: [features]), beta: Tensor(zeros: [features]),
                  momentum: momentum, eps: eps)
    }

    public var spec: String { "bn" }
    public var parameters: [Parameter] { [gamma, beta] }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 1 || input.count == 3 else {
            throw ModelError("\(name) (\(spec)): expects C×H×W or F features, got \(shapeText(input))")
        }
        guard input[0] == features else {
            throw ModelError("\(name) (\(spec)): has \(features) channels, got input \(shapeText(input))")
        }
        return input
    }

    /// (batch, plane size) for a batch tensor [N, C, …].
    private func layout(_ x: Tensor) -> (n: Int, inner: Int) {
        precondition(x.rank >= 2 && x.shape[1] == features, "\(name): expects [N, \(features), …], got \(x.shape)")
        let n = x.shape[0]
        return (n, n == 0 ? 0 : x.count / (n * features))
    }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        let (n, inner) = layout(x)
        let m = n * inner
        y.reshapeForOverwrite(x.shape)
        usedBatchStatistics = training
        x.data.withUnsafeBufferPointer { xb in
            let xp = xb.baseAddress!
            for c in 0..<features {
                let mean: Float, variance: Float
                if training {
                    var s = 0.0
                    for i in 0..<n {
                        let row = xp + (i * features + c) * inner
                        var t: Float = 0
                        for j in 0..<inner { t += row[j] }
                        s += Double(t)
                    }
                    mean = Float(s / Double(m))
                    var q = 0.0
                    for i in 0..<n {
                        let row = xp + (i * features + c) * inner
                        var t: Float = 0
                        for j in 0..<inner { let d = row[j] - mean; t += d * d }
                        q += Double(t)
                    }
                    variance = Float(q / Double(m))
                    let unbiased = m > 1 ? q / Double(m - 1) : q
                    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean
                    runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(unbiased)
                } else {
                    mean = runningMean[c]
                    variance = runningVar[c]
                }
                savedMean[c] = mean
                savedInvStd[c] = 1 / (variance + eps).squareRoot()
            }
        }
        // y = a·x + b with a = γ/√(σ² + ε), b = β − μ·a.
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                for c in 0..<features {
                    let a = gamma.value.data[c] * savedInvStd[c]
                    let b = beta.value.data[c] - savedMean[c] * a
                    for i in 0..<n {
                        let off = (i * features + c) * inner
                        let src = xb.baseAddress! + off, dst = yb.baseAddress! + off
                        for j in 0..<inner { dst[j] = src[j] * a + b }
                    }
                }
            }
        }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        let (n, inner) = layout(x)
        let m = Float(n * inner)
        if needsInputGradient { dx.reshapeForOverwrite(x.shape) }
        x.data.withUnsafeBufferPointer { xb in
            dy.data.withUnsafeBufferPointer { gb in
                dx.data.withUnsafeMutableBufferPointer { db in
                    for c in 0..<features {
                        let mean = savedMean[c], inv = savedInvStd[c]
                        var sdy = 0.0, sdyx = 0.0
                        for i in 0..<n {
                            let off = (i * features + c) * inner
                            let xr = xb.baseAddress! + off, gr = gb.baseAddress! + off
                            var t: Float = 0, u: Float = 0
                            for j in 0..<inner { t += gr[j]; u += gr[j] * (xr[j] - mean) * inv }
                            sdy += Double(t); sdyx += Double(u)
                        }
                        gamma.grad.data[c] += Float(sdyx)
                        beta.grad.data[c] += Float(sdy)
                        guard needsInputGradient else { continue }
                        let k = gamma.value.data[c] * inv
                        // dx = k·dy − k·Σdy/M − k·x̂·Σdy·x̂/M, x̂ = (x − μ)·inv.
                        let c0 = usedBatchStatistics ? k * Float(sdy) / m : 0
                        let c1 = usedBatchStatistics ? k * Float(sdyx) / m * inv : 0
                        for i in 0..<n {
                            let off = (i * features + c) * inner
                            let xr = xb.baseAddress! + off, gr = gb.baseAddress! + off, dr = db.baseAddress! + off
                            for j in 0..<inner { dr[j] = k * gr[j] - c0 - c1 * (xr[j] - mean) }
                        }
                    }
                }
            }
        }
    }
}
