import Foundation

/// Re-runs a recorded session and, with `verify`, checks its results.
///
/// Every command line runs in order; comments (including failed commands
/// recorded as `# failed:`) are skipped. With `verify`, each command's new key
/// results are compared in order with the `#=` lines that follow it, and the
/// replay stops at the first difference, reported as
/// `FILE:LINE: expected '…' found '…'`. When the header's cpu or BLAS kernel
/// differs from this machine, numbers are compared within `tolerance`
/// (relative); the summary always says which comparison was used, and a
/// verification that compared nothing fails.
///
/// Replaying a file is running someone's script: unless `writesAnywhere`,
/// commands write only below the working directory, and unless `readsAnywhere`
/// they read files and folders named in the session (`data load csv FILE`,
/// `evaluate`, `source`, `store open`, `trial resume`) only below it too.
/// A search recorded with a `# time budget: ran N rungs` line runs N rungs.
/// A command recorded with a `# stopped:` line (Ctrl-C) stops its run after
/// the recorded epochs; `quit` ends the replay.
public struct Replayer {
    public var verify: Bool
    public var machine: MachineInfo
    /// Relative tolerance used when the recording machine differs.
    public var tolerance: Double
    /// Lift the below-the-working-directory rule for writes.
    public var writesAnywhere: Bool
    /// Lift the below-the-working-directory rule for reads by a named path.
    public var readsAnywhere: Bool

    public init(verify: Bool, machine: MachineInfo = .current, tolerance: Double = 1e-3,
                writesAnywhere: Bool = false, readsAnywhere: Bool = false) {
        self.verify = verify
        self.machine = machine
        self.tolerance = tolerance
        self.writesAnywhere = writesAnywhere
        self.readsAnywhere = readsAnywhere
    }

    /// One command of the file with the `#=` lines recorded after it.
    struct Entry {
        var lineNumber: Int
        var line: String
        var recorded: [(lineNumber: Int, value: String)]
        /// Where Ctrl-C stopped it when it was recorded.
        var stop: RunStop? = nil
        /// How many rungs it ran under a time budget when it was recorded.
        var cap: RungCap? = nil
    }

    /// Replays `text` (the contents of `file`) on `notebook`, which should not be recording.
    public func replay(_ text: String, file: String, on notebook: Notebook) -> ReplayReport {
        let lines = Notebook.lines(of: text)
        var report = ReplayReport(file: file, verified: verify)
        let ws = notebook.workspace
        let header = SessionHeader.fields(of: lines)
        if let seed = header["seed"].flatMap(UInt64.init) { ws.seed = seed }
        if let threads = header["threads"].flatMap(Int.init), (1...2).contains(threads) { ws.threads = threads }
        let previous = (ws.writePolicy, ws.readPolicy, ws.replayingPath, ws.sessionName, ws.sessionLine)
        ws.writePolicy = writesAnywhere ? .anywhere : .belowWorkingDirectory
        ws.readPolicy = readsAnywhere ? .anywhere : .belowWorkingDirectory
        ws.replayingPath = file
        ws.sessionName = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        defer {
            (ws.writePolicy, ws.readPolicy, ws.replayingPath, ws.sessionName, ws.sessionLine) = previous
            ws.replayStop = nil
            ws.replayRungCap = nil
        }
        var comparator = ResultComparator()
        report.comparison = "exact comparison"
        if verify, let cpu = header["cpu"], let blas = header["blas"] {
            let recorded = MachineInfo(cpu: cpu, blas: blas)
            if recorded != machine {
                comparator.relative = tolerance
                report.note = "note: recorded on \(recorded.summary); replaying on \(machine.summary); "
                    + "comparing numbers within relative \(tolerance)"
                report.comparison = "numbers within relative \(tolerance), because the header's cpu/BLAS differ from this machine"
            }
        }
        let entries = entries(lines)
        let expected = entries.reduce(0) { $0 + $1.recorded.count }
        for entry in entries {
            report.commands += 1
            ws.replayStop = entry.stop
            ws.replayRungCap = entry.cap
            ws.sessionLine = entry.lineNumber
            let produced: [String]
            switch notebook.execute(entry.line, lineNumber: entry.lineNumber) {
            case .blank: continue
            case .failure(let message):
                report.failure = "\(file):\(entry.lineNumber): \(message)"
                return report
            case .success(let output):
                produced = SessionRecorder.resultLines(output.results)
            }
            if verify, let difference = compare(entry, produced, comparator, file: file) {
                report.failure = difference
                return report
            }
            if verify { report.resultsChecked += entry.recorded.count }
            if notebook.quitRequested { break }
        }
        if verify && report.resultsChecked == 0 {
            report.failure = "\(file): nothing was verified: " + (expected == 0
                ? "the file has no '#=' results to compare" : "replay ended before the first '#=' result")
                + " (\(report.commands == 1 ? "1 command" : "\(report.commands) commands") replayed)"
        }
        return report
    }

    /// The first difference between recorded and produced results, if any.
    func compare(_ entry: Entry, _ produced: [String], _ comparator: ResultComparator, file: String) -> String? {
        for i in 0..<max(entry.recorded.count, produced.count) {
            if i < entry.recorded.count {
                let (lineNumber, expected) = entry.recorded[i]
                guard i < produced.count else { return "\(file):\(lineNumber): expected '\(expected)' found nothing" }
                if !comparator.matches(expected: expected, found: produced[i]) {
                    return "\(file):\(lineNumber): expected '\(expected)' found '\(produced[i])'"
                }
            } else {
                let lineNumber = entry.recorded.last?.lineNumber ?? entry.lineNumber
                return "\(file):\(lineNumber): expected no more results found '\(produced[i])'"
            }
        }
        return nil
    }

    /// Commands of the file, each with the `#=` lines that follow it.
    func entries(_ lines: [String]) -> [Entry] {
        var entries: [Entry] = []
        for (index, line) in lines.enumerated() {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("#=") {
                var value = trimmed.dropFirst(2)
                if value.first == " " { value = value.dropFirst() }
                if !entries.isEmpty { entries[entries.count - 1].recorded.append((index + 1, String(value))) }
            } else if let stop = RunStop.parse(line) {
                if !entries.isEmpty { entries[entries.count - 1].stop = stop }
            } else if let cap = RungCap.parse(line) {
                if !entries.isEmpty { entries[entries.count - 1].cap = cap }
            } else if !trimmed.isEmpty && !trimmed.hasPrefix("#") {
                entries.append(Entry(lineNumber: index + 1, line: line, recorded: []))
            }
        }
        return entries
    }
}
