import Foundation
import Synchronization
import GRDB

/// The gate in front of ``ResultsStore/query(_:)``: one statement that only reads.
///
/// Three locks, each enough for most cases, together for all of them:
/// 1. the first keyword must be SELECT, WITH, VALUES, EXPLAIN or PRAGMA, and a
///    PRAGMA must be one that only reads (no `=`, names from a fixed list);
///    this is what stops ATTACH, DETACH, BEGIN, VACUUM and settings changes,
///    which SQLite itself counts as read-only;
/// 2. SQLite must report the compiled statement read-only
///    (`sqlite3_stmt_readonly`), which catches `WITH … DELETE`;
/// 3. the statement runs in GRDB's read-only access (`PRAGMA query_only`), so a
///    write that slipped through would still fail.
enum ReadOnlySQL {
    static let statementKeywords: Set<String> = ["SELECT", "WITH", "VALUES", "EXPLAIN", "PRAGMA"]

    /// Pragmas that only report, and may take an argument in parentheses.
    static let pragmasWithArgument: Set<String> = [
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
        "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
    ]

    /// Pragmas that only report when written without an argument.
    static let pragmasWithoutArgument: Set<String> = [
        "application_id", "collation_list", "compile_options", "data_version",
        "database_list", "encoding", "foreign_keys", "freelist_count", "function_list",
        "journal_mode", "module_list", "page_count", "page_size", "pragma_list",
        "schema_version", "user_version",
    ]

    /// Throws ``StoreError`` unless `sql` starts like a reading statement.
    static func checkKeyword(_ sql: String) throws {
        let body = skipComments(sql)
        let keyword = String(body.prefix { $0.isLetter }).uppercased()
        if body.isEmpty {
            throw StoreError("sql: empty query")
        }
        if keyword.isEmpty {
            let shown = body.count > 40 ? body.prefix(40) + "…" : body
            throw StoreError("sql: expected a statement starting with SELECT, WITH, VALUES, EXPLAIN or PRAGMA; "
                + "found '\(shown)' (put the query in double quotes: sql \"select …\")")
        }
        guard statementKeywords.contains(keyword) else {
            throw StoreError("sql: only reading statements are allowed (SELECT, WITH, "
                + "VALUES, EXPLAIN, PRAGMA name); found \(keyword)")
        }
        if keyword == "PRAGMA" { try checkPragma(body.dropFirst(keyword.count)) }
    }

    private static func checkPragma(_ rest: Substring) throws {
        var text = rest.trimmingCharacters(in: .whitespacesAndNewlines)
        while text.hasSuffix(";") { text = String(text.dropLast()).trimmingCharacters(in: .whitespaces) }
        guard !text.contains("=") else {
            throw StoreError("sql: PRAGMA assignments change settings; only reading pragmas are allowed")
        }
        var name = String(text.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." })
        if let dot = name.lastIndex(of: ".") { name = String(name[name.index(after: dot)...]) }
        name = name.lowercased()
        let hasArgument = text.contains("(")
        let allowed = pragmasWithArgument.contains(name)
            || (!hasArgument && pragmasWithoutArgument.contains(name))
        guard allowed else {
            throw StoreError("sql: PRAGMA \(name)\(hasArgument ? "(…)" : "") is not a reading pragma here; "
                + "allowed: " + (pragmasWithArgument.union(pragmasWithoutArgument)).sorted()
                .joined(separator: ", "))
        }
    }

    /// `sql` without leading whitespace, `-- …` line comments and `/* … */` comments.
    static func skipComments(_ sql: String) -> Substring {
        var rest = Substring(sql)
        while true {
            rest = rest.drop { $0.isWhitespace }
            if rest.hasPrefix("--") {
                rest = rest.drop { $0 != "\n" }
            } else if rest.hasPrefix("/*") {
                guard let end = rest.range(of: "*/") else { return "" }
                rest = rest[end.upperBound...]
            } else {
                return rest
            }
        }
    }
}

extension ResultsStore {
    /// Runs one reading statement and returns its columns and rows.
    ///
    /// Anything that could change the database or the connection is refused with a
    /// ``StoreError`` before it runs (see ``ReadOnlySQL``); errors SQLite reports
    /// (syntax, unknown column …) come back as `sql: <SQLite's message>`.
    ///
    /// - Parameters:
    ///   - keep: at most this many rows are kept in memory (`rows`);
    ///   - count: rows are counted up to this number (`totalRows`); the statement
    ///     stops there and `complete` is false, so an endless query ends;
    ///   - isCancelled: polled every 50 ms from another thread while the statement
    ///     runs; when it returns true the statement is interrupted
    ///     (`sqlite3_interrupt`) and the query throws `sql: interrupted`.
    public func query(_ sql: String, keep: Int = Int.max, count: Int = Int.max,
                      isCancelled: (@Sendable () -> Bool)? = nil) throws -> QueryResult {
        try ReadOnlySQL.checkKeyword(sql)
        let watcher = isCancelled.map { InterruptWatcher(queue: dbQueue, isCancelled: $0) }
        defer { watcher?.stop() }
        do {
            return try dbQueue.read { db in
                let statements = try db.allStatements(sql: sql)
                guard let statement = try statements.next() else {
                    throw StoreError("sql: empty query")
                }
                let more: Bool
                do { more = try statements.next() != nil } catch { more = true }
                if more {
                    throw StoreError("sql: one statement at a time (found more after the first ';')")
                }
                guard statement.isReadonly else {
                    throw StoreError("sql: this statement would change the database; "
                        + "only reading statements are allowed")
                }
                var rows: [[QueryValue]] = []
                var seen = 0
                let cursor = try Row.fetchCursor(statement)
                while seen < count, let row = try cursor.next() {
                    seen += 1
                    if rows.count < keep {
                        rows.append((0..<row.count).map { QueryValue(row[$0] as DatabaseValue) })
                    }
                }
                let complete = try seen < count || cursor.next() == nil
                return QueryResult(columns: statement.columnNames, rows: rows, totalRows: seen, complete: complete)
            }
        } catch {
            if isCancelled?() == true { throw StoreError("sql: interrupted") }
            throw StoreError.sqlite("sql", error)
        }
    }
}

/// Polls `isCancelled` on a background thread while a query runs and interrupts
/// the connection when it turns true. `stop()` wakes the poller and waits until it
/// can no longer interrupt, so a later statement is never hit by a stale interrupt
/// (and a quick query does not wait for the next poll).
final class InterruptWatcher: Sendable {
    /// `done`, under a mutex that the poller also holds while it interrupts, so
    /// `stop()` cannot slip between its check and `queue.interrupt()`. (It was an
    /// NSLock-guarded var in an `@unchecked Sendable` class; now the compiler checks it.)
    private let done = Mutex(false)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(queue: DatabaseQueue, isCancelled: @escaping @Sendable () -> Bool) {
        let thread = Thread { [self] in
            while true {
                let stopNow = done.withLock { done -> Bool in
                    if done { return true }
                    if isCancelled() { queue.interrupt(); return true }
                    return false
                }
                if stopNow { break }
                _ = wake.wait(timeout: .now() + .milliseconds(50))
            }
            finished.signal()
        }
        thread.start()
    }

    func stop() {
        done.withLock { $0 = true }
        wake.signal()
        finished.wait()
    }
}

extension QueryValue {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let integer): self = .integer(integer)
        case .double(let real): self = .real(real)
        case .string(let string): self = .text(string)
        case .blob(let data): self = .blob([UInt8](data))
        }
    }
}
