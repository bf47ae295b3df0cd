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

    @Test func zeroByteFileIsMigratedToLatestInWALMode() throws {
        let folder = try makeTemporaryFolder()
        let path = folder.appendingPathComponent("quantlab.db").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let store = try ResultsStore(path: path)
        #expect(try tableNames(store) == ["configurations", "epochs", "grdb_migrations", "runs", "searches"])
        #expect(try store.query("SELECT identifier FROM grdb_migrations ORDER BY identifier").textRows == [["v1"], ["v2"], ["v3"], ["v4"], ["v4-trained"]])
        #expect(try store.journalMode() == "wal")
        #expect(try store.query("PRAGMA table_info(epochs)").rows.count == 9)
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
            try store.recordConfiguration(sampleConfiguration())
        }
        let store = try ResultsStore(path: path)
        #expect(try store.configurations().map(\.name) == ["w4a4"])
        #expect(try store.query("SELECT count(*) FROM grdb_migrations").textRows == [["5"]])
    }

    /// A store dropped without finishRun: the run stays running, its epochs are whole.
    @Test func droppedStoreLeavesRunningRunWithCompleteEpochs() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("quantlab.db").path
        var run: Int64 = 0
        do {
            let store = try ResultsStore(path: path)
            let configuration = try store.recordConfiguration(sampleConfiguration())
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
        let configuration = try store.recordConfiguration(sampleConfiguration())
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
        try raw.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v9')") }
        #expect(storeErrorMessage { _ = try ResultsStore(path: path) }
            == "\(path): written by a newer quantlab (schema v9); this build knows up to v4-trained")
    }

    @Test func missingFolderSaysSo() throws {
        let folder = try makeTemporaryFolder().appendingPathComponent("no/such/dir").path
        let path = folder + "/q.db"
        #expect(storeErrorMessage { _ = try ResultsStore(path: path) }
            == "\(path): cannot open (unable to open database file; the folder \(folder) does not exist)")
    }

    /// `store open sessions` (a folder) asked "does the folder exist?" of a folder that did
    /// (twelfth-pass audit).
    @Test func aFolderGivenForTheFileSaysSo() throws {
        let path = try makeTemporaryFolder().path
        #expect(storeErrorMessage { _ = try ResultsStore(path: path) }
            == "\(path): cannot open (unable to open database file; it is a folder; name a file, e.g. \(path)/quantlab.db)")
    }

    @Test func inMemoryStoreUsesMemoryJournal() throws {
        let store = try ResultsStore.inMemory()
        #expect(store.path == ":memory:")
        #expect(try store.journalMode() == "memory")
    }

    /// A file written by the v1 schema as it shipped (text copied from Schema.v1),
    /// with one configuration, a run and an epoch: opening migrates it to v2 and
    /// every number stays, the configuration as version 1 of its name.
    @Test func v1FileMigratesAndKeepsItsNumbers() throws {
        let path = try makeTemporaryFolder().appendingPathComponent("v1.db").path
        let raw = try DatabaseQueue(path: path)
        try raw.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1');
                CREATE TABLE configurations (
                    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, model TEXT NOT NULL, spec TEXT NOT NULL,
                    precision TEXT NOT NULL, params INTEGER NOT NULL, weight_bits INTEGER NOT NULL,
                    macs INTEGER NOT NULL, bops INTEGER NOT NULL, energy_pj REAL NOT NULL, created TEXT NOT NULL);
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY, configuration_id INTEGER NOT NULL REFERENCES configurations(id),
                    kind TEXT NOT NULL CHECK (kind IN ('trial', 'final', 'search')), dataset TEXT NOT NULL,
                    fingerprint TEXT NOT NULL, train_count INTEGER NOT NULL, settings TEXT NOT NULL,
                    seed INTEGER NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'diverged', 'interrupted')),
                    diverged_epoch INTEGER, session TEXT, session_line INTEGER, started TEXT NOT NULL,
                    finished TEXT, test_acc REAL, test_loss REAL);
                CREATE INDEX runs_configuration ON runs(configuration_id);
                CREATE INDEX runs_kind ON runs(kind);
                CREATE TABLE epochs (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
                    train_loss REAL, train_acc REAL, val_loss REAL, val_acc REAL, seconds REAL NOT NULL,
                    images_per_second REAL NOT NULL, PRIMARY KEY (run_id, epoch));
                INSERT INTO configurations VALUES (7, 'w2a32', 'net', 'net conv1=w2a32 dense1=w2a32', 'conv1=w2a32 dense1=w2a32',
                    3950, 9184, 98000, 6272000, 123.5, '2025-11-23T11:40:00Z');
                INSERT INTO runs VALUES (3, 7, 'trial', 'fashion-mnist', 'fm-1', 6000, '{}', 42, 'done', NULL,
                    'sessions/a.qlab', 4, '2025-11-23T11:41:00Z', '2025-11-23T11:42:00Z', NULL, NULL);
                INSERT INTO epochs VALUES (3, 1, 0.75, 0.625, 0.5, 0.8125, 2.5, 2400);
                """)
        }
        let store = try ResultsStore(path: path)
        #expect(try store.query("SELECT identifier FROM grdb_migrations ORDER BY identifier").textRows == [["v1"], ["v2"], ["v3"], ["v4"], ["v4-trained"]])
        let c = try #require(try store.configuration(named: "w2a32"))
        #expect(c == ConfigurationRecord(id: 7, name: "w2a32", version: 1, model: "net",
                                         definition: "net conv1=w2a32 dense1=w2a32", spec: "net conv1=w2a32 dense1=w2a32",
                                         precision: "conv1=w2a32 dense1=w2a32", params: 3950, weightBits: 9184,
                                         macs: 98000, bops: 6_272_000, energyPJ: 123.5, created: "2025-11-23T11:40:00Z"))
        #expect(try store.run(id: 3)?.configurationID == 7)
        #expect(try store.epochs(runID: 3).map(\.valAcc) == [0.8125])
        // v3: the old epoch keeps no measured time (NULL), so the definition has none.
        #expect(try store.epochs(runID: 3).map(\.cpuSeconds) == [nil])
        #expect(try store.trainingTime(definition: "net conv1=w2a32 dense1=w2a32") == nil)
        // The same name on another model is now a second version; run 3 keeps version 1.
        var other = c
        other.definition = "net = conv 12 k3 | dense 10 input=1x28x28; conv1=w2a32 dense1=w2a32"
        other.params = 11_926
        let id = try store.recordConfiguration(other)
        #expect(id != 7)
        #expect(try store.query("SELECT c.params FROM runs r JOIN configurations c ON c.id = r.configuration_id WHERE r.id = 3").textRows == [["3950"]])
    }

    /// v3: measured CPU time per epoch, summed per definition over every run of any name;
    /// searches keep what they spent.
    @Test func measuredTrainingTimeAndSearchCompute() throws {
        let store = try ResultsStore.inMemory()
        let a = try store.recordConfiguration(ConfigurationRecord(name: "a", model: "m", definition: "D", spec: "m",
            precision: "w4a4", params: 1, weightBits: 4, macs: 1, bops: 16, energyPJ: 1))
        let b = try store.recordConfiguration(ConfigurationRecord(name: "b", model: "m", definition: "D", spec: "m",
            precision: "w4a4", params: 1, weightBits: 4, macs: 1, bops: 16, energyPJ: 1))
        let r1 = try store.beginRun(RunRecord(configurationID: a, kind: .trial, dataset: "d", fingerprint: "f", trainCount: 1000, seed: 1))
        let r2 = try store.beginRun(RunRecord(configurationID: b, kind: .final, dataset: "d", fingerprint: "f", trainCount: 3000, seed: 1))
        try store.recordEpoch(EpochRecord(runID: r1, epoch: 1, trainLoss: 1, trainAcc: 0.5, valLoss: nil, valAcc: nil,
                                          seconds: 9, imagesPerSecond: 111, cpuSeconds: 0.5))
        try store.recordEpoch(EpochRecord(runID: r1, epoch: 2, trainLoss: 1, trainAcc: 0.5, valLoss: nil, valAcc: nil,
                                          seconds: 9, imagesPerSecond: 111, cpuSeconds: 0.75))
        try store.recordEpoch(EpochRecord(runID: r2, epoch: 1, trainLoss: 1, trainAcc: 0.5, valLoss: nil, valAcc: nil,
                                          seconds: 9, imagesPerSecond: 333, cpuSeconds: 2.75))
        // (0.5 + 0.75 + 2.75) s over 1000 + 1000 + 3000 images = 0.8 ms per image
        let t = try #require(try store.trainingTime(definition: "D"))
        #expect(t.cpuSeconds == 4 && t.images == 5000)
        #expect(try store.trainingTime(definition: "E") == nil)
        // A run that diverged in its second epoch: epoch 1 counts, epoch 2 (stopped after
        // a batch, 0.01 s for a nominal 2000 images) does not.
        let r3 = try store.beginRun(RunRecord(configurationID: a, kind: .final, dataset: "d", fingerprint: "f", trainCount: 2000, seed: 2))
        try store.recordEpoch(EpochRecord(runID: r3, epoch: 1, trainLoss: 1, trainAcc: 0.5, valLoss: nil, valAcc: nil,
                                          seconds: 9, imagesPerSecond: 222, cpuSeconds: 1))
        try store.recordEpoch(EpochRecord(runID: r3, epoch: 2, trainLoss: nil, trainAcc: 0.1, valLoss: nil, valAcc: nil,
                                          seconds: 0.01, imagesPerSecond: 1600, cpuSeconds: 0.01))
        try store.finishRun(id: r3, status: .diverged, divergedEpoch: 2)
        let withDiverged = try #require(try store.trainingTime(definition: "D"))
        #expect(withDiverged.cpuSeconds == 5 && withDiverged.images == 7000)
        let id = try store.recordSearch(SearchRecord(kind: "tpe", command: "search tpe m", chosen: "tpe", epochs: 12,
                                                     images: 12_000, cpuSeconds: 3.5, started: "2026-12-01T00:00:00Z"))
        #expect(try store.searches().map(\.id) == [id])
        #expect(try store.searches().first?.images == 12_000)
    }
}
