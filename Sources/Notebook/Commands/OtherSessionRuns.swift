import Foundation
import Store
import Analysis
import Formatting

/// What `trial show` says about the results store beyond the session: a session's
/// results are what its own commands trained (so a replay shows what the recording
/// showed), but the store (`quantlab.db`) keeps every session's runs, and a user who
/// opens a new shell in a folder expects to learn that they are there.
enum OtherSessionRuns {
    /// Runs `trial show store=yes` lists, the latest ones.
    static let listed = 200

    /// The runs this session began in the store file at `path` (see ``SessionState/ownRuns``).
    static func own(_ ws: Workspace, path: String) -> Set<Int64> { ws.state.ownRuns[path] ?? [] }

    /// One line saying how many runs of other sessions the store holds and how to see
    /// them; nil when it holds none, when no store file exists (none is created), and
    /// under replay, whose output must not depend on what else the store holds. The
    /// store is read through a read-only connection (nothing migrated or marked).
    static func note(_ ws: Workspace, sessionHasResults: Bool) -> String? {
        guard ws.replayingPath == nil else { return nil }
        let path = ws.resolve(path: ws.state.storePath)
        let mine = own(ws, path: path)
        guard let runs = ResultsStore.peekRuns(path: path)?.filter({ !mine.contains($0.id) }), !runs.isEmpty else { return nil }
        // Sessions, the latest first (run ids grow with time).
        var sessions: [String] = []
        for r in runs.reversed() where !sessions.contains(label(r.session)) { sessions.append(label(r.session)) }
        let named = sessions.prefix(3).joined(separator: ", ") + (sessions.count > 3 ? ", …" : "")
        let runText = runs.count == 1 ? "1 run" : "\(Quantity.grouped(runs.count)) runs"
        let sessionText = sessions.count == 1 ? "1 other session" : "\(sessions.count) other sessions"
        return "the results store \(ws.state.storePath) \(sessionHasResults ? "also " : "")holds \(runText) of \(sessionText) "
            + "(\(named)), not results of this session: trial show store=yes lists them"
    }

    /// `trial show store=yes`: every run of the store (of `names` when given), one line
    /// each, labelled with the session and line that started it.
    static func table(_ ws: Workspace, names: [String]) throws -> String {
        let store = try ws.state.store(ws)
        let mine = own(ws, path: store.path)
        var runs = try store.runSummaries()
        if !names.isEmpty { runs = runs.filter { r in names.contains { r.configuration == $0 || r.configuration.hasPrefix($0 + "@") } } }
        guard !runs.isEmpty else {
            return "the results store \(ws.state.storePath) holds no runs" + (names.isEmpty ? "" : " of " + names.joined(separator: ", "))
        }
        let shown = runs.suffix(listed)
        var t = TextTable(header: ["session", "line", "id", "config", "run", "epochs", "val acc", "test acc", "status"],
                          alignments: [.left, .right, .right, .left, .left, .right, .right, .right, .left])
        for r in shown {
            t.add([mine.contains(r.id) ? "this session" : label(r.session), r.sessionLine.map(String.init) ?? "", String(r.id),
                   r.configuration, r.kind.rawValue + (r.mode == "low" ? " (low mode)" : ""), String(r.epochs),
                   r.validationAccuracy.map(Quantity.accuracy.format) ?? "", r.testAccuracy.map(Quantity.accuracy.format) ?? "",
                   r.status.rawValue])
        }
        let count = runs.count == 1 ? "1 run" : "\(Quantity.grouped(runs.count)) runs"
        let more = runs.count > shown.count ? "; the latest \(shown.count) shown (sql \"select …\" for the others)" : ""
        let of = names.isEmpty ? "" : " of " + names.joined(separator: ", ")
        return t.render() + "\n\(count)\(of) in \(ws.state.storePath)\(more); line: the command's line in sessions/SESSION.qlab"
    }

    /// A run's session as the tables name it.
    static func label(_ session: String?) -> String { session ?? "(not recorded)" }
}
