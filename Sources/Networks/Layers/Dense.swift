import Tensors
import Quantization

/// Fully connected layer: y[N, out] = x[N, in] · Q(W)ᵀ + b, with W [out, in].
/// Any per-sample input shape is read as a flat vector of `in` features.
public final class Dense: WeightedLayer {
    public var name: String
    public let inputFeatures: Int, outputFeatures: Int
    public let weight: Parameter          // [out, in]
    public let bias: Parameter?           // [out]
    public var weightQuantizer: WeightQuantizer = FloatWeights()
    public var activationQuantizer: ActivationQuantizer = FloatActivations()
    var qweight: [Float] = []
    var dq: [Float] = []
    /// Quantizes ∂L/∂y for a `g8` / `gbf16` backward (Dense+GradientPrecision.swift).
    public var gradientQuantizer = GradientQuantizer(.float)
    let lowPrecision = LowPrecisionScratch()
    /// Which GEMMs of the last `g8` backward ran in integers (tests, bench).
    public internal(set) var lastBackwardInteger = (weights: false, input: false)

    /// The activation quantizer (uniform or sign) whose codes this layer's input carries
    /// (set by `linkIntegerInputs`); with ≤ 8-bit weights the forward pass runs in integers.
    public weak var integerInput: ActivationQuantizer?
    /// Whether the integer forward may be used (tests and bench compare both paths).
    public var integerForward = true
    /// Whether the last forward pass ran in integers.
    public private(set) var lastForwardWasInteger = false
    /// Codes of Q(W) from the last integer forward (its `g8` backward reuses them).
    let integerWeights = IntegerWeights()
    var codes: [UInt8] = []               // [N, in]
    /// The input grid of the last integer forward (its codes are in `codes`); nil
    /// after a forward on sign codes (x = u − 1, not step · u).
    private(set) var lastGrid: ActivationGrid?
    private var acc: [Int32] = []         // [N, out]

    /// Wraps given tensors: weight [out, in], bias [out] or nil.
    public init(name: String = "dense", weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "Dense: weight must be [out, in], got \(weight.shape)")
        precondition(bias == nil || bias!.shape == [weight.shape[0]], "Dense: bias must be [\(weight.shape[0])]")
        self.name = name
        outputFeatures = weight.shape[0]; inputFeatures = weight.shape[1]
        self.weight = Parameter(name: name + ".weight", value: weight)
        self.bias = bias.map { Parameter(name: name + ".bias", value: $0, decays: false) }
    }

    /// He-normal weights (std √(2/in)), zero bias.
    public convenience init(name: String = "dense", inputFeatures: Int, outputFeatures: Int, useBias: Bool = true,
                            rng: inout SplitMix64) {
        let w = Initializer.heNormal(shape: [outputFeatures, inputFeatures], fanIn: inputFeatures, rng: &rng)
        self.init(name: name, weight: w, bias: useBias ? Tensor(zeros: [outputFeatures]) : nil)
    }

    public var spec: String { "dense \(outputFeatures)" + (bias == nil ? " nobias" : "") }
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public var outputChannels: Int { outputFeatures }

    public func outputShape(for input: [Int]) throws -> [Int] {
        let features = input.reduce(1, *)
        guard features == inputFeatures else {
            throw ModelError("\(name) (\(spec)): expects \(inputFeatures) input features, got \(shapeText(input)) = \(features)")
        }
        return [outputFeatures]
    }

    public func macs(inputShape: [Int]) -> Int { inputFeatures * outputFeatures }

    /// Q(W) into `qweight` (skipped for float weights).
    private func quantizedWeights(training: Bool) -> Bool {
        quantizeWeights(weight, with: weightQuantizer, channels: outputFeatures, training: training, into: &qweight)
    }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        let n = x.shape[0]
        y.reshapeForOverwrite([n, outputFeatures])
        let quantized = quantizedWeights(training: training)
        lastForwardWasInteger = false
        if quantized, integerForward,
           let input = IntegerInput(integerInput, weightPrecision: weightQuantizer.precision, rowLength: inputFeatures),
           integerForward(x, into: &y, input: input) {
            lastForwardWasInteger = true
            lastGrid = input.grid
            return
        }
        let wsrc = quantized ? qweight : weight.value.data
        if let bias {
            bias.value.data.withUnsafeBufferPointer { bp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    for i in 0..<n { (yp.baseAddress! + i * outputFeatures).update(from: bp.baseAddress!, count: outputFeatures) }
                }
            }
        }
        x.data.withUnsafeBufferPointer { xp in
            wsrc.withUnsafeBufferPointer { wp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    sgemm(transB: true, m: n, n: outputFeatures, k: inputFeatures, a: xp.baseAddress!, lda: inputFeatures,
                          b: wp.baseAddress!, ldb: inputFeatures, beta: bias == nil ? 0 : 1,
                          c: yp.baseAddress!, ldc: outputFeatures)
                }
            }
        }
    }

    /// y = (s_x·s_w[o]) · (codes(x) · codes(W)ᵀ − offset[o]) + b through `gemmU8S8S32`
    /// (offset: the row sums of codes(W) for sign inputs, else 0; see IntegerForward.swift).
    /// False when an input or weight value is off its grid.
    private func integerForward(_ x: Tensor, into y: inout Tensor, input: IntegerInput) -> Bool {
        let n = x.shape[0], k = inputFeatures, o = outputFeatures
        let loaded = qweight.withUnsafeBufferPointer {
            integerWeights.load($0.baseAddress!, rows: o, channels: k, kernel: 1, scales: weightQuantizer.scales,
                                rowSums: input.isSign)
        }
        guard loaded else { return false }
        if codes.count < n * k { codes = [UInt8](repeating: 0, count: n * k) }
        if acc.count < n * o { acc = [Int32](repeating: 0, count: n * o) }
        let onGrid = x.data.withUnsafeBufferPointer { xp in
            codes.withUnsafeMutableBufferPointer { input.codes(xp.baseAddress!, count: n * k, into: $0.baseAddress!) }
        }
        guard onGrid else { return false }
        integerWeights.setScales(step: input.step, bias: bias?.value.data)
        let sign = input.isSign
        codes.withUnsafeBufferPointer { cp in
        integerWeights.codes.withUnsafeBufferPointer { wp in
        integerWeights.scaled.withUnsafeBufferPointer { sp in
        integerWeights.bias.withUnsafeBufferPointer { bp in
        integerWeights.rowSums.withUnsafeBufferPointer { op in
        acc.withUnsafeMutableBufferPointer { ap in
        y.data.withUnsafeMutableBufferPointer { yp in
            gemmU8S8S32(transB: true, m: n, n: o, k: k, a: cp.baseAddress!, lda: k, b: wp.baseAddress!, ldb: k,
                        c: ap.baseAddress!, ldc: o)
            QuantKernels.epilogueRows(ap.baseAddress!, rows: n, columns: o, scale: sp.baseAddress!, bias: bp.baseAddress!,
                                      offset: sign ? op.baseAddress! : nil, into: yp.baseAddress!)
        } } } } } } }
        return true
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        if gradientQuantizer.precision != .float {
            lowPrecisionBackward(input: x, gradient: dy, into: &dx, needsInputGradient: needsInputGradient)
            return
        }
        let n = x.shape[0]
        if let bias {
            dy.data.withUnsafeBufferPointer { dp in
                bias.grad.data.withUnsafeMutableBufferPointer { bp in
                    for i in 0..<n {
                        let row = dp.baseAddress! + i * outputFeatures
                        for o in 0..<outputFeatures { bp[o] += row[o] }
                    }
                }
            }
        }
        let quantized = weightQuantizer.transformsWeights
        if quantized && dq.count != weight.value.count { dq = [Float](repeating: 0, count: weight.value.count) }
        dy.data.withUnsafeBufferPointer { dp in
            x.data.withUnsafeBufferPointer { xp in
                if quantized {
                    dq.withUnsafeMutableBufferPointer { qp in
                        sgemm(transA: true, m: outputFeatures, n: inputFeatures, k: n, a: dp.baseAddress!, lda: outputFeatures,
                              b: xp.baseAddress!, ldb: inputFeatures, c: qp.baseAddress!, ldc: inputFeatures)
                    }
                } else {
                    weight.grad.data.withUnsafeMutableBufferPointer { gp in
                        sgemm(transA: true, m: outputFeatures, n: inputFeatures, k: n, a: dp.baseAddress!, lda: outputFeatures,
                              b: xp.baseAddress!, ldb: inputFeatures, beta: 1, c: gp.baseAddress!, ldc: inputFeatures)
                    }
                }
            }
        }
        if quantized { addStraightThrough(dq, of: weightQuantizer, into: weight, channels: outputFeatures) }
        guard needsInputGradient else { return }
        dx.reshapeForOverwrite(x.shape)
        let wsrc = quantized ? qweight : weight.value.data
        dy.data.withUnsafeBufferPointer { dp in
            wsrc.withUnsafeBufferPointer { wp in
                dx.data.withUnsafeMutableBufferPointer { xp in
                    sgemm(m: n, n: inputFeatures, k: outputFeatures, a: dp.baseAddress!, lda: outputFeatures,
                          b: wp.baseAddress!, ldb: inputFeatures, c: xp.baseAddress!, ldc: inputFeatures)
                }
            }
        }
    }
}
