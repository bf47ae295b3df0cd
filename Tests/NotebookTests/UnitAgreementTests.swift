import Foundation
import Testing
import Formatting
@testable import Notebook

/// One formatting path: a small session prints every table (model show, config add/grid/list,
/// cost, trial run/final/show, seeds, correlate with predictors, pareto by memory, BOPs and
/// energy, compare in all four formats, sensitivity by memory and BOPs, a greedy search,
/// successive halving, search compare), and every cell of every table is checked against
/// the unit and number format of its column; the same quantity of the same configuration
/// reads the same wherever it appears. The data: 150 rows of 4 features (DataTrustTests.toyCSV).
@Suite(.serialized) struct UnitAgreementTests {
    static let script = """
        seed 7
        data load csv toy.csv val=30
        model define m = dense 8 | bn | relu | dense 6 | relu | dense 3
        precision m first=w8a8 last=w8a8
        model show m
        config add fp m w32a32
        config add bin11 m w1a1
        config grid m w=2,4 a=4 layers=dense2 ends=8
        config perlayer m layers=dense1 choices=w8a8,w4a4
        config list
        cost fp
        cost all
        trial run all epochs=2 batch=16
        trial run fp epochs=2 batch=16
        trial show
        trial show store=yes
        trial final all epochs=2 batch=16
        trial run w4a4-ends8 epochs=2 batch=16 seeds=2
        correlate predictors=yes
        pareto cost=memory
        pareto cost=bops
        pareto cost=energy
        compare
        compare format=markdown
        compare format=latex
        compare format=csv
        sensitivity m precisions=w4a4,w2a2 batch=16 epochs=1
        sensitivity m precisions=w4a4 batch=16 epochs=1 cost=bops
        search greedy m layers=dense1 choices=w8a8,w4a4 batch=16 max=2 fraction=0.7
        search halving all max=2 batch=16
        search compare
        """

    /// The transcript: each command line, then what it printed (or its error).
    static func transcript() throws -> [(command: String, text: String)] {
        let dir = temporaryDirectory("units")
        write(DataTrustTests.toyCSV(), to: dir + "/toy.csv")
        let nb = Notebook(workspace: Workspace(workingDirectory: dir), domainCommands: true, output: { _ in })
        nb.workspace.threads = 1
        var out: [(String, String)] = []
        for line in script.split(separator: "\n").map(String.init) {
            switch nb.execute(line) {
            // The folder (a UUID, whose hex could look like 3E-4) is not a number of the session.
            case .success(let o): out.append((line, o.text.replacingOccurrences(of: dir, with: "$DIR")))
            case .failure(let m): throw QuantlabTestError(message: "\(line): \(m)")
            case .blank: break
            }
        }
        return out
    }

    /// An aligned text table: the line before a rule of dash runs separated by two spaces is the
    /// header; rows follow while their text fits the columns (spaces in every gap).
    struct Table {
        var command: String
        var header: [String]
        var rows: [[String]]
    }

    static func tables(in text: String, command: String) -> [Table] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var found: [Table] = []
        for i in 1..<max(1, lines.count) where lines[i].range(of: #"^-+(  -+)+$"#, options: .regularExpression) != nil {
            // Column spans from the rule.
            var spans: [Range<Int>] = []
            let rule = Array(lines[i])
            var k = 0
            while k < rule.count {
                let start = k
                while k < rule.count && rule[k] == "-" { k += 1 }
                spans.append(start..<k)
                k += 2
            }
            func cells(_ line: String) -> [String]? {
                let ch = Array(line)
                guard ch.count <= rule.count else { return nil }
                for s in spans.dropLast() where s.upperBound < ch.count {
                    let gap = ch[s.upperBound..<min(s.upperBound + 2, ch.count)]
                    if gap.contains(where: { $0 != " " }) { return nil }
                }
                return spans.map { s in
                    s.lowerBound >= ch.count ? "" : String(ch[s.lowerBound..<min(s.upperBound, ch.count)]).trimmingCharacters(in: .whitespaces)
                }
            }
            guard let header = cells(lines[i - 1]) else { continue }
            var rows: [[String]] = []
            var j = i + 1
            while j < lines.count, !lines[j].isEmpty, let row = cells(lines[j]) {
                rows.append(row)
                j += 1
            }
            found.append(Table(command: command, header: header, rows: rows))
        }
        return found
    }

    /// Each column header the session prints, by the quantity it shows, with the cell format.
    /// A header not listed here fails the test, so a new table must pick one of these units.
    static let formats: [(headers: [String], pattern: String, key: String)] = [
        (["energy µJ", "compute µJ", "memory µJ"], #"^-?\d+\.\d{3,}$"#, "energy"),
        (["weights KiB", "saved weights KiB"], #"^\d+\.\d+$"#, "memory"),
        (["compression"], #"^\d+\.\d×$"#, "compression"),
        (["params", "MACs", "BOPs", "trained BOPs", "saved BOPs", "images"], #"^\d{1,3}(,\d{3})*$"#, "count"),
        (["val acc", "test acc", "train acc", "best val", "trial val acc", "final test acc", "final test accuracy",
          "trial validation accuracy", "picked final", "best final"], #"^\d\.\d{4}( ± \d\.\d{4})?$"#, "accuracy"),
        (["val acc (mean ± sd)", "test acc (mean ± sd)"], #"^\d\.\d{4}( ± \d\.\d{4})?$"#, "accuracy"),
        (["lost (points)", "regret (points)", "below front (points)"], #"^-?\d+\.\d{2}( \((tie|within noise)\))?$"#, "points"),
        (["points per KiB", "points per M BOPs"], #"^-?\d+\.\d{2,}$"#, "rate"),
        (["train loss"], #"^\d+\.\d{4}$"#, "loss"),
        (["PTQ Δloss"], #"^-?\d+\.\d{4}$"#, "loss"),
        (["weight q-error"], #"^\d+\.\d{3,}$"#, "ratio"),
        (["img/s"], #"^\d+$"#, "throughput"),
        (["train ms/img"], #"^\d+\.\d{3}$"#, "time"),
        (["CPU s"], #"^\d+\.\d$"#, "seconds"),
        (["% of exhaustive", "top-k overlap (%)"], #"^\d+\.\d$"#, "share"),
        (["pearson r", "spearman ρ", "kendall τ"], #"^-?\d\.\d{3}$"#, "coefficient"),
        (["p"], #"^(\d\.\d{3,}|< 0\.0001)$"#, "p"),
        (["95% CI (ρ)"], #"^\[-?\d\.\d{3}, -?\d\.\d{3}\]$"#, "interval"),
    ]
    /// Columns of names, words and small integers (not quantities with units).
    static let plain: Set<String> = ["config", "precision", "layer", "kind", "W", "A in", "mult", "spec", "output", "status", "run",
                                     "epoch", "epochs", "n", "seeds", "rank", "predictor", "picked", "best", "on front", "search",
                                     "chosen", "step", "assignment", "weight bits", "bytes", "session", "line", "id"]

    @Test func everyTableUsesTheSharedUnits() throws {
        let transcript = try Self.transcript()
        var all: [Table] = []
        for (command, text) in transcript {
            // Compare's other formats are checked below against its text table.
            if command.contains("format=") { continue }
            all += Self.tables(in: text, command: command)
        }
        #expect(all.count >= 20, "tables found: \(all.map(\.command))")
        // Same configuration, same quantity → the same text, wherever it is printed.
        var seen: [String: (String, String)] = [:]
        for t in all {
            for (c, h) in t.header.enumerated() where !h.isEmpty {
                if Self.plain.contains(h) { continue }
                guard let f = Self.formats.first(where: { $0.headers.contains(h) }) else {
                    Issue.record("\(t.command): column '\(h)' has no shared unit (add it to the formats or use a Quantity header)")
                    continue
                }
                for row in t.rows where c < row.count && !row[c].isEmpty && row[c] != "—" {
                    let cell = row[c]
                    #expect(cell.range(of: f.pattern, options: .regularExpression) != nil, "\(t.command): '\(h)' cell '\(cell)' is not a \(f.key)")
                    // Cost quantities of a configuration are deterministic; compare them across tables.
                    guard ["energy", "memory", "compression"].contains(f.key) || ["params", "MACs", "BOPs"].contains(h),
                          t.header.first == "config", h != "saved weights KiB" else { continue }
                    let key = row[0] + " " + h
                    if let (other, where_) = seen[key] {
                        #expect(other == cell, "\(key): '\(cell)' in \(t.command) but '\(other)' in \(where_)")
                    } else {
                        seen[key] = (cell, t.command)
                    }
                }
            }
        }
        #expect(seen["fp BOPs"] != nil && seen["bin11 energy µJ"] != nil && seen["w4a4-ends8 weights KiB"] != nil, "\(seen.keys.sorted())")
        // Final test accuracy reads the same in trial final, compare, pareto and correlate's picks.
        var finals: [String: Set<String>] = [:]
        for t in all where t.header.first == "config" {
            for (c, h) in t.header.enumerated() where ["final test acc", "final test accuracy"].contains(h) || (h == "test acc" && t.command.hasPrefix("trial final")) {
                for row in t.rows where c < row.count && !row[c].isEmpty { finals[row[0], default: []].insert(row[c]) }
            }
        }
        #expect(finals.count >= 5)
        for (name, values) in finals { #expect(values.count == 1, "\(name) final test accuracy printed as \(values.sorted())") }

        // Nowhere: scientific notation, nJ or pJ, kbit, compression as 'x', bare 'pts'.
        for (command, text) in transcript {
            #expect(text.range(of: #"(?<![0-9A-Za-z])\d+(\.\d+)?[eE][+-]?\d"#, options: .regularExpression) == nil, "\(command): scientific notation")
            #expect(text.range(of: #"\b(nJ|pJ|kbit|pts)\b"#, options: .regularExpression) == nil, "\(command): a unit outside the shared set")
            #expect(text.range(of: #"\d\.\d+x\b"#, options: .regularExpression) == nil, "\(command): compression as N.Nx")
        }
        // Regret is in points wherever it is printed.
        let prose = transcript.map(\.text).joined(separator: "\n")
        #expect(prose.contains("regret (points)") && prose.range(of: #"regret \d+\.\d{2} points"#, options: .regularExpression) != nil)
    }

    /// compare's Markdown and LaTeX carry exactly the text table's cells; its CSV the same
    /// values for a program: plain numbers that, in the table's formats, give its cells.
    @Test func compareFormatsCarryTheSameCells() throws {
        let transcript = try Self.transcript()
        let text = try #require(transcript.first { $0.command == "compare" }?.text)
        let table = try #require(Self.tables(in: text, command: "compare").first)
        let markdown = try #require(transcript.first { $0.command == "compare format=markdown" }?.text)
        let mdRows = markdown.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| ---") }.map { line in
            line.dropFirst(2).dropLast(2).components(separatedBy: " | ")
        }
        #expect(mdRows.first == table.header)
        #expect(Array(mdRows.dropFirst()) == table.rows)
        let latex = try #require(transcript.first { $0.command == "compare format=latex" }?.text)
        let texRows = latex.split(separator: "\n").filter { $0.hasSuffix(" \\\\") }.map { line in
            line.dropLast(3).components(separatedBy: " & ").map { $0.replacingOccurrences(of: "$\\mu$", with: "µ").replacingOccurrences(of: "$\\pm$", with: "±") }
        }
        #expect(texRows.first == table.header)
        #expect(Array(texRows.dropFirst()) == table.rows)
        #expect(latex.contains("\\toprule") && latex.contains("\\bottomrule"))
        let csv = try #require(transcript.first { $0.command == "compare format=csv" }?.text)
        let csvRows = csv.split(separator: "\n").map { Self.csvFields(String($0)) }
        #expect(csvRows.first == ["config", "precision", "trial_val_acc", "trial_val_acc_sd", "final_test_acc", "final_test_acc_sd",
                                  "weights_kib", "bops", "trained_bops", "energy_uj", "img_per_s", "train_ms_per_img"])
        #expect(csvRows.count == table.rows.count + 1)
        func shown(_ q: Quantity, _ field: String) -> String { Double(field).map(q.formatShown) ?? field }
        func meanSD(_ mean: String, _ sd: String) -> String {
            shown(.accuracy, mean) + (sd.isEmpty ? "" : " ± " + shown(.accuracy, sd))
        }
        for (cells, f) in zip(table.rows, csvRows.dropFirst()) {
            #expect(f.count == 12)
            guard f.count == 12 else { continue }
            #expect([f[0], f[1], meanSD(f[2], f[3]), meanSD(f[4], f[5]), shown(.memory, f[6]), shown(.bops, f[7]), shown(.bops, f[8]),
                     shown(.energy, f[9]), shown(.throughput, f[10]), shown(.trainingTime, f[11])] == cells, "\(f)")
            for number in f.dropFirst(2) {
                #expect(number.isEmpty || number.range(of: #"^-?\d+(\.\d+)?(e-\d+)?$"#, options: .regularExpression) != nil, "\(number)")
            }
        }
        // The mean and sd over w4a4-ends8's two trial seeds are two fields.
        let seeded = try #require(csvRows.first { $0.first == "w4a4-ends8" })
        #expect(!seeded[2].isEmpty && !seeded[3].isEmpty, "\(seeded)")
    }

    /// RFC 4180 fields of one record (quoted fields may hold commas and doubled quotes).
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = [], field = "", quoted = false
        var chars = Array(line)[...]
        while let ch = chars.popFirst() {
            if quoted {
                if ch == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(ch) }
            } else if ch == "\"" { quoted = true } else if ch == "," { fields.append(field); field = "" } else { field.append(ch) }
        }
        fields.append(field)
        return fields
    }
}
