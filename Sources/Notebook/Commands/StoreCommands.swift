import Foundation
import Store

/// `sql`, `store open | export | info`.
enum StoreCommands {
    static var specs: [CommandSpec] {
        [
            CommandSpec(
                verb: "sql", synopsis: "sql \"SELECT …\" [csv=FILE] [json=FILE]",
                abstract: "Query the results store (read only): tables configurations, runs, epochs.",
                discussion: """
                Example: sql "select c.name, max(e.val_acc) from epochs e join runs r on r.id = e.run_id
                join configurations c on c.id = r.configuration_id group by c.name"
                Only one SELECT / WITH / EXPLAIN statement; the connection is read only.
                """,
                options: ["csv", "json"], optionValues: ["csv": .path, "json": .path]
            ) { inv, ws in
                let text = inv.words.isEmpty ? "" : inv.words.joined(separator: " ")
                guard !text.isEmpty else { throw inv.usageError("missing the query, e.g. sql \"select * from runs\"") }
                let store = try ws.state.store(ws)
                let r = try store.query(text)
                if let p = inv.string("csv") { try writeFile(r.csv(), ws.resolve(path: p)) }
                if let p = inv.string("json") { try writeFile(r.json(), ws.resolve(path: p)) }
                return CommandOutput(r.renderTable() + "\n(\(r.rows.count) row\(r.rows.count == 1 ? "" : "s"))")
            },
            CommandSpec(
                group: "store", verb: "open", synopsis: "store open PATH",
                abstract: "Use another results database file (created and migrated when new).",
                completes: [.path]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let s = try ws.state.openStore(path: inv.words[0], ws)
                return CommandOutput("results store \(s.path): \(try s.runs().count) runs")
            },
            CommandSpec(
                group: "store", verb: "export", synopsis: "store export TABLE|\"SELECT …\" (csv=FILE | json=FILE)",
                abstract: "Export a table (configurations, runs, epochs) or a query as CSV or JSON.",
                options: ["csv", "json"], completes: [.choice(["configurations", "runs", "epochs"])], optionValues: ["csv": .path, "json": .path]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let store = try ws.state.store(ws)
                let what = inv.words[0]
                let isTable = ["configurations", "runs", "epochs"].contains(what)
                guard inv.string("csv") != nil || inv.string("json") != nil else { throw inv.usageError("give csv=FILE or json=FILE") }
                var wrote: [String] = []
                if let p = inv.string("csv") {
                    try writeFile(isTable ? try store.exportCSV(table: what) : try store.exportCSV(query: what), ws.resolve(path: p)); wrote.append(p)
                }
                if let p = inv.string("json") {
                    try writeFile(isTable ? try store.exportJSON(table: what) : try store.exportJSON(query: what), ws.resolve(path: p)); wrote.append(p)
                }
                return CommandOutput("wrote \(wrote.joined(separator: ", "))")
            },
        ]
    }
}
