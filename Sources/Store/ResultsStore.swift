import Foundation
import GRDB

/// The results database: configurations, runs and per-epoch metrics in one SQLite file.
///
/// Opening a file creates it if needed (a zero-byte file counts as empty), switches
/// it to WAL mode and applies any pending ``Schema`` migration. Every write is one
/// transaction, so a process killed mid-run leaves a consistent file: finished
/// epochs are all there, the run itself stays `running` until the next session
/// calls ``markInterrupted()``.
///
/// The store is safe to share between threads (trials run side by side): all access
/// goes through one serialized GRDB `DatabaseQueue`. A second process may open the
/// same file; writers wait up to 5 s for each other's transactions.
public final class ResultsStore: Sendable {
    /// The file name used when none is given, relative to the working directory.
    public static let defaultPath = "quantlab.db"

    /// The path as given (`:memory:` for ``inMemory()``).
    public let path: String
    /// How errors name this database: the path, or `in-memory database`.
    var label: String { path == ":memory:" ? "in-memory database" : path }
    let dbQueue: DatabaseQueue

    /// Opens or creates the results database at `path` and migrates it.
    ///
    /// - Throws: ``StoreError`` naming the file when it cannot be opened, is not an
    ///   SQLite database, belongs to another program, or was written by a newer quantlab.
    public convenience init(path: String = ResultsStore.defaultPath) throws {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(5)
        let queue = try Self.retryingWhileBusy(path, seconds: 5) {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try Self.prepare(queue, path: path)
            return queue
        }
        self.init(prepared: queue, path: path)
    }

    /// A fresh database in memory, for tests and throwaway notebooks.
    public static func inMemory() throws -> ResultsStore {
        do {
            let queue = try DatabaseQueue()
            try prepare(queue, path: ":memory:")
            return ResultsStore(prepared: queue, path: ":memory:")
        } catch {
            throw Self.openError("in-memory database", error)
        }
    }

    private init(prepared queue: DatabaseQueue, path: String) {
        self.dbQueue = queue
        self.path = path
    }

    /// Checks that the file is ours and applies the pending migrations.
    private static func prepare(_ queue: DatabaseQueue, path: String) throws {
        try checkOwnership(queue, path: path)
        try Schema.migrate(queue)
    }

    /// `open()`, run again while it fails with SQLITE_BUSY, up to `limit` seconds; other errors,
    /// and the last one, become ``openError``. Two connections opening a new file at the
    /// same moment: one's switch to WAL or GRDB's first write after it (a deferred
    /// transaction) can fail at once with "database is locked", because SQLite does not
    /// call the busy handler where waiting could deadlock (SQLITE_BUSY_SNAPSHOT; seen
    /// about once in 100 runs of `ConcurrentMigrationTests` under load). Every step of an
    /// open is safe to repeat: the journal mode is set, migrations are one transaction.
    private static func retryingWhileBusy(_ path: String, seconds limit: Double,
                                          _ open: () throws -> DatabaseQueue) throws -> DatabaseQueue {
        let deadline = Date(timeIntervalSinceNow: limit)
        var pause = 0.005
        while true {
            do {
                return try open()
            } catch let error as DatabaseError where error.resultCode.primaryResultCode == .SQLITE_BUSY && Date() < deadline {
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 0.1)
            } catch {
                throw openError(path, error)
            }
        }
    }

    /// Refuses files that hold other programs' tables or a newer quantlab's schema,
    /// before a migration could write into them.
    private static func checkOwnership(_ queue: DatabaseQueue, path: String) throws {
        try queue.read { db in
            let tables = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master
                WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name
                """)
            if !tables.isEmpty && !tables.contains("grdb_migrations") {
                let shown = tables.prefix(5).joined(separator: ", ")
                    + (tables.count > 5 ? ", …" : "")
                throw StoreError("\(path): not a quantlab results database "
                    + "(it is an SQLite database with other tables: \(shown))")
            }
            let unknown = try Schema.applied(db).subtracting(Schema.steps.map(\.id)).sorted()
            if !unknown.isEmpty {
                let names = unknown.joined(separator: ", ")
                throw StoreError("\(path): written by a newer quantlab (schema \(names)); "
                    + "this build knows up to \(Schema.latest)")
            }
        }
    }

    /// Turns an error met while opening into one sentence naming the file.
    static func openError(_ path: String, _ error: Error) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let db = error as? DatabaseError else { return StoreError("\(path): \(error)") }
        let reason = db.message ?? "\(db.resultCode)"
        switch db.resultCode.primaryResultCode {
        case .SQLITE_NOTADB:
            return StoreError("\(path): not a quantlab results database (\(reason))")
        case .SQLITE_CORRUPT:
            return StoreError("\(path): damaged database (\(reason))")
        case .SQLITE_CANTOPEN:
            return StoreError("\(path): cannot open (\(reason); \(cannotOpenHint(path)))")
        default:
            return StoreError("\(path): \(reason)")
        }
    }

    /// Why SQLite could not open `path`, as far as the file system tells: a folder given for
    /// the file (it asked "does the folder exist?" of a folder that did), a missing folder, or
    /// permissions.
    static func cannotOpenHint(_ path: String) -> String {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            return "it is a folder; name a file, e.g. \((path as NSString).appendingPathComponent("quantlab.db"))"
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) { return "the folder \(folder) does not exist" }
        return "check the permissions of the file and its folder"
    }

    /// Runs `body` in one write transaction; errors name the operation.
    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try dbQueue.write(body)
        } catch {
            throw StoreError.sqlite("\(label): \(operation)", error)
        }
    }

    /// Runs `body` in one read-only transaction; errors name the operation.
    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try dbQueue.read(body)
        } catch {
            throw StoreError.sqlite("\(label): \(operation)", error)
        }
    }

    // MARK: - Writing

    /// Returns the id of the row with this configuration's name and definition, or
    /// inserts it as the next version of the name. A row is never rewritten: runs
    /// recorded against an earlier definition keep it (schema v2).
    @discardableResult
    public func recordConfiguration(_ configuration: ConfigurationRecord) throws -> Int64 {
        try write("recordConfiguration") { db in
            if let existing = try ConfigurationRecord
                .filter(Column("name") == configuration.name && Column("definition") == configuration.definition)
                .fetchOne(db) {
                return existing.id!
            }
            var record = configuration
            record.id = nil
            record.version = 1 + (try Int.fetchOne(db, sql: "SELECT max(version) FROM configurations WHERE name = ?",
                                                   arguments: [configuration.name]) ?? 0)
            try record.insert(db)
            return record.id!
        }
    }

    /// Inserts a new run with status `running` (whatever `run.status` says) and
    /// returns its id.
    public func beginRun(_ run: RunRecord) throws -> Int64 {
        try write("beginRun") { db in
            guard try ConfigurationRecord.exists(db, key: run.configurationID) else {
                throw StoreError("\(label): beginRun: no configuration with id \(run.configurationID)")
            }
            var record = run
            record.id = nil
            record.status = .running
            record.finished = nil
            try record.insert(db)
            return record.id!
        }
    }

    /// Records one epoch in its own transaction; recording an epoch again replaces it.
    public func recordEpoch(_ epoch: EpochRecord) throws {
        try write("recordEpoch") { db in
            guard try RunRecord.exists(db, key: epoch.runID) else {
                throw StoreError("\(label): recordEpoch: no run with id \(epoch.runID)")
            }
            try epoch.insert(db, onConflict: .replace)
        }
    }

    /// Ends a run: sets its final status, the epoch it diverged at, test metrics and
    /// the `finished` time. A run that ended (`done`, `diverged`) is never rewritten;
    /// one marked `interrupted` may still finish (another process that opened the file
    /// meanwhile took it for dead).
    public func finishRun(id: Int64, status: RunStatus, divergedEpoch: Int? = nil,
                          testAcc: Double? = nil, testLoss: Double? = nil, trained: String? = nil,
                          trainedBOPs: Double? = nil) throws {
        guard status != .running else {
            throw StoreError("\(label): finishRun: a finished run needs a status other than running")
        }
        try write("finishRun") { db in
            try db.execute(sql: """
                UPDATE runs SET status = ?, diverged_epoch = ?, test_acc = ?, test_loss = ?, trained = ?,
                       trained_bops = COALESCE(?, trained_bops),
                       finished = ? WHERE id = ? AND status IN ('running', 'interrupted')
                """, arguments: [status.rawValue, divergedEpoch, testAcc, testLoss, trained, trainedBOPs,
                                 Timestamp.now(), id])
            if db.changesCount == 0 {
                if let done = try String.fetchOne(db, sql: "SELECT status FROM runs WHERE id = ?", arguments: [id]) {
                    throw StoreError("\(label): finishRun: run \(id) is already \(done); a recorded result is not rewritten")
                }
                throw StoreError("\(label): finishRun: no run with id \(id)")
            }
        }
    }

    /// Marks every `running` run as `interrupted` and returns how many there were.
    ///
    /// Call it once after opening, when this process is the only writer: runs left
    /// `running` then belong to a process that died. Their epochs stay as recorded.
    @discardableResult
    public func markInterrupted() throws -> Int {
        try write("markInterrupted") { db in
            try db.execute(sql: "UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
            return db.changesCount
        }
    }

    /// Records a finished search and the compute it spent; returns its id.
    @discardableResult
    public func recordSearch(_ search: SearchRecord) throws -> Int64 {
        try write("recordSearch") { db in
            var record = search
            record.id = nil
            try record.insert(db)
            return record.id!
        }
    }

    // MARK: - Reading

    /// Recorded searches, by id.
    public func searches() throws -> [SearchRecord] {
        try read("searches") { db in try SearchRecord.order(Column("id")).fetchAll(db) }
    }

    /// Measured training CPU time of a configuration definition: the CPU seconds and
    /// training images summed over every epoch with a measured time, of every run of
    /// a configuration row with this `definition` (whatever its name). nil when no
    /// epoch of it has a measured time.
    ///
    /// The epoch a run diverged in is left out: it stopped at the first non-finite
    /// batch, so its CPU seconds cover a batch or two, not the `train_count` images
    /// an epoch counts here (one diverged final epoch made a definition's time
    /// 0.000 ms per image, the cheapest point of `pareto cost=time`).
    public func trainingTime(definition: String) throws -> (cpuSeconds: Double, images: Int)? {
        try read("trainingTime") { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT sum(e.cpu_seconds) AS cpu, sum(r.train_count) AS images
                FROM epochs e JOIN runs r ON r.id = e.run_id JOIN configurations c ON c.id = r.configuration_id
                WHERE c.definition = ? AND e.cpu_seconds IS NOT NULL
                  AND NOT (r.status = 'diverged' AND e.epoch IS r.diverged_epoch)
                """, arguments: [definition])
            guard let row, let cpu = row["cpu"] as Double?, let images = row["images"] as Int?, images > 0 else { return nil }
            return (cpu, images)
        }
    }

    /// All configurations, by id.
    public func configurations() throws -> [ConfigurationRecord] {
        try read("configurations") { db in
            try ConfigurationRecord.order(Column("id")).fetchAll(db)
        }
    }

    /// The newest version of the configuration with this name, if any.
    public func configuration(named name: String) throws -> ConfigurationRecord? {
        try read("configuration") { db in
            try ConfigurationRecord.filter(Column("name") == name).order(Column("version").desc).fetchOne(db)
        }
    }

    /// Every recorded version of the configuration with this name, oldest first.
    public func configurationVersions(named name: String) throws -> [ConfigurationRecord] {
        try read("configurationVersions") { db in
            try ConfigurationRecord.filter(Column("name") == name).order(Column("version")).fetchAll(db)
        }
    }

    /// Runs of one kind (all runs when `kind` is nil), by id.
    public func runs(kind: RunKind? = nil) throws -> [RunRecord] {
        try read("runs") { db in
            var request = RunRecord.order(Column("id"))
            if let kind { request = request.filter(Column("kind") == kind.rawValue) }
            return try request.fetchAll(db)
        }
    }

    /// The run with this id, if any.
    public func run(id: Int64) throws -> RunRecord? {
        try read("run") { db in try RunRecord.fetchOne(db, key: id) }
    }

    /// The recorded epochs of one run, in epoch order.
    public func epochs(runID: Int64) throws -> [EpochRecord] {
        try read("epochs") { db in
            try EpochRecord.filter(Column("run_id") == runID).order(Column("epoch")).fetchAll(db)
        }
    }

    /// The journal mode SQLite reports (`wal` for files, `memory` in memory).
    public func journalMode() throws -> String {
        try read("journalMode") { db in
            try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
        }
    }
}
