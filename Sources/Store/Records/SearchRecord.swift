import GRDB

/// One search command and the compute it spent (schema v3, table `searches`).
///
/// `epochs` counts additional epochs of every advance, `images` the training images
/// those epochs saw, `cpuSeconds` the CPU time of the training threads (measured, so
/// it differs between replays; the rest does not).
public struct SearchRecord: Codable, Equatable, Sendable {
    public var id: Int64?
    public var kind: String
    public var command: String
    public var chosen: String?
    public var epochs: Int
    public var images: Int
    public var cpuSeconds: Double
    public var session: String?
    public var sessionLine: Int?
    public var started: String
    public var finished: String

    public init(id: Int64? = nil, kind: String, command: String, chosen: String?, epochs: Int, images: Int,
                cpuSeconds: Double, session: String? = nil, sessionLine: Int? = nil,
                started: String, finished: String = Timestamp.now()) {
        self.id = id; self.kind = kind; self.command = command; self.chosen = chosen
        self.epochs = epochs; self.images = images; self.cpuSeconds = cpuSeconds
        self.session = session; self.sessionLine = sessionLine; self.started = started; self.finished = finished
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, command, chosen, epochs, images
        case cpuSeconds = "cpu_seconds"
        case session
        case sessionLine = "session_line"
        case started, finished
    }
}

extension SearchRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "searches"

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
