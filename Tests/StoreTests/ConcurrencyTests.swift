import Foundation
import Testing
@testable import Store

/// Trials run side by side and record epochs from their own threads; a second
/// quantlab process may have the same file open.
@Suite struct ConcurrencyTests {
    @Test func epochsFromSeveralThreadsAllLand() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("quantlab.db").path
        let store = try ResultsStore(path: path)
        let configuration = try store.recordConfiguration(sampleConfiguration())
        let runs = try (0..<4).map { _ in try store.beginRun(sampleRun(configurationID: configuration)) }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: runs.count) { index in
            for epoch in 1...25 {
                do { try store.recordEpoch(sampleEpoch(runID: runs[index], epoch: epoch)) }
                catch { failures.add("\(error)") }
            }
        }
        #expect(failures.all.isEmpty)
        for run in runs { #expect(try store.epochs(runID: run).map(\.epoch) == Array(1...25)) }
    }

    @Test func twoConnectionsToOneFileTakeTurns() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("quantlab.db").path
        let first = try ResultsStore(path: path)
        let second = try ResultsStore(path: path)
        let configuration = try first.recordConfiguration(sampleConfiguration())
        let run = try second.beginRun(sampleRun(configurationID: configuration))
        try first.recordEpoch(sampleEpoch(runID: run, epoch: 1))
        try second.recordEpoch(sampleEpoch(runID: run, epoch: 2))
        #expect(try first.epochs(runID: run).count == 2)
        #expect(try second.query("SELECT count(*) FROM epochs").textRows == [["2"]])
    }

    /// Two processes recording the same new versions at once: each (name, definition)
    /// gets one row and both see its id; versions stay 1, 2, … without a gap or clash.
    @Test func twoConnectionsRecordingTheSameVersionsAgree() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("quantlab.db").path
        let stores = [try ResultsStore(path: path), try ResultsStore(path: path)]
        let failures = Failures()
        let ids = IDs()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            for k in 0..<20 {
                var c = sampleConfiguration()
                c.definition = "net = dense \(k) | dense 10; w4a4"
                do { ids.add(k, try stores[index].recordConfiguration(c)) } catch { failures.add("\(error)") }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(2))")
        #expect(ids.agree)
        #expect(try stores[0].configurationVersions(named: "w4a4").map(\.version) == Array(1...20))
    }
}

/// Row ids seen per key from several threads.
private final class IDs: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Int: Set<Int64>] = [:]
    func add(_ key: Int, _ id: Int64) { lock.lock(); seen[key, default: []].insert(id); lock.unlock() }
    var agree: Bool { lock.lock(); defer { lock.unlock() }; return seen.count == 20 && seen.values.allSatisfy { $0.count == 1 } }
}

/// Collects error texts from several threads.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
