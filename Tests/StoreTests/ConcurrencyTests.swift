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
}

/// Collects error texts from several threads.
private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
