/// Training methods that change what a configuration trains beyond its precision
/// (issue 16, second half): ProxConnect weights, smart ternary quantization, differentiable
/// mask pruning and CoNNTrA. Each is a `key=value` option of a configuration, so it shows in
/// its canonical text, its definition (the store's key) and its family.
///
///     weights=prox[:RHO0:GROWTH]      ProxConnect for binary/ternary weights (``ProxSchedule``)
///     stq=LAMBDA[:MU]                 smart ternary quantization (``STQSettings``)
///     prune=dmp:TARGET[:filter]       differentiable mask pruning (``PruneSettings``)
///     method=conntra                  CoNNTrA coordinate descent on ternary weights

/// A training method that replaces backpropagation's update.
public enum TrainingMethod: String, Hashable, Sendable, Codable {
    /// CoNNTrA (Date et al. 2020): coordinate descent over ternary weights (``ConnTraWeights``).
    case conntra
}

/// ProxConnect's schedule (Dockhorn et al., NeurIPS 2021): the forward weights are the
/// proximal map P_ρ of the latent weights with ρ_t = ρ₀ + growth · t, t = optimizer steps
/// taken so far. ρ → ∞ is BinaryConnect.
public struct ProxSchedule: Hashable, Sendable, Codable {
    public var rho0: Float
    public var growth: Float
    public static let defaultRho0: Float = 0
    public static let defaultGrowth: Float = 0.05

    public init(rho0: Float = ProxSchedule.defaultRho0, growth: Float = ProxSchedule.defaultGrowth) {
        self.rho0 = rho0; self.growth = growth
    }

    /// ρ after `step` optimizer steps.
    public func rho(step: Int) -> Float { rho0 + growth * Float(step) }

    /// `prox`, `prox:RHO0:GROWTH`; nil with a reason otherwise.
    public static func parse(_ text: String) -> Result<ProxSchedule, MethodOptionError> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == "prox" else { return .failure(MethodOptionError("weights=\(text): expected prox or prox:RHO0:GROWTH (RHO0 ≥ 0, GROWTH ≥ 0)")) }
        if parts.count == 1 { return .success(ProxSchedule()) }
        guard parts.count == 3, let r = Float(parts[1]), let g = Float(parts[2]), r >= 0, g >= 0, r.isFinite, g.isFinite, r + g > 0 else {
            return .failure(MethodOptionError("weights=\(text): expected prox or prox:RHO0:GROWTH with RHO0 ≥ 0, GROWTH ≥ 0, not both 0, each at most 3.4e38 (32-bit floats)"))
        }
        return .success(ProxSchedule(rho0: r, growth: g))
    }

    /// `prox:0.0:0.05`, the form canonical text uses.
    public var text: String { "prox:\(rho0):\(growth)" }
}

/// Smart ternary quantization (after Morin, Razani, Partovi Nia & Sari, "Smart Ternary
/// Quantization", 2019): λ weighs the per-layer regularizer, μ the price of a ternary layer
/// (twice a binary one's memory). See ``SmartTernaryQuantizer``.
public struct STQSettings: Hashable, Sendable, Codable {
    public var lambda: Float
    public var mu: Float
    public static let defaultMu: Float = 0.05

    public init(lambda: Float, mu: Float = STQSettings.defaultMu) { self.lambda = lambda; self.mu = mu }

    /// `LAMBDA` or `LAMBDA:MU`, both ≥ 0, λ > 0.
    public static func parse(_ text: String) -> Result<STQSettings, MethodOptionError> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), let l = Float(parts[0]), l > 0, l.isFinite else {
            return .failure(MethodOptionError("stq=\(text): expected LAMBDA or LAMBDA:MU (LAMBDA > 0, MU ≥ 0, each at most 3.4e38: 32-bit floats), e.g. stq=0.5"))
        }
        var s = STQSettings(lambda: l)
        if parts.count == 2 {
            guard let m = Float(parts[1]), m >= 0, m.isFinite else {
                return .failure(MethodOptionError("stq=\(text): MU must be a number from 0 to 3.4e38 (32-bit floats), found '\(parts[1])'"))
            }
            s.mu = m
        }
        return .success(s)
    }

    public var text: String { "\(lambda):\(mu)" }
}

/// Differentiable mask pruning (after Ramakrishnan, Sari & Partovi Nia, "Differentiable Mask
/// for Pruning Convolutional and Recurrent Networks", 2019/2020): a learned score per weight
/// (or per output filter), a fraction `target` of the lowest scores pruned in each layer.
/// See ``MaskedWeightQuantizer``.
public struct PruneSettings: Hashable, Sendable, Codable {
    public enum Granularity: String, Hashable, Sendable, Codable { case weight, filter }
    public var target: Double
    public var granularity: Granularity

    public init(target: Double, granularity: Granularity = .weight) { self.target = target; self.granularity = granularity }

    /// `dmp:TARGET` or `dmp:TARGET:filter` / `dmp:TARGET:weight`, 0 < TARGET < 1.
    public static func parse(_ text: String) -> Result<PruneSettings, MethodOptionError> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let usage = "prune=\(text): expected dmp:TARGET or dmp:TARGET:filter with 0 < TARGET < 1 (the fraction pruned), e.g. prune=dmp:0.5"
        guard parts.first == "dmp", (2...3).contains(parts.count), let t = Double(parts[1]), t > 0, t < 1 else {
            return .failure(MethodOptionError(usage))
        }
        var g = Granularity.weight
        if parts.count == 3 {
            guard let v = Granularity(rawValue: parts[2]) else { return .failure(MethodOptionError(usage)) }
            g = v
        }
        return .success(PruneSettings(target: t, granularity: g))
    }

    public var text: String { "dmp:\(target)" + (granularity == .filter ? ":filter" : "") }

    /// Weights (or filters) kept of `count`: count − round(target · count), at least 1.
    public func kept(of count: Int) -> Int {
        max(1, count - Int((target * Double(count)).rounded(.toNearestOrEven)))
    }
}

/// A malformed method option: the message names the key, what was expected and found.
public struct MethodOptionError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
