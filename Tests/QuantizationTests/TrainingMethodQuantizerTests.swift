import Testing
import Tensors
@testable import Quantization

/// ProxConnect's proximal map, smart ternary quantization's regularizer and the pruning mask
/// against hand-computed values and finite differences (issue 16, second half).
struct TrainingMethodQuantizerTests {
    // MARK: ProxConnect

    /// P_ρ at given points, by hand: binary clamp((1+ρ)θ, −1, 1); ternary between 0 and 1
    /// clamp(½ + (1+ρ)(θ − ½), 0, 1), odd.
    @Test func proximalMapAtGivenPoints() {
        typealias P = ProxWeightQuantizer
        // ρ = 0: the identity on [−1, 1], clipped outside.
        #expect(P.prox(0.3, rho: 0, levels: .binary) == 0.3)
        #expect(P.prox(-1.7, rho: 0, levels: .binary) == -1)
        // ρ = 1: slope 2. 0.3 → 0.6, −0.25 → −0.5, 0.6 → 1 (clamped).
        #expect(P.prox(0.3, rho: 1, levels: .binary) == 0.6)
        #expect(P.prox(-0.25, rho: 1, levels: .binary) == -0.5)
        #expect(P.prox(0.6, rho: 1, levels: .binary) == 1)
        // Ternary, ρ = 3: 0.55 → ½ + 4·0.05 = 0.7; 0.4 → ½ − 0.4 = 0.1; 0.3 → 0 (clamped); −0.55 → −0.7.
        assertClose([P.prox(0.55, rho: 3, levels: .ternary), P.prox(0.4, rho: 3, levels: .ternary),
                     P.prox(0.3, rho: 3, levels: .ternary), P.prox(-0.55, rho: 3, levels: .ternary)],
                    [0.7, 0.1, 0, -0.7], rtol: 1e-6, atol: 1e-7)
        // ρ = ∞: the projection onto the levels.
        #expect(P.prox(0, rho: .infinity, levels: .binary) == 1)
        #expect(P.prox(-0.01, rho: .infinity, levels: .binary) == -1)
        #expect(P.prox(0.5, rho: .infinity, levels: .ternary) == 0)
        #expect(P.prox(0.51, rho: .infinity, levels: .ternary) == 1)
        #expect(P.prox(-3, rho: .infinity, levels: .ternary) == -1)
    }

    /// P_ρ is the proximal map of r_ρ: a brute-force argmin over a fine grid of w ∈ [−1, 1] of
    /// r_ρ(w) + ½(w − θ)² lands on P_ρ(θ).
    @Test func proximalMapIsTheArgminOfItsRegularizer() {
        for levels in [ProxWeightQuantizer.Levels.binary, .ternary] {
            let q: [Double] = levels == .binary ? [-1, 1] : [-1, 0, 1]
            for rho in [0.0, 0.5, 2, 7] {
                let kappa = rho / (1 + rho)
                func r(_ w: Double) -> Double {
                    for j in 0..<(q.count - 1) where w >= q[j] && w <= q[j + 1] { return kappa * 0.5 * (w - q[j]) * (q[j + 1] - w) }
                    return .infinity
                }
                for theta in stride(from: -1.3, through: 1.3, by: 0.13) {
                    var best = 0.0, bestValue = Double.infinity
                    for i in 0...20_000 {
                        let w = -1 + 2 * Double(i) / 20_000
                        let v = r(w) + 0.5 * (w - theta) * (w - theta)
                        if v < bestValue { bestValue = v; best = w }
                    }
                    let p = Double(ProxWeightQuantizer.prox(Float(theta), rho: Float(rho), levels: levels))
                    #expect(abs(p - best) <= 2e-4, "levels \(levels) ρ \(rho) θ \(theta): P = \(p), argmin \(best)")
                }
            }
        }
    }

    /// The schedule ρ_t = ρ₀ + growth·t, and the quantizer following it in training only.
    @Test func scheduleSteps() {
        let s = ProxSchedule(rho0: 0.5, growth: 0.25)
        #expect([0, 1, 4, 100].map(s.rho(step:)) == [0.5, 0.75, 1.5, 25.5])
        let q = ProxWeightQuantizer(levels: .binary, schedule: s)
        #expect(q.rho == 0.5)
        q.rho = s.rho(step: 2)                                   // 1: slope 2
        #expect(q.quantized([0.2, -0.3, 0.9], training: true) == [0.4, -0.6, 1])
        #expect(q.quantized([0.2, -0.3, 0.9], training: false) == [1, -1, 1])   // evaluation: the projection
    }

    /// The BinaryConnect limit: at ρ = ∞ (and, for |θ| > 1/(1+ρ), at any finite ρ) forward,
    /// backward and the latent clip equal `binary=connect` bit for bit.
    @Test func binaryConnectIsTheLimit() {
        let w = randomWeights(257, seed: 11, std: 0.7) + [0, 1, -1, 1.5, -2]
        let dq = randomWeights(w.count, seed: 12)
        let bc = BinaryWeightQuantizer(variant: .binaryConnect)
        let pc = ProxWeightQuantizer(levels: .binary, schedule: ProxSchedule())
        pc.rho = .infinity
        #expect(pc.quantized(w, training: true) == bc.quantized(w, training: true))
        pc.rho = 1e6
        let far = w.filter { abs($0) > 1e-5 }
        #expect(pc.quantized(far, training: true) == bc.quantized(far, training: true))
        var g1 = [Float](repeating: 0, count: w.count), g2 = g1
        w.withUnsafeBufferPointer { wp in dq.withUnsafeBufferPointer { dp in
            bc.backward(wp.baseAddress!, gradient: dp.baseAddress!, addInto: &g1, count: w.count, channels: 1)
            pc.backward(wp.baseAddress!, gradient: dp.baseAddress!, addInto: &g2, count: w.count, channels: 1)
        } }
        #expect(g1 == g2)
        var t1 = Tensor(shape: [w.count], data: w), t2 = t1
        bc.latentWeightUpdate!(&t1)
        pc.latentWeightUpdate!(&t2)
        #expect(t1.data == t2.data)
        #expect(pc.codes(w)!.codes == bc.codes(w)!.codes)
    }

    // MARK: Smart ternary quantization

    /// R by hand: w = (1, −3, 0, 2): α = 1.5, x = (2/3, 2, 0, 4/3), |x − 1| = (1/3, 1, 1, 1/3);
    /// binary mean (8/3)/4 = 2/3; ternary mean (2/9 + 2 + 0 + 4/9)/4 = 2/3. β = 0.25, μ = 0.1:
    /// R = 0.75·2/3 + 0.25·2/3 + 0.025 = 0.69166…, ∂R/∂β = 0 + 0.1.
    @Test func stqRegularizerByHand() {
        let w: [Float] = [1, -3, 0, 2]
        let (value, dBeta) = w.withUnsafeBufferPointer {
            SmartTernaryQuantizer.regularizer($0.baseAddress!, count: 4, beta: 0.25, mu: 0.1)
        }
        assertClose(value, 2.0 / 3 + 0.025, rtol: 1e-6)
        assertClose(dBeta, 0.1, rtol: 1e-6)
    }

    /// ∂R/∂w (α = mean|w| differentiated through) and ∂R/∂β against central differences in Double.
    @Test(arguments: [0.0, 0.3, 0.8, 1.0])
    func stqRegularizerGradient(beta: Double) {
        let w = randomWeights(40, seed: 5, std: 0.2)
        func value(_ v: [Float], _ b: Double) -> Double {
            v.withUnsafeBufferPointer { SmartTernaryQuantizer.regularizer($0.baseAddress!, count: v.count, beta: b, mu: 0.05).value }
        }
        var g = [Float](repeating: 0, count: w.count)
        let (_, dBeta) = w.withUnsafeBufferPointer { wp in
            g.withUnsafeMutableBufferPointer { SmartTernaryQuantizer.regularizer(wp.baseAddress!, count: w.count, beta: beta, mu: 0.05,
                                                                                   weightGradient: $0.baseAddress!, scale: 1) }
        }
        let h: Float = 1e-3
        for i in w.indices {
            var p = w, m = w
            p[i] += h; m[i] -= h
            let fd = (value(p, beta) - value(m, beta)) / Double(2 * h)
            #expect(abs(fd - Double(g[i])) <= 2e-3 * max(abs(fd), 0.05), "w[\(i)]: analytic \(g[i]), finite difference \(fd)")
        }
        let fdBeta = (value(w, beta + 1e-4) - value(w, beta - 1e-4)) / 2e-4
        assertClose(dBeta, fdBeta, rtol: 1e-6, atol: 1e-9)
    }

    /// The layer's depth follows β: binary below ½, ternary from ½, with the levels R pulls to.
    @Test func stqDepthFollowsBeta() {
        let q = SmartTernaryQuantizer(startingAt: .binary)
        #expect(q.precision == .binary)
        let w: [Float] = [0.1, -0.5, 0.2, 1.2]                   // α = 0.5, threshold 0.25
        #expect(q.quantized(w) == [0.5, -0.5, 0.5, 0.5])
        q.beta.value.data[0] = 0.5
        #expect(q.precision == .ternary)
        #expect(q.quantized(w) == [0, -0.5, 0, 0.5])
        q.beta.value.data[0] = 1.4
        q.beta.afterUpdate!(&q.beta.value)
        #expect(q.beta.value.data == [1])
    }

    // MARK: Differentiable mask pruning

    /// The mask's gradients (weights through the STE, scores through σ) against central
    /// differences of L = Σ c_i q_i, with the threshold held (every score but the threshold's own).
    @Test(arguments: [PruneSettings.Granularity.weight, .filter])
    func maskGradient(granularity: PruneSettings.Granularity) {
        let w = randomWeights(24, seed: 9, std: 0.3), c = randomWeights(24, seed: 10)
        let q = MaskedWeightQuantizer(inner: FloatWeights(), settings: PruneSettings(target: 0.5, granularity: granularity), weights: w, channels: 4)
        q.tau = 0.3
        func loss(_ weights: [Float]) -> Double {
            zip(q.quantized(weights, channels: 4, training: true), c).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        }
        _ = q.quantized(w, channels: 4, training: true)
        var dw = [Float](repeating: 0, count: w.count)
        q.scores.zeroGrad()
        w.withUnsafeBufferPointer { wp in c.withUnsafeBufferPointer { cp in
            q.backward(wp.baseAddress!, gradient: cp.baseAddress!, addInto: &dw, count: w.count, channels: 4)
        } }
        let h: Float = 1e-3
        for i in w.indices {
            var p = w, m = w
            p[i] += h; m[i] -= h
            let fd = (loss(p) - loss(m)) / Double(2 * h)
            #expect(abs(fd - Double(dw[i])) <= 1e-3 * max(1, abs(fd)), "w[\(i)]: \(dw[i]) vs \(fd)")
        }
        let t = q.threshold
        for g in q.scores.value.data.indices where q.scores.value.data[g] != t {
            let s0 = q.scores.value.data[g]
            q.scores.value.data[g] = s0 + h; let lp = loss(w)
            q.scores.value.data[g] = s0 - h; let lm = loss(w)
            q.scores.value.data[g] = s0
            let fd = (lp - lm) / Double(2 * h)
            #expect(abs(fd - Double(q.scores.grad.data[g])) <= 2e-3 * max(1, abs(fd)), "score \(g): \(q.scores.grad.data[g]) vs \(fd)")
        }
    }

    /// Evaluation keeps exactly the planned count; scores start as |w|/mean|w|, so the first
    /// hard mask is magnitude pruning.
    @Test func maskKeepsTheTargetCount() {
        let w: [Float] = [0.1, -0.4, 0.3, -0.05, 0.2, 0.6, -0.7, 0.01]
        let q = MaskedWeightQuantizer(inner: FloatWeights(), settings: PruneSettings(target: 0.5), weights: w, channels: 2)
        #expect(q.keptWeights == 4)
        #expect(q.quantized(w, channels: 2, training: false) == [0, -0.4, 0.3, 0, 0, 0.6, -0.7, 0])
        let f = MaskedWeightQuantizer(inner: FloatWeights(), settings: PruneSettings(target: 0.5, granularity: .filter), weights: w, channels: 2)
        #expect(f.keptWeights == 4)                                // row 2 has the larger mean |w|
        #expect(f.quantized(w, channels: 2, training: false) == [0, 0, 0, 0, 0.2, 0.6, -0.7, 0.01])
        #expect(PruneSettings(target: 0.5).kept(of: 7) == 3)      // 7 − round(3.5) (half to even: 4)
    }

    @Test func selectFindsTheKthLargest() {
        var g = SplitMix64(seed: 3)
        for n in [1, 2, 5, 100, 1001] {
            let a = (0..<n).map { _ in Float(g.nextInt(below: 50)) }     // many ties
            for k in [1, (n + 1) / 2, n] {
                var copy = a
                #expect(MaskedWeightQuantizer.select(&copy, kthLargest: k) == a.sorted(by: >)[k - 1])
            }
        }
    }

    // MARK: Options

    @Test func optionsParseAndRefuse() throws {
        #expect(try ProxSchedule.parse("prox").get() == ProxSchedule(rho0: 0, growth: 0.05))
        #expect(try ProxSchedule.parse("prox:1:0.5").get() == ProxSchedule(rho0: 1, growth: 0.5))
        #expect(throws: MethodOptionError.self) { try ProxSchedule.parse("prox:1").get() }
        #expect(throws: MethodOptionError.self) { try ProxSchedule.parse("binaryconnect").get() }
        #expect(try STQSettings.parse("0.5:0.2").get() == STQSettings(lambda: 0.5, mu: 0.2))
        #expect(throws: MethodOptionError.self) { try STQSettings.parse("-1").get() }
        #expect(try PruneSettings.parse("dmp:0.5:filter").get() == PruneSettings(target: 0.5, granularity: .filter))
        #expect(throws: MethodOptionError.self) { try PruneSettings.parse("dmp:1.5").get() }
        #expect(throws: MethodOptionError.self) { try PruneSettings.parse("magnitude:0.5").get() }
    }

    /// 1e40 is a number ≥ 0, but not as a 32-bit float: the message said "RHO0 ≥ 0"
    /// (twelfth-pass audit); it now names the range.
    @Test func valuesOutsideFloatSayTheRange() {
        func message<T>(_ r: Result<T, MethodOptionError>) -> String? {
            if case .failure(let e) = r { return e.message } else { return nil }
        }
        #expect(message(ProxSchedule.parse("prox:1e40:1"))
                == "weights=prox:1e40:1: expected prox or prox:RHO0:GROWTH with RHO0 ≥ 0, GROWTH ≥ 0, not both 0, each at most 3.4e38 (32-bit floats)")
        #expect(message(STQSettings.parse("1e39"))
                == "stq=1e39: expected LAMBDA or LAMBDA:MU (LAMBDA > 0, MU ≥ 0, each at most 3.4e38: 32-bit floats), e.g. stq=0.5")
        #expect(message(STQSettings.parse("0.5:1e39")) == "stq=0.5:1e39: MU must be a number from 0 to 3.4e38 (32-bit floats), found '1e39'")
    }
}
