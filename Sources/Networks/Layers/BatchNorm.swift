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
/// Sums run in Float (eight SIMD lanes) along a plane and in Double across planes;
/// a [F] input (planes of one value) is reduced row by row instead, vectorised
/// across features.
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
    // Per-channel scratch: sums, then the affine coefficients of the pass.
    private var sum0: [Float], sum1: [Float], coefA: [Float], coefB: [Float], coefC: [Float]

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
        sum0 = savedMean; sum1 = savedMean; coefA = savedMean; coefB = savedMean; coefC = savedMean
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
        y.reshapeForOverwrite(x.shape)
        usedBatchStatistics = training
        if training {
            x.data.withUnsafeBufferPointer { statistics($0.baseAddress!, n: n, inner: inner) }
            let m = Double(n * inner)
            for c in 0..<features {
                // sum1 holds Σ(x − μ)²; running σ² takes the unbiased M/(M − 1) form.
                let unbiased = m > 1 ? Double(sum1[c]) / (m - 1) : Double(sum1[c])
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * savedMean[c]
                runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(unbiased)
                savedInvStd[c] = 1 / (Float(Double(sum1[c]) / m) + eps).squareRoot()
            }
        } else {
            for c in 0..<features {
                savedMean[c] = runningMean[c]
                savedInvStd[c] = 1 / (runningVar[c] + eps).squareRoot()
            }
        }
        // y = a·(x − μ) + β with a = γ/√(σ² + ε). Not a·x + (β − a·μ): that
        // cancels when |μ| ≫ σ.
        for c in 0..<features {
            coefA[c] = gamma.value.data[c] * savedInvStd[c]
            coefB[c] = beta.value.data[c]
        }
        x.data.withUnsafeBufferPointer { xb in
            y.data.withUnsafeMutableBufferPointer { yb in
                apply(xb.baseAddress!, yb.baseAddress!, gradient: nil, n: n, inner: inner)
            }
        }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        let (n, inner) = layout(x)
        let m = Float(n * inner)
        // sum0 = Σ dy, sum1 = Σ dy·(x − μ); Σ dy·x̂ = sum1 · inv.
        x.data.withUnsafeBufferPointer { xb in
            dy.data.withUnsafeBufferPointer { gb in
                gradientSums(gb.baseAddress!, xb.baseAddress!, n: n, inner: inner)
            }
        }
        for c in 0..<features {
            let inv = savedInvStd[c], sdyx = sum1[c] * inv
            gamma.grad.data[c] += sdyx
            beta.grad.data[c] += sum0[c]
            // dx = k·dy − k·Σdy/M − k·x̂·Σdy·x̂/M = A·dy + B + C·(x − μ),  k = γ·inv.
            let k = gamma.value.data[c] * inv
            coefA[c] = k
            coefB[c] = usedBatchStatistics ? -k * sum0[c] / m : 0
            coefC[c] = usedBatchStatistics ? -k * sdyx / m * inv : 0
        }
        guard needsInputGradient else { return }
        dx.reshapeForOverwrite(x.shape)
        x.data.withUnsafeBufferPointer { xb in
            dy.data.withUnsafeBufferPointer { gb in
                dx.data.withUnsafeMutableBufferPointer { db in
                    apply(xb.baseAddress!, db.baseAddress!, gradient: gb.baseAddress!, n: n, inner: inner)
                }
            }
        }
    }

    /// savedMean = μ and sum1 = Σ (x − μ)² per channel (two passes: no cancellation).
    private func statistics(_ x: UnsafePointer<Float>, n: Int, inner: Int) {
        let c = features, m = Double(n * inner)
        if inner == 1 {
            // Row by row, vectorised across features, through local buffers (a class's
            // array property costs an access check per element).
            sum0.withUnsafeMutableBufferPointer { s0 in
                sum1.withUnsafeMutableBufferPointer { s1 in
                    savedMean.withUnsafeMutableBufferPointer { mu in
                        for f in 0..<c { s0[f] = 0; s1[f] = 0 }
                        for i in 0..<n { let row = x + i * c; for f in 0..<c { s0[f] += row[f] } }
                        for f in 0..<c { mu[f] = Float(Double(s0[f]) / m) }
                        for i in 0..<n { let row = x + i * c; for f in 0..<c { let d = row[f] - mu[f]; s1[f] += d * d } }
                    }
                }
            }
            return
        }
        for ch in 0..<c {
            var s = 0.0
            for i in 0..<n { s += Double(LayerBuffers.sum(x + (i * c + ch) * inner, count: inner)) }
            let mean = Float(s / m)
            var q = 0.0
            for i in 0..<n { q += Double(LayerBuffers.sumOfSquares(x + (i * c + ch) * inner, about: mean, count: inner)) }
            savedMean[ch] = mean
            sum1[ch] = Float(q)
        }
    }

    /// sum0 = Σ g, sum1 = Σ g·(x − μ) per channel.
    private func gradientSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, n: Int, inner: Int) {
        let c = features
        if inner == 1 {
            sum0.withUnsafeMutableBufferPointer { s0 in
                sum1.withUnsafeMutableBufferPointer { s1 in
                    savedMean.withUnsafeBufferPointer { mu in
                        for f in 0..<c { s0[f] = 0; s1[f] = 0 }
                        for i in 0..<n {
                            let gr = g + i * c, xr = x + i * c
                            for f in 0..<c { s0[f] += gr[f]; s1[f] += gr[f] * (xr[f] - mu[f]) }
                        }
                    }
                }
            }
            return
        }
        for ch in 0..<c {
            var s0 = 0.0, s1 = 0.0
            for i in 0..<n {
                let off = (i * c + ch) * inner
                let (a, b) = LayerBuffers.sumAndMoment(g + off, x + off, about: savedMean[ch], count: inner)
                s0 += Double(a); s1 += Double(b)
            }
            sum0[ch] = Float(s0); sum1[ch] = Float(s1)
        }
    }

    /// Per channel: forward (g nil) out = A·(x − μ) + B; backward out = A·g + B + C·(x − μ).
    private func apply(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                       gradient g: UnsafePointer<Float>?, n: Int, inner: Int) {
        let c = features
        coefA.withUnsafeBufferPointer { a in
            coefB.withUnsafeBufferPointer { b in
                coefC.withUnsafeBufferPointer { k in
                    savedMean.withUnsafeBufferPointer { mu in
                        for i in 0..<n {
                            if inner == 1 {
                                let xr = x + i * c, o = out + i * c
                                if let g {
                                    let gr = g + i * c
                                    for f in 0..<c { o[f] = a[f] * gr[f] + b[f] + k[f] * (xr[f] - mu[f]) }
                                } else {
                                    for f in 0..<c { o[f] = a[f] * (xr[f] - mu[f]) + b[f] }
                                }
                                continue
                            }
                            for ch in 0..<c {
                                let off = (i * c + ch) * inner
                                let xr = x + off, o = out + off
                                let ac = a[ch], bc = b[ch], kc = k[ch], m = mu[ch]
                                if let g {
                                    let gr = g + off
                                    for j in 0..<inner { o[j] = ac * gr[j] + bc + kc * (xr[j] - m) }
                                } else {
                                    for j in 0..<inner { o[j] = ac * (xr[j] - m) + bc }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
