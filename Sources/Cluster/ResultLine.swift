import Foundation
import Trials

/// One line of a task's results file (JSON lines): an epoch of a job, or its end.
///
///     {"epoch":{"epoch":1,"images_per_second":…,"seconds":…,"train_acc":…,"train_loss":…,"val_acc":…,"val_loss":…},"job":3,"type":"epoch","v":2}
///     {"job":3,"status":"done","test_acc":…,"test_loss":…,"trained":"…","type":"finished","v":2}
///
/// Format 2 (`"v":2`) carries everything a local run stores, so the head stores the
/// same rows: on an epoch line `trained_cost` (the trained cost so far: BOPs per
/// training image, mean bits, the range test's B_min) and, for a dual-precision
/// network, `low` (the epoch's validation and test in the low mode); on the end line
/// `trained` (what the training methods left: STQ depths, DMP's kept weights, …).
/// Lines without `v` are format 1 (written before these fields existed) and are read
/// as before. Numbers are JSON doubles in Swift's shortest round-trip form, so the head
/// reads back the worker's values bit for bit (tested).
public struct ResultLine: Codable, Sendable, Equatable {
    /// The format this quantlab writes; it reads 1 … `formatVersion`.
    public static let formatVersion = 2
    /// Absent (nil) in format 1 lines.
    public var version: Int?
    public var type: String            // "epoch" | "finished"
    public var job: Int
    public var epoch: EpochLine?
    public var status: String?         // done | diverged | interrupted
    public var divergedEpoch: Int?
    public var testLoss: Double?, testAcc: Double?
    /// Format 2, epoch lines: the trained cost after this epoch (nil: none, e.g. a diverged epoch).
    public var trainedCost: TrainedCostLine?
    /// Format 2, epoch lines of a dual-precision network: the low mode's evaluation.
    public var low: LowModeLine?
    /// Format 2, end lines: ``TrialOutcome/trained``.
    public var trained: String?

    enum CodingKeys: String, CodingKey {
        case version = "v", type, job, epoch, status, divergedEpoch = "diverged_epoch", testLoss = "test_loss", testAcc = "test_acc"
        case trainedCost = "trained_cost", low, trained
    }

    public static let statuses = ["done", "diverged", "interrupted"]

    /// An epoch line; `low` is the low mode's evaluation of that epoch (dual networks).
    public static func epoch(job: Int, _ m: EpochMetrics, trainedCost: TrainedCost? = nil, low: EpochMetrics? = nil) -> ResultLine {
        ResultLine(version: formatVersion, type: "epoch", job: job, epoch: EpochLine(m),
                   trainedCost: trainedCost.map(TrainedCostLine.init), low: low.map(LowModeLine.init))
    }

    public static func finished(job: Int, _ o: TrialOutcome) -> ResultLine {
        ResultLine(version: formatVersion, type: "finished", job: job, status: o.status.rawValue, divergedEpoch: o.divergedEpoch,
                   testLoss: o.testLoss, testAcc: o.testAccuracy, trained: o.trained)
    }

    public var text: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try! e.encode(self), as: UTF8.self)   // numbers (NaN and ±inf as strings) and strings cannot fail
    }

    /// Decodes and checks one line; the error names the file, the line and the field.
    public static func parse(_ line: String, file: String, lineNumber: Int) throws -> ResultLine {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let place = "\(file):\(lineNumber)"
        let r: ResultLine
        do { r = try d.decode(ResultLine.self, from: Data(line.utf8)) }
        catch let e as DecodingError { throw TrialError("\(place): " + describe(e, line: line)) }
        catch { throw TrialError("\(place): expected a result line (JSON), found '\(line.prefix(80))'") }
        try r.check(place)
        return r
    }

    /// The checks JSON decoding cannot make: known version, type and status, the fields
    /// each type needs, numbers in their ranges.
    func check(_ place: String) throws {
        func bad(_ field: String, _ expected: String, _ found: String) -> TrialError {
            TrialError("\(place): field '\(field)': expected \(expected), found \(found)")
        }
        if let v = version, !(1...Self.formatVersion).contains(v) {
            throw bad("v", "a result format 1…\(Self.formatVersion) (this quantlab's)", "\(v)" + (v > Self.formatVersion ? " (written by a newer quantlab)" : ""))
        }
        guard job >= 0 else { throw bad("job", "a job index ≥ 0", "\(job)") }
        let format = version ?? 1
        switch type {
        case "epoch":
            guard let e = epoch else { throw bad("epoch", "the epoch's metrics on an epoch line", "none") }
            guard e.epoch >= 1 else { throw bad("epoch.epoch", "an epoch ≥ 1", "\(e.epoch)") }
            if status != nil { throw bad("status", "no status on an epoch line", "'\(status!)'") }
        case "finished":
            guard let s = status else { throw bad("status", "done, diverged or interrupted on a finished line", "none") }
            guard Self.statuses.contains(s) else { throw bad("status", "done, diverged or interrupted", "'\(s.prefix(40))'") }
            if epoch != nil { throw bad("epoch", "no epoch metrics on a finished line", "some") }
            if let e = divergedEpoch, e < 1 { throw bad("diverged_epoch", "an epoch ≥ 1", "\(e)") }
        default:
            throw bad("type", "epoch or finished", "'\(type.prefix(40))'")
        }
        if format < 2, trainedCost != nil || low != nil || trained != nil {
            throw bad("v", "2 on a line with trained_cost, low or trained", "\(format)")
        }
        if type == "finished", trainedCost != nil || low != nil {
            throw bad(trainedCost != nil ? "trained_cost" : "low", "it on epoch lines only", "it on a finished line")
        }
        if type == "epoch", trained != nil { throw bad("trained", "it on finished lines only", "it on an epoch line") }
        if let t = trainedCost { try t.check(place) }
    }

    /// A decoding error as `field 'epoch.val_acc': expected a number, found …`.
    static func describe(_ e: DecodingError, line: String) -> String {
        func path(_ c: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            (c.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch e {
        case let .keyNotFound(key, c):
            return "field '\(path(c, key))': expected it (a complete result line), found none; the line: '\(line.prefix(80))'"
        case let .typeMismatch(type, c), let .valueNotFound(type, c):
            let what = type == String.self ? "text" : type == Int.self ? "an integer" : type == Double.self ? "a number" : "\(type)"
            if c.codingPath.isEmpty { return "expected a result line (a JSON object), found '\(line.prefix(80))'" }
            return "field '\(path(c))': expected \(what), found \(e.isNull ? "null" : "another kind of value")"
        case let .dataCorrupted(c):
            if c.codingPath.isEmpty { return "expected a result line (JSON), found '\(line.prefix(80))'" }
            return "field '\(path(c))': \(c.debugDescription)"
        @unknown default:
            return "expected a result line (JSON), found '\(line.prefix(80))'"
        }
    }
}

extension DecodingError {
    var isNull: Bool { if case .valueNotFound = self { return true } else { return false } }
}

/// ``TrainedCost`` in a result line.
public struct TrainedCostLine: Codable, Sendable, Equatable {
    public var bops: Double
    public var weightBits: Double, activationBits: Double
    public var lowBits: Int?

    enum CodingKeys: String, CodingKey { case bops, weightBits = "wbits", activationBits = "abits", lowBits = "bmin" }

    init(_ t: TrainedCost) { bops = t.bopsPerImage; weightBits = t.weightBits; activationBits = t.activationBits; lowBits = t.lowBits }

    public var cost: TrainedCost {
        TrainedCost(bopsPerImage: bops, weightBits: weightBits, activationBits: activationBits, lowBits: lowBits)
    }

    func check(_ place: String) throws {
        for (field, v) in [("bops", bops), ("wbits", weightBits), ("abits", activationBits)] where !(v.isFinite && v >= 0) {
            throw TrialError("\(place): field 'trained_cost.\(field)': expected a finite number ≥ 0, found \(v)")
        }
        if let b = lowBits, !(1...32).contains(b) {
            throw TrialError("\(place): field 'trained_cost.bmin': expected a bit width 1…32, found \(b)")
        }
    }
}

/// A dual-precision network's epoch evaluated in its low mode (the training figures
/// are the epoch line's own).
public struct LowModeLine: Codable, Sendable, Equatable {
    public var valLoss: Double?, valAcc: Double?
    public var testLoss: Double?, testAcc: Double?

    enum CodingKeys: String, CodingKey { case valLoss = "val_loss", valAcc = "val_acc", testLoss = "test_loss", testAcc = "test_acc" }

    init(_ m: EpochMetrics) { valLoss = m.validationLoss; valAcc = m.validationAccuracy; testLoss = m.testLoss; testAcc = m.testAccuracy }

    /// The epoch `m` (the trained one) with the low mode's evaluation.
    public func metrics(of m: EpochMetrics) -> EpochMetrics {
        var e = m
        e.validationLoss = valLoss; e.validationAccuracy = valAcc; e.testLoss = testLoss; e.testAccuracy = testAcc
        return e
    }
}

/// The metrics of one epoch as stored in a result line.
public struct EpochLine: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double, trainAcc: Double
    public var valLoss: Double?, valAcc: Double?
    public var testLoss: Double?, testAcc: Double?
    public var seconds: Double, imagesPerSecond: Double
    /// CPU seconds of the epoch's training (absent in files written before it was measured).
    public var cpuSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case epoch, trainLoss = "train_loss", trainAcc = "train_acc", valLoss = "val_loss", valAcc = "val_acc"
        case testLoss = "test_loss", testAcc = "test_acc", seconds, imagesPerSecond = "images_per_second", cpuSeconds = "cpu_seconds"
    }

    init(_ m: EpochMetrics) {
        epoch = m.epoch; trainLoss = m.trainLoss; trainAcc = m.trainAccuracy; valLoss = m.validationLoss; valAcc = m.validationAccuracy
        testLoss = m.testLoss; testAcc = m.testAccuracy; seconds = m.seconds; imagesPerSecond = m.imagesPerSecond; cpuSeconds = m.cpuSeconds
    }

    public var metrics: EpochMetrics {
        EpochMetrics(epoch: epoch, trainLoss: trainLoss, trainAccuracy: trainAcc, validationLoss: valLoss, validationAccuracy: valAcc,
                     testLoss: testLoss, testAccuracy: testAcc, seconds: seconds, imagesPerSecond: imagesPerSecond, cpuSeconds: cpuSeconds ?? 0)
    }
}

/// Reads a results file as it grows: only complete (newline-terminated) lines, from
/// where the last read stopped. A line written twice (a task killed between its result
/// line and its checkpoint retrains that epoch, to the same numbers) is returned once.
///
/// All or nothing: the new lines are checked before any is returned, and a bad one
/// throws (naming file, line and field) without moving past it, so the caller stores
/// nothing of a read that failed and the same error comes again until the file is fixed.
public final class ResultReader {
    public let path: String
    /// The jobs the file may speak of (its task's), nil: any.
    public let jobs: Set<Int>?
    /// Jobs that train dual-precision networks: their format 2 epoch lines must carry
    /// `low` (unless the epoch diverged), and no other job's may.
    public let dual: Set<Int>
    private var offset: UInt64 = 0
    private var lineNumber = 0
    private var seen = Set<String>()

    public init(path: String, jobs: Set<Int>? = nil, dual: Set<Int> = []) { self.path = path; self.jobs = jobs; self.dual = dual }

    /// New lines since the last call.
    public func readNew() throws -> [ResultLine] {
        guard let h = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? h.close() }
        try h.seek(toOffset: offset)
        let data = h.readDataToEndOfFile()
        guard let end = data.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        let complete = data[data.startIndex...end]
        var number = lineNumber
        var parsed: [ResultLine] = []
        for raw in complete.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            number += 1
            let text = String(decoding: raw, as: UTF8.self)
            let line = try ResultLine.parse(text, file: path, lineNumber: number)
            if let jobs, !jobs.contains(line.job) {
                throw TrialError("\(path):\(number): field 'job': expected one of this task's jobs (\(jobs.sorted().map(String.init).joined(separator: ", "))), found \(line.job)")
            }
            if let e = line.epoch, line.version ?? 1 >= 2 {
                if dual.contains(line.job) && line.low == nil && e.trainLoss.isFinite {
                    throw TrialError("\(path):\(number): field 'low': expected the low mode's evaluation (job \(line.job) trains a dual-precision network), found none")
                }
                if !dual.contains(line.job) && line.low != nil {
                    throw TrialError("\(path):\(number): field 'low': expected none (job \(line.job) has one precision mode), found one")
                }
            }
            parsed.append(line)
        }
        offset += UInt64(complete.count)
        lineNumber = number
        return parsed.filter { line in
            seen.insert(line.type == "epoch" ? "e \(line.job) \(line.epoch?.epoch ?? -1)" : "f \(line.job)").inserted
        }
    }

    /// Bytes after the last complete line: a line still being written, or one a task
    /// that has ended left torn (it is not read, and the task's job is not finished).
    public func pendingBytes() -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        return data.count - (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0)
    }
}

/// Appends result lines to a task's file, fsyncing each: a line the head has read is
/// on disk. Opening cuts a partial last line left by a killed task.
public final class ResultWriter {
    private let fd: Int32
    public let path: String

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw TrialError("\(path): cannot open for appending (\(String(cString: strerror(errno))))") }
        let size = lseek(fd, 0, SEEK_END)
        if size > 0 {
            let data = FileManager.default.contents(atPath: path) ?? Data()
            let keep = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            if keep != data.count { ftruncate(fd, off_t(keep)) }
            lseek(fd, 0, SEEK_END)
        }
    }

    deinit { close(fd) }

    public func append(_ line: ResultLine) throws {
        let bytes = Array((line.text + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else { throw TrialError("\(path): write failed (\(String(cString: strerror(errno))))") }
            written += n
        }
        guard fsync(fd) == 0 else { throw TrialError("\(path): fsync failed (\(String(cString: strerror(errno))))") }
    }
}
