import Tensors
import Quantization

/// Applies a weighted layer's activation quantizer at the point in the network
/// where that layer's activation is complete (after its BatchNorm and nonlinearity).
/// The quantizer stays owned by the weighted layer; this node only places it.
public final class QuantizeActivation: Layer {
    public var name: String
    public unowned let owner: WeightedLayer
    /// Called after each forward with the values that entered the quantizer and what it
    /// made of them (teaching views read real activations through it); nil in training.
    public var probe: ((_ input: UnsafeBufferPointer<Float>, _ output: UnsafeBufferPointer<Float>) -> Void)?

    public init(owner: WeightedLayer) {
        self.owner = owner
        self.name = owner.name + ".act"
    }

    public var spec: String { "quantize a\(owner.activationQuantizer.precision.token)" }

    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Tensor, into y: inout Tensor, training: Bool) {
        y.reshapeForOverwrite(x.shape)
        let n = x.count
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                owner.activationQuantizer.forward(xp.baseAddress!, into: yp.baseAddress!, count: n, training: training)
                probe?(xp, UnsafeBufferPointer(yp))
            }
        }
    }

    /// Whether the last forward pass ran fused with the ReLU before this node.
    public internal(set) var lastForwardAfterReLU = false

    /// y = Q(max(x, 0)) from the input x of the ReLU before this node, in place of the
    /// ReLU's forward and this node's (bit for bit the same y; one pass over the batch
    /// instead of three: ReLU, the clip's maximum, Q). False, with nothing done, unless
    /// the quantizer is a uniform one and no probe watches (the probe is shown the
    /// ReLU's output). `Sequential` fuses ReLU–quantizer pairs through it.
    public func forwardAfterReLU(_ x: Tensor, into y: inout Tensor, training: Bool) -> Bool {
        lastForwardAfterReLU = false
        guard probe == nil, let q = owner.activationQuantizer as? UniformActivationQuantizer else { return false }
        y.reshapeForOverwrite(x.shape)
        let n = x.count
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                q.forwardAfterReLU(xp.baseAddress!, into: yp.baseAddress!, count: n, training: training)
            }
        }
        lastForwardAfterReLU = true
        return true
    }

    /// y = maxpool2(Q(max(x, 0))) (`afterReLU`, from the input x of the ReLU before this
    /// node) or maxpool2(Q(x)) (sign activations, no ReLU), in place of the ReLU's forward,
    /// this node's and `pool`'s: bit for bit the same y, the quantized full planes never
    /// written, and `pool.routes` (which corner of each window takes its gradient, the
    /// quantizer's mask included) for the backward, which `Sequential` runs as
    /// `QuantKernels.unpool2` (or `Conv2D.backwardFromRoutes`) from them. False, with
    /// nothing done, unless `fusablePool2` accepts. `maximum`: max x ignoring NaN, when the
    /// layer that wrote x reduced it on the way. `next`: the conv after the pool, which
    /// then gets its input codes from this pass when it takes them (`Conv2D.takesInputCodes`).
    public func forwardPool2(_ x: Tensor, afterReLU: Bool, pool: MaxPool, into y: inout Tensor, training: Bool,
                             maximum: Float? = nil, codesFor next: Conv2D? = nil) -> Bool {
        lastForwardAfterReLU = false
        guard let quantizer = fusablePool2(afterReLU: afterReLU, pool: pool, shape: x.shape) else { return false }
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3], pooled = planes * (h / 2) * (w / 2)
        y.reshapeForOverwrite([x.shape[0], x.shape[1], h / 2, w / 2])
        if pool.routes.count != pooled { pool.routes = [UInt8](repeating: 4, count: pooled) }
        let uniform = quantizer as? UniformActivationQuantizer
        func run(_ codes: UnsafeMutablePointer<UInt8>?) -> Pool2Outcome {
            x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
            pool.routes.withUnsafeMutableBufferPointer { rp in
                if let uniform {
                    return uniform.forwardAfterReLUPool2(xp.baseAddress!, planes: planes, height: h, width: w,
                                                         into: yp.baseAddress!, routes: rp.baseAddress!, training: training,
                                                         maximum: maximum, channels: x.shape[1], codes: codes)
                }
                return (quantizer as! BinaryActivationQuantizer).forwardPool2(
                    xp.baseAddress!, planes: planes, height: h, width: w, into: yp.baseAddress!, routes: rp.baseAddress!,
                    channels: x.shape[1], codes: codes)
            } } }
        }
        guard let next, next.takesInputCodes(from: quantizer) else { return run(nil).ran }
        var outcome = Pool2Outcome.declined
        next.receiveInputCodes(count: pooled) { codes in
            outcome = run(codes)
            guard outcome == .pooledWithCodes else { return nil }
            return uniform.map { .grid(ActivationGrid(clip: $0.lastClip, maxCode: $0.maxCode)) } ?? .sign
        }
        return outcome.ran
    }

    /// The quantizer of a fused [relu →] quantize → maxpool 2 pass over this node's input of
    /// `shape` (the ReLU's input when `afterReLU`), nil unless: no probe watches (it is shown
    /// the quantizer's full input), the quantizer is uniform with a moving-average clip
    /// (`afterReLU`) or sign (not `afterReLU`), `pool` is 2×2 stride 2 on an even plane, and
    /// the CPU has AVX-512.
    func fusablePool2(afterReLU: Bool, pool: MaxPool, shape: [Int]) -> ActivationQuantizer? {
        guard probe == nil, Kernels.hasAVX512, pool.vectorKernels, pool.window.size == 2, pool.window.stride == 2,
              shape.count == 4, shape[2] % 2 == 0, shape[3] % 2 == 0 else { return nil }
        let quantizer = owner.activationQuantizer
        if afterReLU {
            guard let uniform = quantizer as? UniformActivationQuantizer, uniform.clipParameter == nil else { return nil }
            return uniform
        }
        return quantizer is BinaryActivationQuantizer ? quantizer : nil
    }

    /// The backward of `forwardAfterReLU` and of the ReLU in one pass: dx = dy · 1{0 < x ≤ c}
    /// from the ReLU's input x (see `UniformActivationQuantizer.backwardAfterReLU`).
    public func backwardAfterReLU(input x: Tensor, gradient dy: Tensor, into dx: inout Tensor) {
        guard let q = owner.activationQuantizer as? UniformActivationQuantizer else {
            preconditionFailure("\(name): backwardAfterReLU without a uniform activation quantizer")
        }
        dx.reshapeForOverwrite(x.shape)
        let n = x.count
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dp in
                dx.data.withUnsafeMutableBufferPointer { gp in
                    q.backwardAfterReLU(xp.baseAddress!, gradient: dp.baseAddress!, into: gp.baseAddress!, count: n)
                }
            }
        }
    }

    public func backward(input x: Tensor, output y: Tensor, gradient dy: Tensor,
                         into dx: inout Tensor, needsInputGradient: Bool) {
        dx.reshapeForOverwrite(x.shape)
        let n = x.count
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dp in
                dx.data.withUnsafeMutableBufferPointer { gp in
                    owner.activationQuantizer.backward(xp.baseAddress!, gradient: dp.baseAddress!, into: gp.baseAddress!, count: n)
                }
            }
        }
    }
}
