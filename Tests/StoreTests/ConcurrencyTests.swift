import Foundation
import Testing
import GRDB
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

/// Two quantlab processes opening one file at the same moment must not both run a
/// migration ("duplicate column name: cpu_seconds"): migrations take the write lock
/// before reading which ones were applied. Two connections (separate SQLite handles,
/// as two processes have) open a new file, and a v2 file that still needs v3, at once,
/// many times over; every open succeeds and the schema ends complete, each migration once.
@Suite struct ConcurrentMigrationTests {
    @Test func twoConnectionsOpeningANewFileAtOnce() throws {
        for round in 0..<40 {
            let path = try makeTemporaryFolder().appendingPathComponent("quantlab.db").path
            try openTwiceAtOnce(path, round: round)
        }
    }

    @Test func twoConnectionsMigratingAnOldFileAtOnce() throws {
        for round in 0..<40 {
            let path = try makeTemporaryFolder().appendingPathComponent("quantlab.db").path
            try makeVersion2File(path)
            try openTwiceAtOnce(path, round: round)
            let store = try ResultsStore(path: path)
            #expect(try store.configuration(named: "w4a4")?.params == 421_642)
        }
    }

    /// Six at once: SQLite refuses some of them at once ("database is locked", without
    /// waiting for the busy timeout) while another switches the new file to WAL; the
    /// store retries those opens (`ResultsStore.retryingWhileBusy`).
    @Test func sixConnectionsOpeningANewFileAtOnce() throws {
        for round in 0..<30 {
            let path = try makeTemporaryFolder().appendingPathComponent("quantlab.db").path
            try openTwiceAtOnce(path, round: round, connections: 6)
        }
    }

    private func openTwiceAtOnce(_ path: String, round: Int, connections: Int = 2) throws {
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: connections) { _ in
            do { _ = try ResultsStore(path: path) } catch { failures.add("\(error)") }
        }
        #expect(failures.all.isEmpty, "round \(round): \(failures.all)")
        let store = try ResultsStore(path: path)
        #expect(try store.query("SELECT identifier FROM grdb_migrations ORDER BY identifier").textRows == [["v1"], ["v2"], ["v3"], ["v4"], ["v4-trained"]])
        #expect(try store.query("SELECT count(*) FROM pragma_table_info('epochs') WHERE name = 'cpu_seconds'").textRows == [["1"]])
    }

    /// A file as schema v2 left it (no epochs.cpu_seconds, no searches table), with one configuration.
    private func makeVersion2File(_ path: String) throws {
        let store = try ResultsStore(path: path)
        _ = try store.recordConfiguration(sampleConfiguration())
        try store.dbQueue.write { db in
            try db.execute(sql: """
                ALTER TABLE epochs DROP COLUMN cpu_seconds;
                DROP TABLE searches;
                DELETE FROM grdb_migrations WHERE identifier = 'v3';
                """)
        }
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
