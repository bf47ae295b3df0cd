import Foundation
import Store

/// `sql`, `store open | export | schema`.
enum StoreCommands {
    static let tables = ["configurations", "runs", "epochs"]
    /// Rows `sql` shows; more are counted and summarised in a note.
    static let displayRows = 1000
    /// Rows a query may produce: what is counted, and the most an export writes
    /// (the rows are held in memory while the file is written).
    static let maxRows = 1_000_000

    static var specs: [CommandSpec] {
        [
            CommandSpec(
                verb: "sql", synopsis: "sql \"SELECT …\" [csv=FILE] [json=FILE]  ·  sql .tables  ·  sql .schema [TABLE]",
                abstract: "Query the results store (read only): tables configurations, runs, epochs.",
                discussion: """
                Example: sql "select c.name, max(e.val_acc) from epochs e join runs r on r.id = e.run_id
                join configurations c on c.id = r.configuration_id group by c.name"
                Only one SELECT / WITH / VALUES / EXPLAIN / PRAGMA statement; the connection is read only.
                Put the query in double quotes (or single quotes, with '' for a quote inside).
                .tables lists the tables with their row counts, .schema shows their columns.
                At most \(displayRows) rows are shown (the note says how many there were); csv= and json=
                write all rows, up to \(maxRows). Ctrl-C stops a query that runs too long.
                """,
                options: ["csv", "json"], optionValues: ["csv": .path, "json": .path], freeForm: true
            ) { inv, ws in
                let (text, outputs) = try queryText(inv)
                guard !text.isEmpty else { throw inv.usageError("missing the query, e.g. sql \"select * from runs\"") }
                let store = try ws.state.store(ws)
                if text.hasPrefix(".") { return CommandOutput(try dotCommand(text, inv, store)) }
                let targets = try outputs.sorted(by: { $0.key < $1.key }).map { (format: $0.key, target: try ws.outputPath($0.value)) }
                let r = try query(ws, inv) {
                    try store.query(text, keep: targets.isEmpty ? displayRows : maxRows, count: maxRows, isCancelled: $0)
                }
                var shown = r
                shown.rows = Array(r.rows.prefix(displayRows))
                var out = shown.renderTable() + "\n" + rowNote(r, shown: shown.rows.count)
                for (format, target) in targets {
                    out += "\n" + (try target.write(format == "csv" ? r.csv() : r.json()))
                }
                return CommandOutput(out)
            },
            CommandSpec(
                group: "store", verb: "open", synopsis: "store open PATH",
                abstract: "Use another results database file (created and migrated when new).",
                discussion: "During replay PATH must be below the current folder (replay --allow-writes-anywhere and --allow-reads-anywhere allow more).",
                completes: [.path]
            ) { inv, ws in
                try inv.expectWords(1...1)
                try ws.inputPath(inv.words[0])
                try ws.checkBelowWorkingDirectory(inv.words[0], purpose: "open results stores")
                let s = try ws.state.openStore(path: inv.words[0], ws)
                return CommandOutput("results store \(s.path): \(try s.runs().count) runs")
            },
            CommandSpec(
                group: "store", verb: "export", synopsis: "store export TABLE|\"SELECT …\" (csv=FILE | json=FILE)",
                abstract: "Export a table (configurations, runs, epochs) or a query as CSV or JSON.",
                discussion: "Writes every row, up to \(maxRows); an existing file is replaced (the output says so).",
                options: ["csv", "json"], completes: [.choice(tables)], optionValues: ["csv": .path, "json": .path]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let what = inv.words[0]
                let isTable = tables.contains(what)
                if !isTable && !what.contains(where: \.isWhitespace) && !what.contains("(") {
                    let hint = EditDistance.nearest(to: what, in: tables).map { "did you mean '\($0)'? " } ?? ""
                    throw QuantlabError.runtime("store export: unknown table '\(QuantlabError.clip(what))'; \(hint)tables are "
                        + tables.joined(separator: ", ") + "; or give a query in quotes: store export \"select …\" csv=FILE")
                }
                guard inv.string("csv") != nil || inv.string("json") != nil else { throw inv.usageError("give csv=FILE or json=FILE") }
                let targets = try ["csv", "json"].compactMap { f in try inv.string(f).map { (format: f, target: try ws.outputPath($0)) } }
                let store = try ws.state.store(ws)
                let r = try query(ws, inv) { cancelled in
                    isTable ? try store.table(what, keep: maxRows, count: maxRows, isCancelled: cancelled)
                            : try store.query(what, keep: maxRows, count: maxRows, isCancelled: cancelled)
                }
                var wrote: [String] = []
                for (format, target) in targets { wrote.append(try target.write(format == "csv" ? r.csv() : r.json())) }
                return CommandOutput(wrote.joined(separator: "\n") + " (\(r.rows.count) row\(r.rows.count == 1 ? "" : "s"))")
            },
            CommandSpec(
                group: "store", verb: "schema", synopsis: "store schema [TABLE]",
                abstract: "Show the results store's tables: their columns and row counts.",
                discussion: "The same as sql .schema; sql .tables lists only the names and row counts.",
                completes: [.choice(tables)]
            ) { inv, ws in
                try inv.expectWords(0...1)
                return CommandOutput(try schema(inv.words.first, inv, try ws.state.store(ws)))
            },
        ]
    }

    /// Runs a query with Ctrl-C connected, and refuses results with more rows
    /// than an export may hold.
    static func query(_ ws: Workspace, _ inv: Invocation,
                      _ body: (@escaping @Sendable () -> Bool) throws -> QueryResult) throws -> QueryResult {
        let interrupt = ws.interrupt
        let r: QueryResult
        do {
            r = try body { interrupt.isSet }
        } catch {
            if ws.interrupted { throw QuantlabError.interrupted }
            throw error
        }
        if inv.string("csv") != nil || inv.string("json") != nil, !r.isWhole {
            throw QuantlabError.runtime("\(inv.command): the query gives more than \(maxRows) rows; nothing was written; "
                + "narrow it with WHERE or LIMIT")
        }
        return r
    }

    /// `(12 rows)`, or what was left out.
    static func rowNote(_ r: QueryResult, shown: Int) -> String {
        let plural = r.totalRows == 1 ? "" : "s"
        if r.complete && shown == r.totalRows { return "(\(r.totalRows) row\(plural))" }
        let total = r.complete ? "\(r.totalRows) rows" : "more than \(maxRows) rows"
        return "(showing the first \(shown) of \(total); add LIMIT and OFFSET to see others, or csv=FILE to write them all)"
    }

    /// The query text and the csv/json options. A query in single quotes is
    /// taken as SQL writes strings ('' is a quote), so `sql 'select 1'` works.
    static func queryText(_ inv: Invocation) throws -> (String, [String: String]) {
        let rest = inv.rest
        var options = inv.options
        var text = inv.words.joined(separator: " ")
        if rest.hasPrefix("'") {
            let chars = Array(rest)
            var inner = "", i = 1, closed = false
            while i < chars.count {
                if chars[i] == "'" {
                    if i + 1 < chars.count && chars[i + 1] == "'" { inner.append("'"); i += 2; continue }
                    closed = true
                    i += 1
                    break
                }
                inner.append(chars[i])
                i += 1
            }
            guard closed else { throw inv.usageError("unterminated '…' query; add the closing '") }
            text = inner
            options = [:]
            for token in try Tokenizer.tokenize(String(chars[i...])) {
                guard case .option(let key) = token.kind else {
                    throw inv.usageError("unexpected '\(QuantlabError.clip(token.text))' after the query")
                }
                options[key] = token.text
            }
        }
        for key in options.keys where key != "csv" && key != "json" {
            throw inv.usageError("unknown option '\(key)'; valid options: csv, json "
                + "(a query with '=' goes in quotes: sql \"select * from runs where id = 1\")")
        }
        return (text.trimmingCharacters(in: .whitespaces), options)
    }

    /// `.tables` and `.schema [TABLE]`, as in sqlite3's shell.
    static func dotCommand(_ text: String, _ inv: Invocation, _ store: ResultsStore) throws -> String {
        let words = text.split(separator: " ").map(String.init)
        switch words[0] {
        case ".tables":
            guard words.count == 1 else { throw inv.usageError(".tables takes no arguments") }
            let counts = try tables.map { t -> String in
                let n = try store.query("select count(*) from \(t)").rows.first?.first?.text ?? "0"
                return "\(t) (\(n) rows)"
            }
            return counts.joined(separator: "\n")
        case ".schema":
            guard words.count <= 2 else { throw inv.usageError(".schema takes at most one table name") }
            return try schema(words.count == 2 ? words[1] : nil, inv, store)
        default:
            throw inv.usageError("unknown dot command '\(QuantlabError.clip(words[0]))'; .tables and .schema [TABLE] are known")
        }
    }

    static func schema(_ table: String?, _ inv: Invocation, _ store: ResultsStore) throws -> String {
        if let table, !tables.contains(table) {
            throw QuantlabError.runtime("no table named '\(QuantlabError.clip(table))'; tables are " + tables.joined(separator: ", "))
        }
        return try store.schema(table: table).map { $0.sql + ";" }.joined(separator: "\n")
    }
}
