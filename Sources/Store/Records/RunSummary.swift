import Foundation
import GRDB

/// One run of the store as `trial show store=yes` lists it: which session and line
/// started it, which configuration, and how far it got.
public struct RunSummary: Equatable, Sendable {
    public var id: Int64
    /// The session file's name without `.qlab` (nil: nothing was recording).
    public var session: String?
    public var sessionLine: Int?
    public var configuration: String
    public var kind: RunKind
    /// `high` or `low` for a dual-precision network's modes.
    public var mode: String?
    public var status: RunStatus
    /// Recorded epochs, and the validation accuracy of the last of them.
    public var epochs: Int
    public var validationAccuracy: Double?
    public var testAccuracy: Double?
}

extension ResultsStore {
    /// Every run, by id, with its configuration's name and the last recorded epoch's
    /// validation accuracy.
    public func runSummaries() throws -> [RunSummary] {
        try read("runSummaries") { db in
            try Row.fetchAll(db, sql: """
                SELECT r.id, r.session, r.session_line, c.name, r.kind, r.mode, r.status, r.test_acc,
                       (SELECT count(*) FROM epochs e WHERE e.run_id = r.id) AS epochs,
                       (SELECT e.val_acc FROM epochs e WHERE e.run_id = r.id ORDER BY e.epoch DESC LIMIT 1) AS val_acc
                FROM runs r JOIN configurations c ON c.id = r.configuration_id ORDER BY r.id
                """).map { row in
                RunSummary(id: row["id"], session: row["session"], sessionLine: row["session_line"],
                           configuration: row["name"], kind: RunKind(rawValue: row["kind"]) ?? .trial,
                           mode: row["mode"], status: RunStatus(rawValue: row["status"]) ?? .interrupted,
                           epochs: row["epochs"], validationAccuracy: row["val_acc"], testAccuracy: row["test_acc"])
            }
        }
    }

    /// The id and session of every run in the results database at `path`, read through
    /// a read-only connection: unlike opening the store, nothing is migrated and no
    /// other process's running run is marked interrupted, so a command may look
    /// without side effects. nil when there is no such file or it is not a quantlab
    /// results database (or cannot be read now).
    public static func peekRuns(path: String) -> [(id: Int64, session: String?)]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(1)
        guard let queue = try? DatabaseQueue(path: path, configuration: configuration) else { return nil }
        return try? queue.read { db in
            guard try db.tableExists("runs") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT id, session FROM runs ORDER BY id").map { row -> (id: Int64, session: String?) in
                (row["id"], row["session"])
            }
        }
    }
}
