import Foundation

/// A numeric axis: the data range widened to "nice" ticks in 1-2-5 steps
/// (Heckbert, "Nice numbers for graph labels", Graphics Gems 1990), or whole decades
/// on a logarithmic axis.
public struct AxisScale: Equatable, Sendable {
    /// First and last tick; the data lie inside.
    public var lower: Double
    public var upper: Double
    /// Tick values, ascending, including `lower` and `upper`.
    public var ticks: [Double]
    public var isLogarithmic: Bool
    /// Tick spacing (linear axes); labels show just enough decimals for it.
    public var step: Double

    /// A linear axis over the finite `values` with about `targetTicks` ticks:
    /// step = nice((max − min) / (targetTicks − 1)), bounds rounded out to it.
    /// (Heckbert also rounds the range first; skipping that keeps 1…4 epochs at
    /// step 1 rather than 2.)
    /// No values gives [0, 1]; a single value v is padded by |v|/10 (1 when v = 0).
    ///
    /// With `integral` (x values that count epochs), the step is at least 1, so no
    /// tick falls between two epochs.
    public static func linear(_ values: [Double], targetTicks: Int = 5, integral: Bool = false) -> AxisScale {
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if lo == hi {
            let pad = integral ? 1 : lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        var step = niceNumber((hi - lo) / Double(max(targetTicks - 1, 1)), round: true)
        if integral { step = max(step, 1) }
        let first = (lo / step + 1e-9).rounded(.down), last = (hi / step - 1e-9).rounded(.up)
        let ticks = stride(from: first, through: last, by: 1).map { clean($0 * step, step: step) }
        return AxisScale(lower: ticks.first!, upper: ticks.last!, ticks: ticks, isLogarithmic: false, step: step)
    }

    /// The linear axis with the most ticks, starting from `targetTicks` and going
    /// down, that passes `fits` (e.g. "the labels do not overlap"); when none does,
    /// only the two end ticks are kept. Rounding to 1-2-5 steps can give up to about twice the
    /// target, which is why the result is checked rather than predicted.
    static func linear(_ values: [Double], targetTicks: Int, integral: Bool, fits: (AxisScale) -> Bool) -> AxisScale {
        var target = max(targetTicks, 2)
        while target > 2 {
            let scale = linear(values, targetTicks: target, integral: integral)
            if fits(scale) { return scale }
            target -= 1
        }
        var scale = linear(values, targetTicks: 2, integral: integral)
        if !fits(scale) { scale.ticks = [scale.lower, scale.upper] }
        return scale
    }

    /// A log₁₀ axis over the positive finite `values`, from the decade at or below
    /// the minimum to the decade at or above the maximum (at least one decade),
    /// ticking every decade, or every few when there are many.
    public static func logarithmic(_ values: [Double], targetTicks: Int = 5) -> AxisScale {
        let positive = values.filter { $0.isFinite && $0 > 0 }
        var lo = ((positive.min().map(log10) ?? 0) + 1e-9).rounded(.down)
        var hi = ((positive.max().map(log10) ?? 1) - 1e-9).rounded(.up)
        if hi <= lo { hi = lo + 1 }
        let every = max(1, Int(((hi - lo) / Double(max(targetTicks - 1, 1))).rounded(.up)))
        lo = (lo / Double(every)).rounded(.down) * Double(every)
        hi = (hi / Double(every)).rounded(.up) * Double(every)
        let ticks = stride(from: lo, through: hi, by: Double(every)).map { pow(10, $0) }
        return AxisScale(lower: ticks.first!, upper: ticks.last!, ticks: ticks, isLogarithmic: true, step: Double(every))
    }

    /// True when every finite value is a whole number (epochs, counts).
    static func allIntegral(_ values: [Double]) -> Bool {
        values.allSatisfy { !$0.isFinite || $0 == $0.rounded() }
    }

    /// Position of v along the axis: 0 at `lower`, 1 at `upper`; nil for values a
    /// log axis cannot show (≤ 0) and for NaN.
    public func fraction(_ v: Double) -> Double? {
        guard v.isFinite else { return nil }
        if isLogarithmic {
            guard v > 0 else { return nil }
            return (log10(v) - log10(lower)) / (log10(upper) - log10(lower))
        }
        return (v - lower) / (upper - lower)
    }

    /// Tick label: as many decimals as the step needs, "k", "M", "G", "T" for
    /// large values (cost axes count BOPs and bytes), so 2.5e9 reads "2.5G".
    public func label(_ v: Double) -> String {
        let largest = max(abs(lower), abs(upper))
        let power = largest >= 1e4 ? min(4, Int((log10(largest) + 1e-9).rounded(.down)) / 3) : 0
        let unit = pow(1000, Double(power))
        let suffix = ["", "k", "M", "G", "T"][power]
        if isLogarithmic {
            // Ticks are exact powers of ten: 0.01, 0.1, 1, 10, 100, 1k, 10k, …, 1e-5.
            let e = Int(log10(v).rounded())
            if e < -3 || e >= 15 { return "1e\(e)" }
            if e < 0 { return String(format: "%.\(-e)f", v) }
            return "1" + String(repeating: "0", count: e % 3) + ["", "k", "M", "G", "T"][e / 3]
        }
        let decimals = max(0, Int((-log10(step / unit) - 1e-9).rounded(.up)))
        let text = String(format: "%.\(decimals)f", v / unit)
        return (text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text) + (v == 0 ? "" : suffix)
    }

    /// Heckbert's nice number: a 1, 2, 5 or 10 times a power of ten near x, rounded
    /// to the nearest (`round`) or the next one up.
    public static func niceNumber(_ x: Double, round: Bool) -> Double {
        let exponent = log10(x).rounded(.down)
        let scale = pow(10, exponent)
        let f = x / scale
        let nice: Double
        if round {
            nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
        } else {
            nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        }
        return nice * scale
    }

    /// k·step without the floating-point tail (0.30000000000000004 → 0.3).
    private static func clean(_ v: Double, step: Double) -> Double {
        let decimals = max(0, Int((-log10(step)).rounded(.up)) + 1)
        let scale = pow(10, Double(min(decimals, 15)))
        return (v * scale).rounded() / scale
    }
}
