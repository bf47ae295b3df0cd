import Tensors
import Quantization

// Dimension legend: N batch, C input channels, H×W input, K filters (output
// channels), KH×KW kernel, OH×OW output, P = OH·OW, R = C·KH·KW.
//
// Forward:  cols[R, N·P] = im2col(x);  Y[K, N·P] = Q(W)[K, R] · cols;  y = NCHW(Y) + b
// Backward: dY = KNP(dy);  dQ(W) = dY · colsᵀ;  dW += STE(dQ(W));  db += Σ dY;
//           dcols = Q(W)ᵀ · dY;  dx = col2im(dcols)
// One GEMM per pass over the whole batch keeps the matrices large (cifar3's first
// conv has R = 27, too small to run well image by image).

/// 2-D convolution, NCHW, square kernel, zero padding.
public final class Conv2D: WeightedLayer {
    public var name: String
    public let inputChannels: Int, filters: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Parameter          // [K, C, KH, KW]
    public let bias: Parameter?           // [K]
    public var weightQuantizer: WeightQuantizer = FloatWeights()
    public var activationQuantizer: ActivationQuantizer = FloatActivations()

    private var cols: [Float] = []        // [R, N·P]; reused for dcols in backward
    private var kmajor: [Float] = []      // [K, N·P]
    private var qweight: [Float] = []     // Q(W)
    private var dq: [Float] = []          // ∂L/∂Q(W)

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
        if weightQuantizer.precision == .float { return false }
        let n = weight.value.count
        if qweight.count != n { qweight = [Float](repeating: 0, count: n) }
        weight.value.data.withUnsafeBufferPointer { w in
            qweight.withUnsafeMutableBufferPointer { q in
                weightQuantizer.quantize(w.baseAddress!, into: q.baseAddress!, count: n, channels: filters, training: training)
            }
        }
        return true
    }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        let n = x.shape[0]
        let g = geometry(Array(x.shape.dropFirst()))
        let p = g.outHeight * g.outWidth, r = g.rows, np = n * p
        if cols.count != r * np { cols = [Float](repeating: 0, count: r * np) }
        if kmajor.count != filters * np { kmajor = [Float](repeating: 0, count: filters * np) }
        y.reshapeForOverwrite([n, filters, g.outHeight, g.outWidth])
        let quantized = quantizedWeights(training: training)
        x.data.withUnsafeBufferPointer { xp in
            cols.withUnsafeMutableBufferPointer { cp in
                im2col(xp.baseAddress!, batch: n, g, into: cp.baseAddress!)
            }
        }
        let wsrc = quantized ? qweight : weight.value.data
        wsrc.withUnsafeBufferPointer { wp in
            cols.withUnsafeBufferPointer { cp in
                kmajor.withUnsafeMutableBufferPointer { kp in
                    sgemm(m: filters, n: np, k: r, a: wp.baseAddress!, lda: r, b: cp.baseAddress!, ldb: np,
                          c: kp.baseAddress!, ldc: np)
                }
            }
        }
        // [K, N, P] → [N, K, P], adding the bias.
        let biasData = bias?.value.data
        kmajor.withUnsafeBufferPointer { kp in
            y.data.withUnsafeMutableBufferPointer { yp in
                for k in 0..<filters {
                    let b = biasData?[k] ?? 0
                    for i in 0..<n {
                        let src = kp.baseAddress! + k * np + i * p
                        let dst = yp.baseAddress! + (i * filters + k) * p
                        for j in 0..<p { dst[j] = src[j] + b }
                    }
                }
            }
        }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        let n = x.shape[0]
        let g = geometry(Array(x.shape.dropFirst()))
        let p = g.outHeight * g.outWidth, r = g.rows, np = n * p
        // dY: [N, K, P] → [K, N·P]; bias gradient on the way.
        dy.data.withUnsafeBufferPointer { dp in
            kmajor.withUnsafeMutableBufferPointer { kp in
                for k in 0..<filters {
                    var s: Float = 0
                    for i in 0..<n {
                        let src = dp.baseAddress! + (i * filters + k) * p
                        let dst = kp.baseAddress! + k * np + i * p
                        for j in 0..<p { dst[j] = src[j]; s += src[j] }
                    }
                    if let bias { bias.grad.data[k] += s }
                }
            }
        }
        // Weight gradient: ∂L/∂Q(W) = dY · colsᵀ, then through the STE.
        let quantized = weightQuantizer.precision != .float
        kmajor.withUnsafeBufferPointer { kp in
            cols.withUnsafeBufferPointer { cp in
                if quantized {
                    if dq.count != filters * r { dq = [Float](repeating: 0, count: filters * r) }
                    dq.withUnsafeMutableBufferPointer { qp in
                        sgemm(transB: true, m: filters, n: r, k: np, a: kp.baseAddress!, lda: np,
                              b: cp.baseAddress!, ldb: np, c: qp.baseAddress!, ldc: r)
                    }
                } else {
                    weight.grad.data.withUnsafeMutableBufferPointer { gp in
                        sgemm(transB: true, m: filters, n: r, k: np, a: kp.baseAddress!, lda: np,
                              b: cp.baseAddress!, ldb: np, beta: 1, c: gp.baseAddress!, ldc: r)
                    }
                }
            }
        }
        if quantized {
            weight.value.data.withUnsafeBufferPointer { w in
                dq.withUnsafeBufferPointer { q in
                    weight.grad.data.withUnsafeMutableBufferPointer { gp in
                        weightQuantizer.backward(w.baseAddress!, gradient: q.baseAddress!, addInto: gp.baseAddress!,
                                                 count: filters * r, channels: filters)
                    }
                }
            }
        }
        guard needsInputGradient else { return }
        // dcols = Q(W)ᵀ · dY (reusing the column buffer), then fold back.
        let wsrc = quantized ? qweight : weight.value.data
        wsrc.withUnsafeBufferPointer { wp in
            kmajor.withUnsafeBufferPointer { kp in
                cols.withUnsafeMutableBufferPointer { cp in
                    sgemm(transA: true, m: r, n: np, k: filters, a: wp.baseAddress!, lda: r,
                          b: kp.baseAddress!, ldb: np, c: cp.baseAddress!, ldc: np)
                }
            }
        }
        dx.reshapeForOverwrite(x.shape)
        dx.fill(0)
        cols.withUnsafeBufferPointer { cp in
            dx.data.withUnsafeMutableBufferPointer { dp in
                col2im(cp.baseAddress!, batch: n, g, into: dp.baseAddress!)
            }
        }
    }
}
