import Testing
@testable import Store

@Suite struct ReadOnlyQueryTests {
    private func storeWithOneConfiguration() throws -> ResultsStore {
        let store = try ResultsStore.inMemory()
        try store.recordConfiguration(sampleConfiguration())
        return store
    }

    private static let onlyReading = "only reading statements are allowed (SELECT, WITH, VALUES, EXPLAIN, PRAGMA name); found"

    @Test(arguments: [
        ("INSERT INTO configurations(name) VALUES ('x')", "sql: \(onlyReading) INSERT"),
        ("delete from configurations", "sql: \(onlyReading) DELETE"),
        ("DROP TABLE runs", "sql: \(onlyReading) DROP"),
        ("UPDATE runs SET status = 'done'", "sql: \(onlyReading) UPDATE"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "sql: \(onlyReading) ATTACH"),
        ("BEGIN", "sql: \(onlyReading) BEGIN"),
        ("VACUUM", "sql: \(onlyReading) VACUUM"),
        ("/* sneaky */ -- comment\n  CREATE TABLE t(x)", "sql: \(onlyReading) CREATE"),
        ("SELECT 1; DELETE FROM configurations", "sql: one statement at a time (found more after the first ';')"),
        ("SELECT 1; SELECT 2", "sql: one statement at a time (found more after the first ';')"),
        ("WITH doomed AS (SELECT id FROM configurations) DELETE FROM configurations WHERE id IN doomed",
         "sql: this statement would change the database; only reading statements are allowed"),
        ("PRAGMA journal_mode = DELETE", "sql: PRAGMA assignments change settings; only reading pragmas are allowed"),
        ("PRAGMA query_only=0", "sql: PRAGMA assignments change settings; only reading pragmas are allowed"),
        ("", "sql: empty query"),
        ("  -- nothing\n", "sql: empty query"),
    ])
    func rejectsAnythingButOneReadingStatement(sql: String, message: String) throws {
        let store = try storeWithOneConfiguration()
        #expect(storeErrorMessage { _ = try store.query(sql) } == message)
        #expect(try store.configurations().count == 1)
        #expect(try store.query("SELECT count(*) FROM sqlite_master WHERE name = 't'").textRows == [["0"]])
    }

    @Test func rejectsPragmasThatAreNotOnTheReadingList() throws {
        let store = try storeWithOneConfiguration()
        let message = storeErrorMessage { _ = try store.query("PRAGMA journal_mode(DELETE)") }
        #expect(message.hasPrefix("sql: PRAGMA journal_mode(…) is not a reading pragma here; allowed: "))
        #expect(storeErrorMessage { _ = try store.query("pragma main.writable_schema") }
            .hasPrefix("sql: PRAGMA writable_schema is not a reading pragma here"))
        #expect(try store.journalMode() == "memory")
    }

    @Test(arguments: [
        "SELECT name FROM configurations;",
        "  -- leading comment\nSELECT name FROM configurations",
        "WITH c AS (SELECT name FROM configurations) SELECT name FROM c",
        "select name from configurations; -- trailing comment",
    ])
    func acceptsReadingStatements(sql: String) throws {
        let store = try storeWithOneConfiguration()
        let result = try store.query(sql)
        #expect(result.columns == ["name"])
        #expect(result.textRows == [["w4a4"]])
    }

    @Test func acceptsReadingPragmasExplainAndValues() throws {
        let store = try storeWithOneConfiguration()
        #expect(try store.query("PRAGMA table_info(configurations)").rows.count == 13)
        #expect(try store.query("PRAGMA user_version").textRows == [["0"]])
        #expect(try !store.query("EXPLAIN QUERY PLAN SELECT * FROM runs WHERE kind = 'trial'").rows.isEmpty)
        #expect(try store.query("VALUES (1, 'a'), (2, NULL)").textRows == [["1", "a"], ["2", nil]])
    }

    @Test func badSQLCarriesSQLiteMessage() throws {
        let store = try storeWithOneConfiguration()
        #expect(storeErrorMessage { _ = try store.query("SELECT nope FROM configurations") }
            == "sql: no such column: nope")
        #expect(storeErrorMessage { _ = try store.query("SELECT * FROM nowhere") }
            == "sql: no such table: nowhere")
        #expect(storeErrorMessage { _ = try store.query("SELECT * FROM") }
            == "sql: incomplete input")
    }

    @Test func queryKeepsSQLiteTypes() throws {
        let store = try ResultsStore.inMemory()
        let result = try store.query("SELECT 1 AS i, 0.5 AS r, 'x' AS t, NULL AS n, x'00ff' AS b")
        #expect(result.rows == [[.integer(1), .real(0.5), .text("x"), .null, .blob([0, 255])]])
        #expect(result.textRows == [["1", "0.5", "x", nil, "x'00ff'"]])
    }

    static let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "

    @Test func rowsAreKeptAndCountedUpToTheLimits() throws {
        let store = try ResultsStore.inMemory()
        let some = try store.query(Self.endless + "SELECT x FROM c LIMIT 25", keep: 10)
        #expect(some.rows.count == 10 && some.rows.last == [.integer(10)])
        #expect(some.totalRows == 25 && some.complete && !some.isWhole)
        let exact = try store.query(Self.endless + "SELECT x FROM c LIMIT 25", keep: 10, count: 25)
        #expect(exact.totalRows == 25 && exact.complete)
        // An endless statement ends at the count limit.
        let endless = try store.query(Self.endless + "SELECT x FROM c", keep: 3, count: 1000)
        #expect(endless.rows == [[.integer(1)], [.integer(2)], [.integer(3)]])
        #expect(endless.totalRows == 1000 && !endless.complete)
    }

    @Test func aCancelledQueryIsInterruptedAndTheConnectionStaysUsable() throws {
        let store = try ResultsStore.inMemory()
        let start = ContinuousClock.now
        let error = #expect(throws: StoreError.self) {
            try store.query(Self.endless + "SELECT count(*) FROM c", isCancelled: { ContinuousClock.now - start > .milliseconds(200) })
        }
        #expect(error?.description == "sql: interrupted")
        #expect(try store.query("SELECT 2", isCancelled: { false }).rows == [[.integer(2)]])
        #expect(try store.query("SELECT 3").rows == [[.integer(3)]])
    }
}
