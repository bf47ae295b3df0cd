import Tensors
import Quantization
import CTrainKernels

// Dimension legend: N batch, C input channels, H×W input, K filters (output
// channels), KH×KW kernel, OH×OW output, P = OH·OW, R = C·KH·KW.
//
// Forward:  cols[R, N·P] = im2col(x);  Y[K, N·P] = Q(W)[K, R] · cols;  y = NCHW(Y) + b
// Backward: dY = KNP(dy);  dQ(W) = dY · colsᵀ;  dW += STE(dQ(W));  db += Σ dY;
//           dcols = Q(W)ᵀ · dY;  dx = col2im(dcols)
// One GEMM per pass over the whole batch keeps the matrices large (cifar3's first
// conv has R = 27, too small to run well image by image).
// A first layer (stride 1, 'same', 3×3 / 5×5, ≤ 4 float channels) skips the columns:
// Y and dW come straight from the padded image (`FirstLayerConvolution`; Y with the
// GEMM's bits, dW in its own order), and `forward` writes y = NCHW(Y) + b (and the
// batch maximum) in that same pass, without Y.

/// 2-D convolution, NCHW, square kernel, zero padding.
public final class Conv2D: WeightedLayer {
    public var name: String
    public let inputChannels: Int, filters: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Parameter          // [K, C, KH, KW]
    public let bias: Parameter?           // [K]
    public var weightQuantizer: WeightQuantizer = FloatWeights()
    public var activationQuantizer: ActivationQuantizer = FloatActivations()

    var cols: [Float] = []                // [R, N·P]; reused for dcols in backward
    var kmajor: [Float] = []              // [K, N·P]
    var qweight: [Float] = []             // Q(W)
    var dq: [Float] = []                  // ∂L/∂Q(W)
    /// Quantizes ∂L/∂y for a `g8` / `gbf16` backward (Conv2D+GradientPrecision.swift).
    public var gradientQuantizer = GradientQuantizer(.float)
    let lowPrecision = LowPrecisionScratch()
    /// Which GEMMs of the last `g8` backward ran in integers (tests, bench).
    public internal(set) var lastBackwardInteger = (weights: false, input: false)

    /// The activation quantizer (uniform or sign) whose codes this layer's input carries
    /// (set by `linkIntegerInputs`); with ≤ 8-bit weights the forward pass runs in integers.
    public weak var integerInput: ActivationQuantizer?
    /// Whether the integer forward may be used (tests and bench compare both paths).
    public var integerForward = true
    /// Whether a float weight gradient of a covered first-layer shape (`FirstLayerConvolution`)
    /// is computed directly (AVX-512 only) instead of by im2col + sgemm (tests compare both).
    public var directWeightGradient = true
    /// Whether a float forward of a covered first-layer shape runs the direct convolution
    /// (`FirstLayerConvolution.forward`: the same bits; AVX-512 only) instead of im2col +
    /// sgemm (tests).
    public var directForward = true
    /// Whether the last backward's weight gradient took the direct form (tests, bench).
    public internal(set) var lastWeightGradientWasDirect = false
    /// Whether the last forward pass ran in integers.
    public internal(set) var lastForwardWasInteger = false
    /// Set by `Sequential` when an activation quantizer's clip reads this layer's output
    /// (a fused quantize-pool run above it): `forward` then also reduces its maximum.
    var reducesOutputMaximum = false
    /// The largest value of the last forward's output, NaN ignored (−∞ when none), when
    /// `reducesOutputMaximum` and the CPU has AVX-512; else nil. The clip's separate pass
    /// over the output (`ql_maximum_avx512`, 2.3 % of cifar3 w8a8 training, perf) is then
    /// not needed (`UniformActivationQuantizer.forwardAfterReLUPool2`).
    private(set) var lastOutputMaximum: Float?
    let integerWeights = IntegerWeights()
    var codes: [UInt8] = []               // input codes, NHWC
    var rowsU8: [UInt8] = []              // [m·P, R], R = (ki, kj, c)
    /// The input grid of the last integer forward (its codes are in `codes`); nil
    /// after a forward on sign codes (x = u − 1, not step · u).
    private(set) var lastGrid: ActivationGrid?
    var acc: [Int32] = []                 // [m·P, K] (the whole batch's for a fused quantize-pool)
    /// Input codes the layer below wrote for the next forward (`receiveInputCodes`), and what they stand for.
    var preloadedCodes: IntegerInput?
    /// Whether the last integer forward took its input codes from the layer below (tests).
    var lastInputCodesPreloaded = false

    /// Wraps given tensors: weight [K, C, KH, KW] (KH = KW), bias [K] or nil.
    public init(name: String = "conv", weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) {
        precondition(weight.rank == 4 && weight.shape[2] == weight.shape[3], "Conv2D: weight must be [K, C, k, k], got \(weight.shape)")
        precondition(bias == nil || bias!.shape == [weight.shape[0]], "Conv2D: bias must be [\(weight.shape[0])]")
        precondition(stride >= 1 && padding >= 0, "Conv2D: stride ≥ 1 and padding ≥ 0")
        self.name = name
        filters = weight.shape[0]; inputChannels = weight.shape[1]; kernel = weight.shape[2]
        self.stride = stride; self.padding = padding
        self.weight = Parameter(name: name + ".weight", value: weight)
        self.bias = bias.map { Parameter(name: name + ".bias", value: $0, decays: false) }
    }

    /// He-normal initialised weights (std √(2/fan_in)), zero bias.
    public convenience init(name: String = "conv", inputChannels: Int, filters: Int, kernel: Int,
                            stride: Int = 1, padding: Int = 0, useBias: Bool = true, rng: inout SplitMix64) {
        let w = Initializer.heNormal(shape: [filters, inputChannels, kernel, kernel],
                                     fanIn: inputChannels * kernel * kernel, rng: &rng)
        self.init(name: name, weight: w, bias: useBias ? Tensor(zeros: [filters]) : nil, stride: stride, padding: padding)
    }

    public var spec: String {
        var s = "conv \(filters) k\(kernel)"
        if stride != 1 { s += " s\(stride)" }
        if padding != kernel / 2 { s += " p\(padding)" }
        if bias == nil { s += " nobias" }
        return s
    }
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
    public var outputChannels: Int { filters }

    func geometry(_ input: [Int]) -> ConvGeometry {
        ConvGeometry(channels: input[0], height: input[1], width: input[2],
                     kernelH: kernel, kernelW: kernel, stride: stride, padding: padding)
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3 else {
            throw ModelError("\(name) (\(spec)): expects an image input C×H×W, got \(shapeText(input))")
        }
        guard input[0] == inputChannels else {
            throw ModelError("\(name) (\(spec)): expects \(inputChannels) input channels, got \(shapeText(input))")
        }
        let g = geometry(input)
        guard g.outHeight >= 1, g.outWidth >= 1 else {
            throw ModelError("\(name) (\(spec)): kernel \(kernel) with padding \(padding) does not fit input \(shapeText(input))")
        }
        return [filters, g.outHeight, g.outWidth]
    }

    public func macs(inputShape: [Int]) -> Int {
        let g = geometry(inputShape)
        return filters * g.outHeight * g.outWidth * g.rows
    }

    /// Q(W) into `qweight` (skipped for float weights).
    private func quantizedWeights(training: Bool) -> Bool {
        quantizeWeights(weight, with: weightQuantizer, channels: filters, training: training, into: &qweight)
    }

    /// Images per GEMM: as many as keep the column matrix within ~1 MiB, so it stays
    /// in the core's L2 between im2col and the GEMM. Whole-batch columns (18 MB for
    /// cifar3's conv2 at batch 64) made training memory-bound: two trials side by side
    /// ran no faster than one (bench, EPYC, 2 cores).
    func chunkSize(batch n: Int, rows r: Int, plane p: Int) -> Int {
        max(1, min(n, (1 << 18) / max(1, r * p)))
    }

    /// Sizes `cols` and `kmajor` for a batch of `n` (backward reuses them).
    func reserveColumns(batch n: Int, _ g: ConvGeometry) {
        let p = g.outHeight * g.outWidth, r = g.rows
        let chunk = chunkSize(batch: n, rows: r, plane: p)
        if cols.count < r * chunk * p { cols = [Float](repeating: 0, count: r * chunk * p) }
        if kmajor.count < filters * chunk * p { kmajor = [Float](repeating: 0, count: filters * chunk * p) }
    }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        var none = Tensor(zeros: [0])
        _ = forward(x, into: &y, training: training, quantPool: nil, pooled: &none)
    }

    /// `forward`, and with `quantPool` the [relu →] quantize → maxpool 2 run above this
    /// layer in its integer forward's epilogue, into `pooled` (Conv2D+IntegerForward.swift);
    /// true when the run ran (y then only shaped), false when only this layer's forward did.
    func forward(_ x: Tensor, into y: inout Tensor, training: Bool, quantPool: IntegerQuantPool?,
                 pooled: inout Tensor) -> Bool {
        let n = x.shape[0]
        let g = geometry(Array(x.shape.dropFirst()))
        let p = g.outHeight * g.outWidth
        reserveColumns(batch: n, g)
        y.reshapeForOverwrite([n, filters, g.outHeight, g.outWidth])
        let quantized = quantizedWeights(training: training)
        lastForwardWasInteger = false
        lastOutputMaximum = nil
        let preloaded = preloadedCodes
        preloadedCodes = nil
        lastInputCodesPreloaded = false
        var top = -Float.infinity
        let reduces = reducesOutputMaximum && Kernels.hasAVX512
        defer { if reduces { lastOutputMaximum = top } }
        if quantized, integerForward,
           let input = IntegerInput(integerInput, weightPrecision: weightQuantizer.precision, rowLength: g.rows),
           let ran = withUnsafeMutablePointer(to: &top, {
               integerForward(x, into: &y, input: input, preloaded: preloaded, g, maximum: reduces ? $0 : nil,
                              quantPool: quantPool, pooled: &pooled, training: training)
           }) {
            lastForwardWasInteger = true
            lastGrid = input.grid
            return ran
        }
        let biasData = bias?.value.data ?? []
        let weights = quantized ? qweight : weight.value.data
        if usesDirectForm(g, switchedOn: directForward) {
            withUnsafeMutablePointer(to: &top) {
                directForwardChunks(x, weights: weights, bias: bias == nil ? nil : biasData, g, into: &y,
                                    maximum: reduces ? $0 : nil)
            }
            return false
        }
        biasData.withUnsafeBufferPointer { bp in
        y.data.withUnsafeMutableBufferPointer { yp in
            floatForwardChunks(x, weights: weights, g) { kmajor, start, m in
                // [K, m, P] → [m, K, P], adding the bias (nil: + 0).
                if reduces {
                    ql_conv_scatter_bias_max_avx512(kmajor, m, filters, p, bias == nil ? nil : bp.baseAddress,
                                                    yp.baseAddress! + start * filters * p, &top)
                } else {
                    ql_conv_scatter_bias(kmajor, m, filters, p, bias == nil ? nil : bp.baseAddress, yp.baseAddress! + start * filters * p)
                }
            }
        } }
        return false
    }

    /// The float forward's GEMMs, chunk by chunk: columns of `chunkSize` images, then
    /// Y[K, m·P] = W · cols into `kmajor`, handed to `epilogue(kmajor, first image, m)`.
    /// A covered first layer computes Y directly, with the same bits (`directForward`).
    func floatForwardChunks(_ x: Tensor, weights: [Float], _ g: ConvGeometry,
                            epilogue: (UnsafePointer<Float>, Int, Int) -> Void) {
        let n = x.shape[0], p = g.outHeight * g.outWidth, r = g.rows
        let chunk = chunkSize(batch: n, rows: r, plane: p)
        let inSize = g.channels * g.height * g.width
        let direct = usesDirectForm(g, switchedOn: directForward)
        if direct { reserveDirectScratch(g, nhwc: false) }
        x.data.withUnsafeBufferPointer { xp in
        weights.withUnsafeBufferPointer { wp in
        cols.withUnsafeMutableBufferPointer { cp in
        kmajor.withUnsafeMutableBufferPointer { kp in
        lowPrecision.paddedImage.withUnsafeMutableBufferPointer { pad in
            var start = 0
            while start < n {
                let m = min(chunk, n - start), np = m * p
                if direct {
                    FirstLayerConvolution.forward(xp.baseAddress! + start * inSize, images: m, g, weights: wp.baseAddress!,
                                                  filters: filters, scratch: pad.baseAddress!, into: kp.baseAddress!)
                } else {
                    im2col(xp.baseAddress! + start * inSize, batch: m, g, into: cp.baseAddress!)
                    sgemm(m: filters, n: np, k: r, a: wp.baseAddress!, lda: r, b: cp.baseAddress!, ldb: np,
                          c: kp.baseAddress!, ldc: np)
                }
                epilogue(kp.baseAddress!, start, m)
                start += m
            }
        } } } } }
    }

    /// A covered first layer's float forward straight into y [N, K, OH, OW] with the bias,
    /// and with `maximum` the running maximum, chunk by chunk as `floatForwardChunks` +
    /// `ql_conv_scatter_bias_max_avx512` (the same chunks: the same bits, ±0 included);
    /// no K-major pass (2.7 % of a cifar3 w8a8g8 step, perf).
    func directForwardChunks(_ x: Tensor, weights: [Float], bias: [Float]?, _ g: ConvGeometry, into y: inout Tensor,
                             maximum: UnsafeMutablePointer<Float>?) {
        let n = x.shape[0], p = g.outHeight * g.outWidth
        let chunk = chunkSize(batch: n, rows: g.rows, plane: p)
        let inSize = g.channels * g.height * g.width
        reserveDirectScratch(g, nhwc: false)
        x.data.withUnsafeBufferPointer { xp in
        weights.withUnsafeBufferPointer { wp in
        (bias ?? []).withUnsafeBufferPointer { bp in
        y.data.withUnsafeMutableBufferPointer { yp in
        lowPrecision.paddedImage.withUnsafeMutableBufferPointer { pad in
            var start = 0
            while start < n {
                let m = min(chunk, n - start)
                FirstLayerConvolution.forward(xp.baseAddress! + start * inSize, images: m, g, weights: wp.baseAddress!,
                                              filters: filters, bias: bias == nil ? nil : bp.baseAddress, scratch: pad.baseAddress!,
                                              into: yp.baseAddress! + start * filters * p, maximum: maximum)
                start += m
            }
        } } } } }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        if gradientQuantizer.precision != .float {
            lowPrecisionBackward(input: x, gradient: dy, into: &dx, needsInputGradient: needsInputGradient)
            return
        }
        let g = geometry(Array(x.shape.dropFirst()))
        let p = g.outHeight * g.outWidth
        dy.data.withUnsafeBufferPointer { dp in
            floatBackward(input: x, into: &dx, needsInputGradient: needsInputGradient) { kmajor, start, m, biasGrad in
                // dY chunk: [m, K, P] → [K, m·P]; bias gradient on the way (its serial
                // sums, eight channels side by side: the Swift loop was 3.6% of cifar3
                // fp32 training, perf, bound by one add after another).
                ql_conv_gather_dy(dp.baseAddress! + start * filters * p, m, filters, p, kmajor, biasGrad)
            }
        }
    }

    /// The float backward's GEMMs, chunk by chunk: `gatherDy(kmajor, first image, m, biasGrad)`
    /// writes the chunk's dY [K, m·P] into `kmajor` and adds its sums into `biasGrad` [K];
    /// then ∂L/∂Q(W) += dY · colsᵀ and, when needed, dx = col2im(Q(W)ᵀ · dY).
    func floatBackward(input x: Tensor, into dx: inout Tensor, needsInputGradient: Bool,
                       gatherDy: (UnsafeMutablePointer<Float>, Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let n = x.shape[0]
        let g = geometry(Array(x.shape.dropFirst()))
        let p = g.outHeight * g.outWidth, r = g.rows
        let chunk = chunkSize(batch: n, rows: r, plane: p)
        let inSize = g.channels * g.height * g.width
        let quantized = weightQuantizer.transformsWeights
        if quantized && dq.count != filters * r { dq = [Float](repeating: 0, count: filters * r) }
        if quantized { dq.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        if needsInputGradient { dx.reshapeForOverwrite(x.shape) }   // every chunk's col2im overwrites its images
        let wsrc = quantized ? qweight : weight.value.data
        let direct = usesDirectWeightGradient(g)
        lastWeightGradientWasDirect = direct
        if direct { reserveDirectScratch(g, nhwc: true) }
        var biasGrad = [Float](repeating: 0, count: filters)
        // Hand the buffer to `target` without a copy (a `dq` still held by the layer was
        // copied on the first write: 372 KB a cifar3 step, perf: memmove under floatBackward).
        var target: [Float] = []
        if quantized { swap(&target, &dq) } else { swap(&target, &weight.grad.data) }
        var dxData = needsInputGradient ? dx.data : []
        if needsInputGradient { dx.data = [] }
        x.data.withUnsafeBufferPointer { xp in
        wsrc.withUnsafeBufferPointer { wp in
        cols.withUnsafeMutableBufferPointer { cp in
        kmajor.withUnsafeMutableBufferPointer { kp in
        target.withUnsafeMutableBufferPointer { tp in
        dxData.withUnsafeMutableBufferPointer { dxp in
        biasGrad.withUnsafeMutableBufferPointer { bg in
            var start = 0
            while start < n {
                let m = min(chunk, n - start), np = m * p
                gatherDy(kp.baseAddress!, start, m, bg.baseAddress!)
                if direct {
                    // ∂L/∂Q(W) += the direct form's sums, image by image, its dY made NHWC
                    // (an L2-sized [P, K] block: the chunk's transpose ran from memory).
                    lowPrecision.floatColumns.withUnsafeMutableBufferPointer { nhwc in
                        for i in 0..<m {
                            FirstLayerConvolution.transpose(kp.baseAddress! + i * p, rows: filters, columns: p, ld: np,
                                                           into: nhwc.baseAddress!)
                            directWeightGradient(xp.baseAddress! + (start + i) * inSize, images: 1, g, dy: nhwc.baseAddress!,
                                                 into: tp.baseAddress!)
                        }
                    }
                } else {
                    // Columns again (cheaper than keeping the batch's: they are L2-sized).
                    im2col(xp.baseAddress! + start * inSize, batch: m, g, into: cp.baseAddress!)
                    // ∂L/∂Q(W) += dY · colsᵀ
                    sgemm(transB: true, m: filters, n: r, k: np, a: kp.baseAddress!, lda: np,
                          b: cp.baseAddress!, ldb: np, beta: 1, c: tp.baseAddress!, ldc: r)
                }
                if needsInputGradient {
                    // dcols = Q(W)ᵀ · dY, folded back into dx.
                    sgemm(transA: true, m: r, n: np, k: filters, a: wp.baseAddress!, lda: r,
                          b: kp.baseAddress!, ldb: np, c: cp.baseAddress!, ldc: np)
                    col2im(cp.baseAddress!, batch: m, g, into: dxp.baseAddress! + start * inSize, overwrite: true)
                }
                start += m
            }
        } } } } } } }
        if quantized { dq = target } else { weight.grad.data = target }
        if needsInputGradient { dx.data = dxData }
        if let bias { for k in 0..<filters { bias.grad.data[k] += biasGrad[k] } }
        if quantized { addStraightThrough(dq, of: weightQuantizer, into: weight, channels: filters) }
    }

    /// Whether this backward's float weight gradient takes the direct form: a covered
    /// geometry (a first layer: stride 1, 'same', 3×3 or 5×5, ≤ 4 channels), the switch on,
    /// and AVX-512 (the portable form, scalar fmaf calls, is the tests' reference: in
    /// training it would be far slower than the GEMM).
    func usesDirectWeightGradient(_ g: ConvGeometry) -> Bool {
        usesDirectForm(g, switchedOn: directWeightGradient)
    }

    /// A direct first-layer form runs when its switch is on, the CPU has AVX-512 and the
    /// geometry is covered (shared by the forward and the weight gradient).
    private func usesDirectForm(_ g: ConvGeometry, switchedOn: Bool) -> Bool {
        switchedOn && Kernels.hasAVX512 && FirstLayerConvolution.covers(g)
    }

    /// Sizes the direct weight gradient's padded image and, with `nhwc`, one image's NHWC
    /// dY (`lowPrecision.floatColumns`, which the float path does not otherwise use).
    func reserveDirectScratch(_ g: ConvGeometry, nhwc: Bool) {
        let s = lowPrecision, p = g.outHeight * g.outWidth
        if s.paddedImage.count < FirstLayerConvolution.scratchCount(g) {
            s.paddedImage = [Float](repeating: 0, count: FirstLayerConvolution.scratchCount(g))
        }
        if nhwc && s.floatColumns.count < p * filters { s.floatColumns = [Float](repeating: 0, count: p * filters) }
    }

    /// dQ(W) (`dw`, [K, C·k·k]) += the direct weight gradient of m images from NHWC dY [m·P, K].
    func directWeightGradient(_ x: UnsafePointer<Float>, images m: Int, _ g: ConvGeometry, dy: UnsafePointer<Float>,
                              into dw: UnsafeMutablePointer<Float>) {
        lowPrecision.paddedImage.withUnsafeMutableBufferPointer { pad in
            FirstLayerConvolution.accumulateWeightGradient(x, images: m, g, dy: dy, filters: filters, scratch: pad.baseAddress!, into: dw)
        }
    }
}
