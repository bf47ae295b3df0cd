import Foundation
import GRDB
import Testing
@testable import Store

@Suite struct OpeningTests {
    private func tableNames(_ store: ResultsStore) throws -> [String] {
        try store.query("""
            SELECT name FROM sqlite_master
            WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name
            """).textRows.map { $0[0]! }
    }

    @Test func zeroByteFileIsMigratedToV1InWALMode() throws {
        let folder = try makeTemporaryFolder()
        let path = folder.appendingPathComponent("quantlab.db").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let store = try ResultsStore(path: path)
        #expect(try tableNames(store) == ["configurations", "epochs", "grdb_migrations", "runs"])
        #expect(try store.query("SELECT identifier FROM grdb_migrations").textRows == [["v1"]])
        #expect(try store.journalMode() == "wal")
        #expect(try store.query("PRAGMA table_info(epochs)").rows.count == 8)
    }

    @Test func missingFileIsCreated() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("new.db").path
        _ = try ResultsStore(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func reopeningKeepsRowsAndDoesNotMigrateAgain() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("quantlab.db").path
        do {
            let store = try ResultsStore(path: path)
            try store.upsertConfiguration(sampleConfiguration())
        }
        let store = try ResultsStore(path: path)
        #expect(try store.configurations().map(\.name) == ["w4a4"])
        #expect(try store.query("SELECT count(*) FROM grdb_migrations").textRows == [["1"]])
    }

    /// A store dropped without finishRun: the run stays running, its epochs are whole.
    @Test func droppedStoreLeavesRunningRunWithCompleteEpochs() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("quantlab.db").path
        var run: Int64 = 0
        do {
            let store = try ResultsStore(path: path)
            let configuration = try store.upsertConfiguration(sampleConfiguration())
            run = try store.beginRun(sampleRun(configurationID: configuration))
            try store.recordEpoch(sampleEpoch(runID: run, epoch: 1))
            try store.recordEpoch(sampleEpoch(runID: run, epoch: 2))
        }
        let store = try ResultsStore(path: path)
        #expect(try store.run(id: run)?.status == .running)
        #expect(try store.epochs(runID: run) == [sampleEpoch(runID: run, epoch: 1),
                                                   sampleEpoch(runID: run, epoch: 2)])
        #expect(try store.markInterrupted() == 1)
        #expect(try store.run(id: run)?.status == .interrupted)
        #expect(try store.markInterrupted() == 0)
    }

    /// A killed process: the files as they are on disk while the store is still open
    /// (database + unmerged WAL, no clean close) open with every committed epoch.
    @Test func filesCopiedMidRunOpenConsistently() throws {
        let folder = try makeTemporaryFolder()
        let path = folder.appendingPathComponent("quantlab.db").path
        let store = try ResultsStore(path: path)
        let configuration = try store.upsertConfiguration(sampleConfiguration())
        let run = try store.beginRun(sampleRun(configurationID: configuration))
        for epoch in 1...3 { try store.recordEpoch(sampleEpoch(runID: run, epoch: epoch)) }
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        let copy = folder.appendingPathComponent("crashed.db").path
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")

        let reopened = try ResultsStore(path: copy)
        #expect(try reopened.runs().map(\.status) == [.running])
        #expect(try reopened.epochs(runID: run).map(\.epoch) == [1, 2, 3])
        try store.finishRun(id: run, status: .done)
    }

    @Test func randomBytesAreNotADatabase() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("noise.db").path
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15  // xorshift64, fixed seed
        let bytes = (0..<8192).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(storeErrorMessage { _ = try ResultsStore(path: path) }
            == "\(path): not a quantlab results database (file is not a database)")
    }

    @Test func textFileIsNotADatabase() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("notes.db").path
        try Data(String(repeating: "seed 42\nmodel preset cifar3\n", count: 200).utf8)
            .write(to: URL(fileURLWithPath: path))
        #expect(storeErrorMessage { _ = try ResultsStore(path: path) }
            == "\(path): not a quantlab results database (file is not a database)")
    }

    @Test func otherProgramsDatabaseIsRefusedUntouched() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("other.db").path
        let other = try DatabaseQueue(path: path)
        try other.write { try $0.execute(sql: "CREATE TABLE players(id INTEGER PRIMARY KEY, name TEXT)") }
        #expect(storeErrorMessage { _ = try ResultsStore(path: path) }
            == "\(path): not a quantlab results database (it is an SQLite database with other tables: players)")
        let tables = try other.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master") }
        #expect(tables == ["players"])
    }

    @Test func newerSchemaIsRefused() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("future.db").path
        _ = try ResultsStore(path: path)
        let raw = try DatabaseQueue(path: path)
        try raw.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v2')") }
        #expect(storeErrorMessage { _ = try ResultsStore(path: path) }
            == "\(path): written by a newer quantlab (schema v2); this build knows up to v1")
    }

    @Test func missingFolderSaysSo() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("no/such/dir/q.db").path
        #expect(storeErrorMessage { _ = try ResultsStore(path: path) }
            == "\(path): cannot open (unable to open database file; does the folder exist?)")
    }

    @Test func inMemoryStoreUsesMemoryJournal() throws {
        let store = try ResultsStore.inMemory()
        #expect(store.path == ":memory:")
        #expect(try store.journalMode() == "memory")
    }
}
