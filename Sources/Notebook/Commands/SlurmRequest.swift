import Foundation
import Cluster

/// `on=slurm` and its options, as a training command was given them: the session's
/// `slurm` defaults (`trial set`) with this command's overrides.
struct SlurmRequest {
    var options: SlurmOptions
    /// Print the plan and the sbatch script without submitting (`dry-run=yes`).
    var dryRun: Bool

    /// Options of the commands that can train on Slurm.
    static let keys = ["on", "partition", "time", "cpus", "array-limit", "pack", "plans", "dry-run"]
    /// The keys `trial set` takes for the defaults.
    static let settingKeys = ["partition", "time", "cpus", "array-limit", "pack", "plans"]

    /// The request, or nil to train on this machine: `on=local` (the default), or a
    /// replay of a session recorded with `on=slurm` (it re-runs locally unless replay
    /// was given `--on slurm`). `dataChoices` are other values `on=` takes (a search's
    /// `sample`/`train`); they may be combined with a comma (`on=train,slurm`).
    static func parse(_ inv: Invocation, _ ws: Workspace, dataChoices: [String] = []) throws -> SlurmRequest? {
        let on = try onValues(inv, dataChoices: dataChoices)
        let slurm = on.contains("slurm")
        let given = keys.dropFirst().filter { inv.string($0) != nil }
        if !slurm, let k = given.first {
            throw inv.usageError("option '\(k)' applies to runs on Slurm; add on=slurm")
        }
        guard slurm else { return nil }
        var options = ws.state.slurm
        try apply(inv, to: &options)
        let dryRun = try inv.bool("dry-run", default: false)
        if ws.replayingPath != nil && !ws.replayOnSlurm && !dryRun { return nil }
        return SlurmRequest(options: options, dryRun: dryRun)
    }

    /// The values of `on=` (checked), e.g. ["train", "slurm"].
    static func onValues(_ inv: Invocation, dataChoices: [String] = []) throws -> [String] {
        guard let text = inv.string("on") else { return [] }
        let allowed = dataChoices + ["local", "slurm"]
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for v in values where !allowed.contains(v) {
            throw inv.usageError("option 'on' expects \(Invocation.alternatives(allowed))\(dataChoices.isEmpty ? "" : " (one of each kind, e.g. on=\(dataChoices[0]),slurm)"), found '\(v)'")
        }
        if values.contains("local") && values.contains("slurm") { throw inv.usageError("option 'on': local or slurm, not both") }
        if values.filter({ dataChoices.contains($0) }).count > 1 { throw inv.usageError("option 'on': one of \(dataChoices.joined(separator: ", "))") }
        return values
    }

    /// Applies `partition= time= cpus= array-limit= pack= plans=` through the one option parser.
    static func apply(_ inv: Invocation, to o: inout SlurmOptions) throws {
        if let p = inv.string("partition") {
            guard !p.isEmpty, p.allSatisfy({ $0.isLetter || $0.isNumber || "-_.,".contains($0) }) else {
                throw inv.usageError("option 'partition' expects a partition name (letters, digits, - _ . ,), found '\(p)'")
            }
            o.partition = p == "default" ? nil : p
        }
        if let t = inv.string("time") {
            // sbatch's forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S.
            let ok = t.range(of: #"^([0-9]+-)?[0-9]+(:[0-9]+){0,2}$"#, options: .regularExpression) != nil
            guard ok else { throw inv.usageError("option 'time' expects a Slurm time limit (30, 1:00:00, 1-12), found '\(t)'") }
            o.time = t
        }
        if let c = try inv.int("cpus", in: 1...256) { o.cpus = c }
        if let k = try inv.int("array-limit", in: 1...100_000) { o.arrayLimit = k }
        if let k = try inv.int("pack", in: 1...10_000) { o.pack = k }
        if let p = inv.string("plans") {
            guard !p.isEmpty else { throw inv.usageError("option 'plans' expects a folder") }
            o.plans = p
        }
    }
}
