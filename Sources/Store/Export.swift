import GRDB

/// CSV and JSON renderings of query results and whole tables.
extension QueryResult {
    /// RFC 4180 CSV with a header line and `\n` line ends. NULL is an empty field;
    /// fields holding a comma, quote or line break are quoted, quotes doubled.
    public func csv() -> String {
        func field(_ text: String) -> String {
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var lines = [columns.map(field).joined(separator: ",")]
        for row in rows {
            lines.append(row.map { field($0.text ?? "") }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A JSON array with one object per row, keys in column order, one row a line:
    ///
    /// ```
    /// [
    ///   {"id": 1, "name": "fp", "val_acc": 0.91},
    ///   {"id": 2, "name": "w4a4", "val_acc": null}
    /// ]
    /// ```
    ///
    /// Numbers stay numbers; a non-finite real becomes `null`; blobs become hex strings.
    public func json() -> String {
        guard !rows.isEmpty else { return "[]\n" }
        let objects = rows.map { row in
            let members = zip(columns, row).map { column, value in
                Self.jsonString(column) + ": " + Self.jsonValue(value)
            }
            return "  {" + members.joined(separator: ", ") + "}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    static func jsonValue(_ value: QueryValue) -> String {
        switch value {
        case .null: return "null"
        case .integer(let integer): return String(integer)
        case .real(let real): return real.isFinite ? "\(real)" : "null"
        case .text(let text): return jsonString(text)
        case .blob: return jsonString(value.text!)
        }
    }

    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension ResultsStore {
    /// The rows of one of quantlab's tables, in primary-key order.
    public func table(_ name: String, keep: Int = Int.max, count: Int = Int.max,
                      isCancelled: (@Sendable () -> Bool)? = nil) throws -> QueryResult {
        let order = ["configurations": "id", "runs": "id", "epochs": "run_id, epoch"]
        guard let key = order[name] else {
            throw StoreError("export: no table named \(name) (tables: "
                + Schema.tables.joined(separator: ", ") + ")")
        }
        return try query("SELECT * FROM \(name) ORDER BY \(key)", keep: keep, count: count, isCancelled: isCancelled)
    }

    /// The `CREATE` statements of the store's tables (all, or the one named),
    /// as SQLite keeps them.
    public func schema(table: String? = nil) throws -> [(name: String, sql: String)] {
        try read("schema") { db in
            try Row.fetchAll(db, sql: """
                SELECT name, sql FROM sqlite_master
                WHERE type IN ('table', 'index', 'view') AND sql IS NOT NULL
                  AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'
                  AND (? IS NULL OR tbl_name = ?)
                ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name
                """, arguments: [table, table]).map { ($0["name"], $0["sql"]) }
        }
    }

    /// CSV of a reading query (see ``query(_:)``).
    public func exportCSV(query sql: String) throws -> String { try query(sql).csv() }

    /// CSV of a whole table, in primary-key order.
    public func exportCSV(table name: String) throws -> String { try table(name).csv() }

    /// JSON of a reading query (see ``query(_:)``).
    public func exportJSON(query sql: String) throws -> String { try query(sql).json() }

    /// JSON of a whole table, in primary-key order.
    public func exportJSON(table name: String) throws -> String { try table(name).json() }
}
