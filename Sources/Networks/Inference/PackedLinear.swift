import CBitKernels
import Tensors
import Quantization

// Dimension legend: N batch, m images in a chunk, K filters / output features,
// C input channels, P = OH·OW output positions, R = C·KH·KW row length (dense: F).

/// A conv or dense layer of the packed engine, on one of three kernels:
///
///     float   Y[m·P, K] = cols(x)ᵀ · Q(W)ᵀ              (sgemm; float inputs: the first layer)
///     int8    Acc[m·P, K] = rows(codes x) · codes(W)ᵀ    (oneDNN u8 × s8 → s32)
///     binary  Acc[m·P, K] = XNOR-popcount(bits x, bits W) (CBitKernels, cpuid dispatch)
///
/// then the `Epilogue` (scale s_x·s_w[k] or α[k], bias, BatchNorm, ReLU, quantizer).
/// The outputs come out position-major (NHWC), the layout the next layer reads.
final class PackedLinear: InferenceStep {
    enum Kernel {
        /// Q(W) (or float W) as [K, R], R in the model's (c, ki, kj) order.
        case float([Float])
        /// Weight codes [K, R], R in the order the input codes are read: (ki, kj, c) for a
        /// conv, the input's NHWC flattening for a dense layer.
        case int8([Int8])
        /// Sign bits of a dense layer's weights in the input's bit layout (per position, C32 words).
        case binary(PackedBinaryFilters)
        /// Sign bits of a convolution's weights, run directly on the input bits.
        case binaryConvolution(BinaryConvolution)
    }

    let name: String
    /// nil for a dense layer.
    let geometry: ConvGeometry?
    let input: ActivationLayout
    let output: ActivationLayout
    let filters: Int
    let kernel: Kernel
    let epilogue: Epilogue
    let kernelName: String

    /// The float kernel of a short-row convolution on floats (a first layer), run directly.
    private let direct: DirectConvolution?
    private var scratch: [Float]
    private var cols: [Float] = [], result: [Float] = []
    private var rowsU8: [UInt8] = [], acc: [Int32] = []

    init(name: String, geometry: ConvGeometry?, input: ActivationLayout, output: ActivationLayout, filters: Int,
         kernel: Kernel, epilogue: Epilogue) {
        self.name = name; self.geometry = geometry; self.input = input; self.output = output
        self.filters = filters; self.kernel = kernel; self.epilogue = epilogue
        scratch = [Float](repeating: 0, count: filters)
        if case .float(let w) = kernel, let g = geometry, g.rows <= DirectConvolution.maxRows, case .float = input {
            direct = DirectConvolution(weights: w, filters: filters, geometry: g)
        } else {
            direct = nil
        }
        switch kernel {
        case .float where direct != nil: kernelName = "float direct conv (fma, \(DirectConvolution.levelName))"
        case .float: kernelName = "float sgemm (oneDNN)"
        case .int8: kernelName = "int8 u8×s8→s32 (oneDNN \(CPUDispatch.isaName))"
        case .binary: kernelName = "binary XNOR-popcount (\(XNORLevel.best.name))"
        case .binaryConvolution: kernelName = "binary XNOR-popcount direct conv (\(BinaryConvolution.levelName(XNORLevel.best)))"
        }
    }

    var summary: String { "\(name): \(kernelName), \(input.name) → \(output.name)" }

    /// Integer kernels are exact and the direct convolution sums each output alone; only
    /// sgemm's float sums might be blocked differently for another number of rows.
    var isPerSample: Bool {
        if case .float = kernel { return direct != nil }
        return true
    }

    /// Rows of the GEMM per output sample and their length.
    private var positions: Int { geometry.map { $0.outHeight * $0.outWidth } ?? 1 }

    /// Images per chunk: the row matrix within ~256 KiB (1 MiB for floats), as the
    /// training path's conv measured best (Conv2D.swift).
    private func chunk(_ n: Int, bytesPerImage: Int, budget: Int) -> Int {
        max(1, min(n, budget / max(1, bytesPerImage)))
    }

    func run(_ source: ActivationBuffer, batch n: Int, into out: ActivationBuffer) {
        let bitGeometry: BitGeometry? = if case .bits = output { BitGeometry(output.shape) } else { nil }
        out.withSink(output, batch: n) { sink in
            scratch.withUnsafeMutableBufferPointer { sp in
                switch kernel {
                case .float(let w): runFloat(source, w, n, sink, bitGeometry, sp.baseAddress!)
                case .int8(let w): runInt8(source, w, n, sink, bitGeometry, sp.baseAddress!)
                case .binary(let w): runBinary(source, w, n, sink, bitGeometry, sp.baseAddress!)
                case .binaryConvolution(let w): runBinaryConvolution(source, w, n, sink, bitGeometry, sp.baseAddress!)
                }
            }
        }
    }

    private func runFloat(_ source: ActivationBuffer, _ w: [Float], _ n: Int, _ sink: ActivationSink,
                          _ bg: BitGeometry?, _ v: UnsafeMutablePointer<Float>) {
        let k = filters, p = positions
        guard let g = geometry else {
            // Dense: y = bias; y += x · Q(W)ᵀ, as Dense.forward (same GEMM, same order).
            let f = input.count
            if result.count < n * k { result = [Float](repeating: 0, count: n * k) }
            let hasBias = !epilogue.bias.isEmpty
            source.floats.data.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
            result.withUnsafeMutableBufferPointer { rp in
                if hasBias {
                    for i in 0..<n { (rp.baseAddress! + i * k).update(from: epilogue.bias, count: k) }
                }
                sgemm(transB: true, m: n, n: k, k: f, a: xp.baseAddress!, lda: f, b: wp.baseAddress!, ldb: f,
                      beta: hasBias ? 1 : 0, c: rp.baseAddress!, ldc: k)
                var plain = epilogue
                plain.bias = []
                plain.finish(.float(rp.baseAddress!), ld: k, rows: n, firstRow: 0, positions: 1, bitGeometry: bg,
                             scratch: v, into: sink)
            } } }
            return
        }
        let r = g.rows, inSize = g.channels * g.height * g.width
        if let direct, let bg, epilogue.operations.isEmpty, epilogue.scale.isEmpty, epilogue.bias.count == k {
            // Sign bits straight from the accumulators (bias, ≥ 0): no float results in memory.
            source.floats.data.withUnsafeBufferPointer { xp in
            epilogue.bias.withUnsafeBufferPointer { bp in
                direct.runSigns(xp.baseAddress!, batch: n, bias: bp.baseAddress!, into: sink.halfWords!, bits: bg)
            } }
            return
        }
        if let direct, case let .codes(clip, inverse, top) = epilogue.output, epilogue.isAtMostReLU,
           epilogue.scale.isEmpty, epilogue.bias.count == k {
            // Codes straight from the accumulators (bias, clamp, round): no float results in memory.
            source.floats.data.withUnsafeBufferPointer { xp in
            epilogue.bias.withUnsafeBufferPointer { bp in
                direct.runCodes(xp.baseAddress!, batch: n, bias: bp.baseAddress!, clip: clip, inverse: inverse, top: top,
                                into: sink.codes!)
            } }
            return
        }
        if let direct {
            // Position-major [m·P, K] results, read contiguously by the epilogue.
            let m = chunk(n, bytesPerImage: 4 * k * p, budget: 1 << 18)
            if result.count < m * p * k { result = [Float](repeating: 0, count: m * p * k) }
            source.floats.data.withUnsafeBufferPointer { xp in
            result.withUnsafeMutableBufferPointer { rp in
                var start = 0
                while start < n {
                    let c = min(m, n - start)
                    direct.run(xp.baseAddress! + start * inSize, batch: c, into: rp.baseAddress!, ldo: k)
                    epilogue.finish(.float(rp.baseAddress!), ld: k, rows: c * p, firstRow: start * p, positions: p,
                                    bitGeometry: bg, scratch: v, into: sink)
                    start += c
                }
            } }
            return
        }
        let m = chunk(n, bytesPerImage: 4 * r * p, budget: 1 << 20)
        if cols.count < r * m * p { cols = [Float](repeating: 0, count: r * m * p) }
        if result.count < m * p * k { result = [Float](repeating: 0, count: m * p * k) }
        source.floats.data.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
        cols.withUnsafeMutableBufferPointer { cp in
        result.withUnsafeMutableBufferPointer { rp in
            var start = 0
            while start < n {
                let c = min(m, n - start), np = c * p
                im2col(xp.baseAddress! + start * inSize, batch: c, g, into: cp.baseAddress!)
                // [K, np] = W · cols, the float path's GEMM (Conv2D.forward): the same sums.
                // (colsᵀ · Wᵀ, position-major, ran 15–30% slower in oneDNN for these shapes.)
                sgemm(m: k, n: np, k: r, a: wp.baseAddress!, lda: r, b: cp.baseAddress!, ldb: np,
                      c: rp.baseAddress!, ldc: np)
                epilogue.finish(.float(rp.baseAddress!), ld: 1, ldk: np, rows: np, firstRow: start * p, positions: p,
                                bitGeometry: bg, scratch: v, into: sink)
                start += c
            }
        } } } }
    }

    private func runInt8(_ source: ActivationBuffer, _ w: [Int8], _ n: Int, _ sink: ActivationSink,
                         _ bg: BitGeometry?, _ v: UnsafeMutablePointer<Float>) {
        let k = filters, p = positions
        source.codes.withUnsafeBufferPointer { cp in
        w.withUnsafeBufferPointer { wp in
            guard let g = geometry else {
                let f = input.count
                if acc.count < n * k { acc = [Int32](repeating: 0, count: n * k) }
                acc.withUnsafeMutableBufferPointer { ap in
                    gemmU8S8S32(transB: true, m: n, n: k, k: f, a: cp.baseAddress!, lda: f, b: wp.baseAddress!, ldb: f,
                                c: ap.baseAddress!, ldc: k)
                    epilogue.finish(.int32(ap.baseAddress!), ld: k, rows: n, firstRow: 0, positions: 1, bitGeometry: bg,
                                    scratch: v, into: sink)
                }
                return
            }
            let r = g.rows, inSize = g.channels * g.height * g.width
            let m = chunk(n, bytesPerImage: r * p, budget: 1 << 18)
            if rowsU8.count < m * p * r { rowsU8 = [UInt8](repeating: 0, count: m * p * r) }
            if acc.count < m * p * k { acc = [Int32](repeating: 0, count: m * p * k) }
            rowsU8.withUnsafeMutableBufferPointer { rp in
            acc.withUnsafeMutableBufferPointer { ap in
                var start = 0
                while start < n {
                    let c = min(m, n - start)
                    im2row(cp.baseAddress! + start * inSize, batch: c, g, into: rp.baseAddress!)
                    gemmU8S8S32(transB: true, m: c * p, n: k, k: r, a: rp.baseAddress!, lda: r, b: wp.baseAddress!, ldb: r,
                                c: ap.baseAddress!, ldc: k)
                    epilogue.finish(.int32(ap.baseAddress!), ld: k, rows: c * p, firstRow: start * p, positions: p,
                                    bitGeometry: bg, scratch: v, into: sink)
                    start += c
                }
            } }
        } }
    }

    /// A dense layer on sign bits: each sample's bits are already a row (positions × C32 words).
    private func runBinary(_ source: ActivationBuffer, _ w: PackedBinaryFilters, _ n: Int, _ sink: ActivationSink,
                           _ bg: BitGeometry?, _ v: UnsafeMutablePointer<Float>) {
        let k = filters
        if acc.count < n * k { acc = [Int32](repeating: 0, count: n * k) }
        source.bits.withUnsafeBufferPointer { xb in
            acc.withUnsafeMutableBufferPointer { ap in
                xnorGemm(x: xb.baseAddress!, mask: nil, valid: nil, validAll: Int32(input.count), rows: n,
                         filters: w, out: ap.baseAddress!, ldo: k)
                epilogue.finish(.int32(ap.baseAddress!), ld: k, rows: n, firstRow: 0, positions: 1, bitGeometry: bg,
                                scratch: v, into: sink)
            }
        }
    }

    private func runBinaryConvolution(_ source: ActivationBuffer, _ w: BinaryConvolution, _ n: Int, _ sink: ActivationSink,
                                      _ bg: BitGeometry?, _ v: UnsafeMutablePointer<Float>) {
        let k = filters, p = positions
        let gi = BitGeometry(input.shape)
        source.bits.withUnsafeBufferPointer { xb in
        UnsafeRawPointer(xb.baseAddress!).withMemoryRebound(to: UInt32.self, capacity: 2 * xb.count) { x in
            if let bg, bg.wordsPerPosition <= 64, epilogue.operations.isEmpty,
               epilogue.scale.count == k, epilogue.bias.count == k {
                // Sign bits straight from the accumulators: no int32 results in memory.
                epilogue.scale.withUnsafeBufferPointer { sp in
                epilogue.bias.withUnsafeBufferPointer { bp in
                    w.runSigns(x, batch: n, input: gi, scale: sp.baseAddress!, bias: bp.baseAddress!,
                               into: sink.halfWords!, output: bg)
                } }
                return
            }
            let m = chunk(n, bytesPerImage: 4 * p * k, budget: 1 << 18)
            if acc.count < m * p * k { acc = [Int32](repeating: 0, count: m * p * k) }
            acc.withUnsafeMutableBufferPointer { ap in
                var start = 0
                while start < n {
                    let c = min(m, n - start)
                    w.run(x + start * 2 * gi.wordsPerSample, batch: c, input: gi, into: ap.baseAddress!, ldo: k)
                    epilogue.finish(.int32(ap.baseAddress!), ld: k, rows: c * p, firstRow: start * p, positions: p,
                                    bitGeometry: bg, scratch: v, into: sink)
                    start += c
                }
            }
        } }
    }
}
