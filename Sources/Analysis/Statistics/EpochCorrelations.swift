import Foundation
import Formatting

/// The correlation, at one epoch, between the early metric and final accuracy.
public struct EpochCorrelation: Equatable, Sendable {
    /// Epoch number as shown to the user (1-based unless the caller says otherwise).
    public var epoch: Int
    /// The coefficient, or why it is undefined at this epoch.
    public var result: Result<CorrelationResult, Undefined>

    public init(epoch: Int, result: Result<CorrelationResult, Undefined>) {
        self.epoch = epoch
        self.result = result
    }

    /// The coefficient when defined.
    public var value: Double? {
        if case .success(let c) = result { return c.r }
        return nil
    }
}

/// Per-epoch correlations of an early metric with final accuracy: the answer to
/// "from which epoch on does early accuracy predict the winner?".
public struct EpochCorrelations: Equatable, Sendable {
    public var method: CorrelationMethod
    public var rows: [EpochCorrelation]

    public init(method: CorrelationMethod, rows: [EpochCorrelation]) {
        self.method = method
        self.rows = rows
    }

    /// Correlates column e of `early` ([configuration][epoch]) with `final`, for every
    /// epoch that all configurations reached (the shortest row).
    ///
    /// - Parameters:
    ///   - epochs: labels for the columns; default 1, 2, 3, ….
    ///   - seed: when given, each epoch gets a bootstrap interval. Every epoch uses
    ///     the same seed, hence the same resampled configurations, so intervals of
    ///     different epochs are compared on common random numbers.
    public init(
        early: [[Double]], final: [Double], method: CorrelationMethod = .spearman,
        epochs: [Int]? = nil, resamples: Int = 1000, level: Double = 0.95, seed: UInt64? = nil
    ) {
        precondition(early.count == final.count, "EpochCorrelations: \(early.count) early rows but \(final.count) final values")
        let count = early.map(\.count).min() ?? 0
        let labels = epochs ?? Array(1...max(count, 1))
        precondition(labels.count >= count, "EpochCorrelations: \(labels.count) epoch labels for \(count) epochs")
        self.method = method
        self.rows = (0..<count).map { e in
            let x = early.map { $0[e] }
            let result = Statistics.correlate(x, final, method: method, resamples: resamples, level: level, seed: seed)
            return EpochCorrelation(epoch: labels[e], result: result)
        }
    }

    /// The earliest epoch whose coefficient is ≥ `threshold`, or nil if none is.
    ///
    /// With `sustained`, the earliest epoch from which the coefficient stays
    /// ≥ `threshold` at every later epoch (an undefined epoch breaks the run), which
    /// guards against a lucky early peak. Epochs where the coefficient is undefined
    /// never qualify.
    public func earliestEpoch(threshold: Double, sustained: Bool = false) -> Int? {
        if !sustained {
            return rows.first { ($0.value ?? -.infinity) >= threshold }?.epoch
        }
        var candidate: Int?
        for row in rows {
            if let v = row.value, v >= threshold {
                if candidate == nil { candidate = row.epoch }
            } else {
                candidate = nil
            }
        }
        return candidate
    }

    /// A table: epoch, coefficient, p-value, interval, n, and the reason when undefined;
    /// numbers as `Quantity.coefficient` and `Quantity.pValue`, as in `correlate`.
    public func table() -> TextTable {
        var table = TextTable(header: ["epoch", method.symbol, "p", "CI", "n", "note"])
        for row in rows {
            switch row.result {
            case .success(let c):
                let p = c.pValue.map(Quantity.pValue.format) ?? "-"
                let ci = c.ci.map(Quantity.coefficient.interval) ?? "-"
                table.add(["\(row.epoch)", Quantity.coefficient.format(c.r), p, ci, "\(c.n)", ""])
            case .failure(let why):
                table.add(["\(row.epoch)", "-", "-", "-", "", why.description])
            }
        }
        return table
    }
}
