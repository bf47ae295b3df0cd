import Tensors

/// k-bit unsigned activations on [0, c] (k = 2…16):
///
///     L = 2^k − 1,   q(x) = (c / L) · round(clamp(x, 0, c) · L / c)      (half to even)
///     backward:      dx = dy · 1{0 ≤ x ≤ c}
///
/// The clip c, by default a moving average of the batch maximum: the first training
/// batch sets c = max x, later ones c ← m·c + (1 − m)·max x; evaluation uses c frozen
/// (before any training batch it uses the batch's own maximum, without keeping it).
///
/// With `learnedClip` (PACT, Choi et al. 2018) c is a `Parameter` trained with the
/// network: initialised to the first training batch's maximum, then
/// ∂L/∂c = Σ dy over x ≥ c (added into `clipParameter.grad`). A clip that training
/// drives to c ≤ 0 quantizes everything to 0.
public final class UniformActivationQuantizer: ActivationQuantizer {
    /// The bit width; a precision schedule changes it between training steps (``setBits(_:)``).
    public private(set) var bits: Int
    public let momentum: Float
    /// The learned PACT clip (one value), or nil for the moving-average clip.
    public let clipParameter: Parameter?
    /// The moving-average clip (unused with a learned clip).
    public private(set) var runningClip: Float = 0
    /// Whether a training batch (or `clip = …`) has set the clip.
    public private(set) var initialized = false
    /// The clip the last forward used; backward masks with it.
    public private(set) var lastClip: Float = 0

    public init(bits: Int, momentum: Float = 0.9, learnedClip: Bool = false) {
        precondition((2...16).contains(bits), "UniformActivationQuantizer: bits must be 2…16, got \(bits)")
        precondition((0...1).contains(momentum), "UniformActivationQuantizer: momentum must be in [0, 1], got \(momentum)")
        self.bits = bits
        self.momentum = momentum
        clipParameter = learnedClip ? Parameter(name: "clip", value: Tensor(zeros: [1]), decays: false) : nil
    }

    public var precision: Precision { .bits(bits) }

    /// Changes the bit width in place (precision schedules). The clip and its running
    /// statistics do not depend on the width and carry over.
    public func setBits(_ k: Int) {
        precondition((2...16).contains(k), "UniformActivationQuantizer.setBits: bits must be 2…16, got \(k)")
        bits = k
    }
    public var parameters: [Parameter] { clipParameter.map { [$0] } ?? [] }
    /// L = 2^k − 1: the largest code.
    public var maxCode: Int { (1 << bits) - 1 }

    public var clip: Float? {
        get {
            guard initialized else { return nil }
            return clipParameter?.value.data[0] ?? runningClip
        }
        set {
            guard let c = newValue else { initialized = false; return }
            if let p = clipParameter { p.value.data[0] = c } else { runningClip = c }
            initialized = true
        }
    }

    /// max x[i], or max max(x[i], 0) when `afterReLU` (x is then a ReLU's input: the
    /// maximum of its output, up to the sign of a zero maximum, which no caller can see:
    /// c ≤ 0 quantizes everything to 0 and a zero enters the moving average as 0).
    /// `known`: the maximum of x ignoring NaN, reduced on the way by the layer that wrote x;
    /// used where it is certainly `QuantKernels.maximum`'s value (that takes x[0], then
    /// only greater values: NaN only from x[0]; only a zero maximum's sign depends on the
    /// order, so a zero takes the pass).
    private func batchMaximum(_ x: UnsafePointer<Float>, count: Int, afterReLU: Bool, known: Float? = nil) -> Float {
        let m: Float
        if let known, known != 0, count > 0, !x[0].isNaN { m = known } else { m = QuantKernels.maximum(x, count: count) }
        return afterReLU && count > 0 && m < 0 ? 0 : m
    }

    /// Chooses c for this batch, updating the running statistics in training;
    /// `maximum` gives the batch maximum (`batchMaximum`), called only where needed.
    private func clipForBatch(training: Bool, maximum: () -> Float) -> Float {
        if let p = clipParameter {
            if !initialized {
                let m = maximum()
                guard training else { return m }
                p.value.data[0] = m
                initialized = true
            }
            return p.value.data[0]
        }
        if training {
            let m = maximum()
            runningClip = initialized ? momentum * runningClip + (1 - momentum) * m : m
            initialized = true
            return runningClip
        }
        return initialized ? runningClip : maximum()
    }

    private func clipForBatch(_ x: UnsafePointer<Float>, count: Int, training: Bool, afterReLU: Bool,
                              known: Float? = nil) -> Float {
        clipForBatch(training: training) { batchMaximum(x, count: count, afterReLU: afterReLU, known: known) }
    }

    public func forward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, training: Bool) {
        quantize(x, into: y, count: count, clip: clipForBatch(x, count: count, training: training, afterReLU: false))
    }

    /// y = Q(max(x, 0)) from the input x of the ReLU before this quantizer: bit for bit
    /// what `forward` gives on the ReLU's output (Q clamps below at 0 as the ReLU does,
    /// NaN stays NaN in both), without the ReLU's pass over the batch (Sequential fuses
    /// the two; issue 11). The clip statistics are those of max(x, 0).
    public func forwardAfterReLU(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, training: Bool) {
        quantize(x, into: y, count: count, clip: clipForBatch(x, count: count, training: training, afterReLU: true))
    }

    /// `forwardAfterReLU` and the 2×2 stride-2 max pooling after it in one pass (Sequential
    /// fuses relu → quantize → maxpool 2; issue 11): from the ReLU's input x [planes, h, w]
    /// (h, w even), pooled [planes, h/2, w/2] bit for bit the two forwards, and per pooled
    /// value the corner that takes its gradient backward, 4 for none (MaxPool's route,
    /// dropped where the ReLU's and the clip's mask 0 < x ≤ c stops it). The clip
    /// statistics are those of `forwardAfterReLU` (it needs the batch maximum first).
    /// Declined, with nothing done, for a learned clip (its gradient sums over full planes)
    /// or without AVX-512. `maximum`: max x ignoring NaN when the layer below reduced it
    /// on the way (Conv2D.lastOutputMaximum), saving the clip's pass over x. `codes`: the
    /// next integer layer's input codes too (`QuantKernels.quantizePool2`, planes = images ·
    /// `channels`).
    public func forwardAfterReLUPool2(_ x: UnsafePointer<Float>, planes: Int, height h: Int, width w: Int,
                                      into pooled: UnsafeMutablePointer<Float>, routes: UnsafeMutablePointer<UInt8>,
                                      training: Bool, maximum: Float? = nil, channels: Int = 1,
                                      codes: UnsafeMutablePointer<UInt8>? = nil) -> Pool2Outcome {
        guard clipParameter == nil, Tensors.Kernels.hasAVX512 else { return .declined }
        let count = planes * h * w
        guard let q = pool2Quantizer(training: training, maximum: {
            batchMaximum(x, count: count, afterReLU: true, known: maximum)
        }) else {
            Self.writeNothingPasses(pooled: pooled, routes: routes, count: planes * (h / 2) * (w / 2))
            return .pooled
        }
        let coded = QuantKernels.quantizePool2(x, planes: planes, height: h, width: w, q, into: pooled, routes: routes,
                                               channels: channels, codes: codes)
        return coded ? .pooledWithCodes : .pooled
    }

    /// The quantizer of a fused relu → quantize → maxpool 2 pass (moving-average clip only):
    /// chooses this batch's clip as `forwardAfterReLU` does, `maximum` giving max(x, 0)'s
    /// batch maximum (`batchMaximum(…, afterReLU: true)`, or the same value reduced
    /// elsewhere), and sets `lastClip`. Nil when the clip is ≤ 0 or NaN: Q is then 0
    /// everywhere and no x passes 0 < x ≤ c (`writeNothingPasses`).
    public func pool2Quantizer(training: Bool, maximum: () -> Float) -> Pool2Quantizer? {
        precondition(clipParameter == nil, "UniformActivationQuantizer.pool2Quantizer: moving-average clips only")
        let c = clipForBatch(training: training, maximum: maximum)
        lastClip = c
        return c > 0 ? Pool2Quantizer(clip: c, maxCode: maxCode) : nil
    }

    /// A pooled output of zeros whose routes take no gradient (a clip ≤ 0).
    public static func writeNothingPasses(pooled: UnsafeMutablePointer<Float>, routes: UnsafeMutablePointer<UInt8>, count: Int) {
        pooled.update(repeating: 0, count: count)
        routes.update(repeating: 4, count: count)
    }

    private func quantize(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, clip c: Float) {
        lastClip = c
        guard c > 0 else {                       // also catches NaN
            y.update(repeating: 0, count: count)
            return
        }
        let levels = Float(maxCode)
        QuantKernels.uniformQuantize(x, into: y, count: count, clip: c, inverse: levels / c, step: c / levels)
    }

    public func backward(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        let c = lastClip
        if let p = clipParameter {
            p.grad.data[0] += Float(Self.maskAndSumAbove(x, dy, dx, count: count, clip: c))
            return
        }
        Tensors.Kernels.maskInRange(x, dy, dx, count: count, lo: 0, hi: c)   // NaN x → 0, as 0 ≤ x ≤ c is false
    }

    /// The backward of `forwardAfterReLU` and of the ReLU before it, from the ReLU's
    /// input x: dx = dy · 1{0 < x ≤ c} (the ReLU's mask max(x, 0) > 0 times the clip's),
    /// bit for bit the two backward passes in turn.
    public func backwardAfterReLU(_ x: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>,
                                  into dx: UnsafeMutablePointer<Float>, count: Int) {
        let c = lastClip
        if let p = clipParameter {
            p.grad.data[0] += Float(Self.maskAndSumAbove(x, dy, dx, count: count, clip: c, afterReLU: true))
            return
        }
        QuantKernels.maskOpenClosed(x, dy, dx, count: count, hi: c)
    }

    /// dx = dy · 1{0 ≤ x ≤ c}; returns Σ dy over x ≥ c (the PACT clip gradient). With
    /// `afterReLU`, x is the ReLU's input: the same on max(x, 0), then the ReLU's mask.
    private static func maskAndSumAbove(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                        count: Int, clip c: Float, afterReLU: Bool = false) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        @inline(__always) func step(_ k: Int) -> Double {
            let input = x[k], g = dy[k]
            let v = afterReLU && input < 0 ? 0 : input
            let low = v >= 0 ? g : 0
            let masked = v <= c ? low : 0
            dx[k] = !afterReLU || input > 0 ? masked : 0
            return Double(v >= c ? g : 0)
        }
        while i + 4 <= count {
            s0 += step(i); s1 += step(i + 1); s2 += step(i + 2); s3 += step(i + 3)
            i += 4
        }
        while i < count { s0 += step(i); i += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}
