import Foundation
import Trials

/// One line of a task's results file (JSON lines): an epoch of a job, or its end.
///
///     {"epoch":{"epoch":1,"images_per_second":…,"seconds":…,"train_acc":…,"train_loss":…,"val_acc":…,"val_loss":…},"job":3,"type":"epoch"}
///     {"job":3,"status":"done","test_acc":…,"test_loss":…,"type":"finished"}
///
/// Numbers are JSON doubles in Swift's shortest round-trip form, so the head reads
/// back the worker's values bit for bit (tested).
public struct ResultLine: Codable, Sendable, Equatable {
    public var type: String            // "epoch" | "finished"
    public var job: Int
    public var epoch: EpochLine?
    public var status: String?         // done | diverged | interrupted
    public var divergedEpoch: Int?
    public var testLoss: Double?, testAcc: Double?

    enum CodingKeys: String, CodingKey {
        case type, job, epoch, status, divergedEpoch = "diverged_epoch", testLoss = "test_loss", testAcc = "test_acc"
    }

    public static func epoch(job: Int, _ m: EpochMetrics) -> ResultLine {
        ResultLine(type: "epoch", job: job, epoch: EpochLine(m))
    }

    public static func finished(job: Int, _ o: TrialOutcome) -> ResultLine {
        ResultLine(type: "finished", job: job, status: o.status.rawValue, divergedEpoch: o.divergedEpoch,
                   testLoss: o.testLoss, testAcc: o.testAccuracy)
    }

    public var text: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try! e.encode(self), as: UTF8.self)   // numbers (NaN and ±inf as strings) and strings cannot fail
    }

    public static func parse(_ line: String, file: String, lineNumber: Int) throws -> ResultLine {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try d.decode(ResultLine.self, from: Data(line.utf8)) }
        catch { throw TrialError("\(file):\(lineNumber): expected a result line (JSON), found '\(line.prefix(80))'") }
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
public final class ResultReader {
    public let path: String
    private var offset: UInt64 = 0
    private var lineNumber = 0
    private var seen = Set<String>()

    public init(path: String) { self.path = path }

    /// New lines since the last call.
    public func readNew() throws -> [ResultLine] {
        guard let h = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? h.close() }
        try h.seek(toOffset: offset)
        let data = h.readDataToEndOfFile()
        guard let end = data.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        let complete = data[data.startIndex...end]
        offset += UInt64(complete.count)
        var out: [ResultLine] = []
        for raw in complete.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            lineNumber += 1
            let text = String(decoding: raw, as: UTF8.self)
            let line = try ResultLine.parse(text, file: path, lineNumber: lineNumber)
            let key = line.type == "epoch" ? "e \(line.job) \(line.epoch?.epoch ?? -1)" : "f \(line.job)"
            if seen.insert(key).inserted { out.append(line) }
        }
        return out
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
