import Foundation

/// The one place where quantlab turns a number into table or plot text: every table,
/// plot axis and export that shows one of these quantities asks this type for its
/// header, its axis label and its cell text, so units and number formats agree
/// everywhere (a test prints every table of a session and checks them).
///
/// | quantity     | input unit            | shown as                        | header            |
/// |--------------|-----------------------|---------------------------------|-------------------|
/// | count        | items                 | `105,962` (exact, grouped)      | (caller's name)   |
/// | memory       | bits                  | `398.0`, `0.45` KiB (1 KiB = 8192 bits; ≥ 2 significant digits) | `weights KiB` |
/// | compression  | ratio                 | `28.6×`                         | `compression`     |
/// | energy       | pJ                    | `66.929` µJ, `0.000742` µJ (≥ 3 significant digits) | `energy µJ` |
/// | accuracy     | fraction 0…1          | `0.8952`                        | `… acc`           |
/// | points       | fraction 0…1          | `7.40` percentage points        | `regret (points)` |
/// | throughput   | images per second     | `1234`                          | `img/s`           |
/// | seconds      | s                     | `12.3` (`12.3 s` in prose)      | `CPU s`           |
/// | trainingTime | CPU ms per image      | `0.512` (measured)              | `train ms/img`    |
/// | loss         | nats                  | `0.3154`                        | `loss`            |
/// | coefficient  | r, ρ, τ in −1…1       | `0.973`, intervals `[0.521, 0.970]` | `ρ`           |
/// | pValue       | probability           | `0.0267`, `0.00738`, `< 0.0001` | `p`               |
/// | share        | fraction 0…1          | `18.8` (`18.8%` in prose)       | `%`               |
/// | ratio        | dimensionless         | `0.0143`, `0.519`, `1234.567` (≥ 3 significant digits) | |
/// | value        | a weight or activation value | `0.1234`, `-0.5`, `0.00001234`, `12346` (4 significant digits, no trailing zeros) | `value` |
///
/// Rates (sensitivity's points lost per unit saved) divide by `rateUnit`: per KiB, per
/// million BOPs or MACs, per µJ, so the denominator is the unit the tables show.
///
/// MACs and BOPs are counts. Why exact grouped integers rather than `1.529e+07`: a
/// paper table wants the exact figure, and a reader compares digits faster with
/// separators; plots use `axisLabel`, whose unit suffix says the scale.
public enum Quantity: String, CaseIterable, Sendable {
    case parameters, macs, bops, memory, compression, energy, accuracy, points, throughput, seconds, trainingTime
    case loss, coefficient, pValue, share, ratio
    /// A weight or activation value of the teaching views: a quantizer level, a histogram
    /// bin edge, a step or a clip. As `%.4g` printed them (4 significant digits, trailing
    /// zeros dropped, `0.5`, `-0.1234`, `-1 1`) except that a weight of `1.234e-05` reads
    /// `0.00001234` and `1.235e+04` reads `12346`: never scientific notation.
    case value

    /// The table column header (unit included where the cells carry none).
    public var header: String {
        switch self {
        case .parameters: return "params"
        case .macs: return "MACs"
        case .bops: return "BOPs"
        case .memory: return "weights KiB"
        case .compression: return "compression"
        case .energy: return "energy µJ"
        case .accuracy: return "accuracy"
        case .points: return "points"
        case .throughput: return "img/s"
        case .seconds: return "CPU s"
        case .trainingTime: return "train ms/img"
        case .loss: return "loss"
        case .coefficient: return "ρ"
        case .pValue: return "p"
        case .share: return "%"
        case .ratio: return "ratio"
        case .value: return "value"
        }
    }

    /// An axis or prose label: the quantity and its unit in parentheses.
    public var axisLabel: String {
        switch self {
        case .parameters: return "parameters"
        case .macs: return "multiply-accumulates (MACs)"
        case .bops: return "bit operations (BOPs)"
        case .memory: return "weight memory (KiB)"
        case .compression: return "compression (× vs float32)"
        case .energy: return "energy (µJ, estimate)"
        case .accuracy: return "accuracy"
        case .points: return "percentage points"
        case .throughput: return "images per second"
        case .seconds: return "time (s)"
        case .trainingTime: return "training time (CPU ms per image, measured)"
        case .loss: return "loss"
        case .coefficient: return "correlation coefficient"
        case .pValue: return "p-value"
        case .share: return "share (%)"
        case .ratio: return "ratio"
        case .value: return "value"
        }
    }

    /// The value in the unit it is shown in: bits → KiB, pJ → µJ, fractions → points;
    /// others unchanged. Plots place points with this.
    public func scaled(_ v: Double) -> Double {
        switch self {
        case .memory: return v / 8192
        case .energy: return v / 1e6
        case .points, .share: return v * 100
        default: return v
        }
    }

    /// The inverse of `scaled`: a value in the unit it is shown in, back to the input unit.
    public func unscaled(_ v: Double) -> Double {
        switch self {
        case .memory: return v * 8192
        case .energy: return v * 1e6
        case .points, .share: return v / 100
        default: return v
        }
    }

    /// Cell text for a value already in the shown unit (KiB, µJ, points): `format(unscaled(v))`.
    public func formatShown(_ v: Double) -> String { format(unscaled(v)) }

    /// The denominator of a rate per this quantity, in its input unit, and its name:
    /// memory per KiB (8,192 bits), BOPs and MACs per million, energy per µJ (10⁶ pJ).
    public var rateUnit: (divisor: Double, name: String) {
        switch self {
        case .memory: return (8192, "KiB")
        case .bops: return (1e6, "M BOPs")
        case .macs: return (1e6, "M MACs")
        case .parameters: return (1e3, "k params")
        case .energy: return (1e6, "µJ")
        case .trainingTime: return (1, "ms/img")
        default: return (1, header)
        }
    }

    /// A rate such as points lost per KiB saved: three significant digits, at least two
    /// decimals, never scientific notation (`46.30`, `0.0123`).
    public static func rate(_ v: Double) -> String {
        cellText(ifNotFinite: v) ?? significant(v, digits: 3, minimumDecimals: 2)
    }

    /// A table cell for a value that is not finite: `—` for NaN, `∞`, `−∞`; nil for a finite value.
    static func cellText(ifNotFinite v: Double) -> String? {
        v.isFinite ? nil : v.isNaN ? "—" : (v > 0 ? "∞" : "−∞")
    }

    /// A value that is not finite as a word people and programs read alike: `nan`
    /// whatever its sign bit (printf writes `-nan` for the NaN that x86 arithmetic
    /// makes, as if it were a negative number), `inf`, `-inf`; nil for a finite value.
    public static func word(ifNotFinite v: Double) -> String? {
        v.isFinite ? nil : v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf")
    }

    /// Text for a progress line or a message: `format(v)`, but a value that is not
    /// finite says so in a word (`train loss nan`, see `word(ifNotFinite:)`), where a
    /// table cell shows `—`: a diverged run's loss is not a missing one.
    public func prose(_ v: Double) -> String {
        Quantity.word(ifNotFinite: v) ?? format(v)
    }

    /// The value for a program (CSV) in the unit the tables show (KiB, µJ, …): every
    /// digit the Double holds, in Swift's shortest round-trip form as `store export`
    /// writes reals (`0.8952380952380952`, `1e-05`), an integer without `.0`
    /// (`1106432`), no grouping, no unit; `nan`, `inf`, `-inf` when not finite.
    public func plain(_ v: Double) -> String {
        let shown = scaled(v)
        if let word = Quantity.word(ifNotFinite: shown) { return word }
        if shown == shown.rounded(), abs(shown) < 1e15 { return String(Int64(shown)) }
        return "\(shown)"
    }

    /// Mean and sample standard deviation (n − 1) of values; sd nil for one value; nil for none.
    public static func meanAndSD(_ values: [Double]) -> (mean: Double, sd: Double?)? {
        guard let first = values.first else { return nil }
        guard values.count >= 2 else { return (first, nil) }
        let m = values.reduce(0, +) / Double(values.count)
        let sd = (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
        return (m, sd)
    }

    /// `mean ± sd` of values in this quantity's format (sample sd, n − 1); one value alone;
    /// "" for none. Accuracies over seeds: `0.8952 ± 0.0031`.
    public func meanSD(_ values: [Double]) -> String {
        guard let (m, sd) = Quantity.meanAndSD(values) else { return "" }
        return format(m) + (sd.map { " ± " + format($0) } ?? "")
    }

    /// A confidence interval of this quantity: `[0.521, 0.970]`.
    public func interval(_ r: ClosedRange<Double>) -> String {
        "[" + format(r.lowerBound) + ", " + format(r.upperBound) + "]"
    }

    /// Cell text for a value given in the input unit (see the table above).
    public func format(_ v: Double) -> String {
        if let text = Quantity.cellText(ifNotFinite: v) { return text }
        switch self {
        case .parameters, .macs, .bops: return Quantity.grouped(v)
        case .memory: return Quantity.significant(scaled(v), digits: 2, minimumDecimals: 1)
        case .compression: return String(format: "%.1f×", v)
        case .energy: return Quantity.significant(scaled(v), digits: 3, minimumDecimals: 3)
        case .accuracy: return String(format: "%.4f", v)
        case .points: return String(format: "%.2f", scaled(v))
        case .throughput: return String(format: "%.0f", v)
        case .seconds: return String(format: "%.1f", v)
        case .trainingTime: return String(format: "%.3f", v)
        case .loss: return String(format: "%.4f", v)
        case .coefficient: return String(format: "%.3f", v)
        case .pValue: return v < 0.0001 ? "< 0.0001" : Quantity.significant(v, digits: 3, minimumDecimals: 3)
        case .share: return String(format: "%.1f", scaled(v))
        case .ratio: return Quantity.significant(v, digits: 3, minimumDecimals: 3)
        case .value: return Quantity.trimmingZeros(Quantity.significant(v, digits: 4, minimumDecimals: 0))
        }
    }

    public func format(_ v: Int) -> String { format(Double(v)) }

    /// Cell text with the unit appended, for prose: `398.0 KiB`, `66.929 µJ`, `7.40 points`.
    public func withUnit(_ v: Double) -> String {
        switch self {
        case .memory: return format(v) + " KiB"
        case .energy: return format(v) + " µJ"
        case .points: return format(v) + " points"
        case .bops: return format(v) + " BOPs"
        case .macs: return format(v) + " MACs"
        case .parameters: return format(v) + " parameters"
        case .throughput: return format(v) + " img/s"
        case .trainingTime: return format(v) + " ms/image"
        case .seconds: return format(v) + " s"
        case .share: return format(v) + "%"
        default: return format(v)
        }
    }

    /// Fixed-point text with `minimumDecimals` decimals, or more when the value needs
    /// them to show `digits` significant digits: 66.929, 0.100, 0.0742, 0.000742. So a
    /// column keeps one unit and no nonzero value prints as zero (a binary layer's
    /// compute energy is a few nJ, 0.000 µJ at 3 decimals). Zero prints with
    /// `minimumDecimals`; never scientific notation.
    public static func significant(_ v: Double, digits: Int, minimumDecimals: Int) -> String {
        var decimals = minimumDecimals
        if v != 0 {
            // Digits before the first significant one, after the decimal point.
            let leading = -Int(log10(abs(v)).rounded(.down)) - 1
            decimals = max(minimumDecimals, min(15, leading + digits))
        }
        var text = String(format: "%.\(decimals)f", v)
        // Rounding can carry into a new digit (0.0009996 → "0.001000"): drop the extra zero.
        if decimals > minimumDecimals, text.hasSuffix("0"), abs(Double(text) ?? 0) >= pow(10, Double(digits - decimals)) {
            text = String(format: "%.\(decimals - 1)f", v)
        }
        return text
    }

    /// Fixed-point text without the zeros that end its decimals (and without a bare
    /// point): "0.5000" → "0.5", "12.00" → "12", "-0.1230" → "-0.123".
    static func trimmingZeros(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var t = Substring(text)
        while t.hasSuffix("0") { t = t.dropLast() }
        if t.hasSuffix(".") { t = t.dropLast() }
        return String(t)
    }

    /// An integer with comma thousands separators: 105962 → "105,962", −1234 → "−1,234".
    /// Doubles are rounded to the nearest integer (half away from zero).
    public static func grouped(_ v: Double) -> String {
        let r = v.rounded()
        guard abs(r) < 9.0e18 else { return String(format: "%.0f", r) }
        return grouped(Int(r))
    }

    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "−" : "") + out
    }
}
