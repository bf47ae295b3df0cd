import Foundation
import Testing
import Store
import Trials
import Cluster
@testable import Notebook

/// A scheduler that runs every task of a submitted plan with the worker, in this
/// process, before `sbatch` would return: the head then merges complete result files.
/// What `quantlab worker` does on a node, without Slurm.
struct InProcessSlurm: SlurmScheduling {
    func submit(script: String) throws -> String {
        let folder = (script as NSString).deletingLastPathComponent
        let plan = try Plan.read(folder: folder)
        for t in plan.tasks.indices { try Worker.run(folder: folder, task: t) { _ in } }
        return "4242"
    }
    func queued(job: String) throws -> [Int: String] { [:] }
    func ended(job: String) -> [Int: String] { [:] }
    func cancel(job: String, task: Int?) throws {}
}

/// Every training method run locally and through the Slurm worker path stores the same
/// rows: runs (status, test metrics, the `trained` line, trained BOPs, a dual network's
/// low-mode run and its parent) and epochs, bit for bit; only times differ.
@Suite(.serialized) struct SlurmWorkerPathTests {
    static let configurations = [
        "config add fixed m w4a4",
        "config add cpt m w8a8 schedule=cpt:3-8",
        "config add auto m w8a8 schedule=cpt:auto-8",
        "config add prog m w4a4 schedule=w8a8@1,w4a4@2",
        "config add dual m w8a8 dual=w2a2",
        "config add stq m wta8 first=w8a8 stq=0.5",
        "config add prox m w1a8 last=w8a8 weights=prox",
        "config add dmp m w4a4 prune=dmp:0.5",
        "config add ct m wta32 method=conntra",
    ]

    static let runsQuery = """
        select c.name, c.definition, r.kind, r.status, r.diverged_epoch, r.test_acc, r.test_loss, r.trained, r.trained_bops,
               r.mode, pc.name, r.settings, r.seed, r.train_count, r.dataset, r.fingerprint
        from runs r join configurations c on c.id = r.configuration_id
        left join runs p on p.id = r.parent_run left join configurations pc on pc.id = p.configuration_id
        order by r.kind, c.name
        """
    static let epochsQuery = """
        select c.name, r.kind, r.mode, e.epoch, e.train_loss, e.train_acc, e.val_loss, e.val_acc
        from epochs e join runs r on r.id = e.run_id join configurations c on c.id = r.configuration_id
        order by r.kind, c.name, e.epoch
        """

    func execute(_ nb: Notebook, _ line: String) throws -> CommandOutput {
        switch nb.execute(line) {
        case .success(let out): return out
        case .failure(let message): throw QuantlabError.runtime("\(line): \(message)")
        default: throw QuantlabError.runtime("\(line): no result")
        }
    }

    @Test func localAndWorkerPathStoreTheSameRows() throws {
        let nb = try MethodCommandTests().notebook("slurm-path")
        for line in Self.configurations { _ = try execute(nb, line) }
        var recorded: [String: [String]] = [:]
        for (store, on) in [("local.db", ""), ("slurm.db", " on=slurm plans=plans")] {
            _ = try execute(nb, "store open \(store)")
            for command in ["trial run all epochs=2 batch=16", "trial final dual stq cpt epochs=2 batch=16"] {
                let out = try SlurmRun.$scheduler.withValue(InProcessSlurm()) { try execute(nb, command + on) }
                recorded[store, default: []] += out.results
            }
        }
        let local = try nb.workspace.state.store(nb.workspace)       // slurm.db, the one open now
        _ = try execute(nb, "store open local.db")
        let other = try nb.workspace.state.store(nb.workspace)
        let (slurmRuns, localRuns) = (try local.query(Self.runsQuery), try other.query(Self.runsQuery))
        #expect(slurmRuns.rows.count == 14)       // 9 trials and the dual's low mode, 3 finals and the low mode's
        #expect(slurmRuns == localRuns)
        #expect(try local.query(Self.epochsQuery) == other.query(Self.epochsQuery))
        // What the worker path used to lose is there: trained lines, trained BOPs, the low mode.
        let rows = slurmRuns.textRows
        #expect(rows.contains { $0[0] == "dual@w2a2" && $0[9] == "low" && $0[10] == "dual" })
        #expect(rows.contains { $0[0] == "stq" && ($0[7] ?? "").hasPrefix("depth ") })
        #expect(rows.allSatisfy { $0[8] != nil }, "every run has its trained BOPs")
        // And the session records the same results (replay compares them).
        #expect(recorded["slurm.db"] == recorded["local.db"])
        #expect(recorded["slurm.db"]!.contains { $0.hasPrefix("trained auto bops ") })
        #expect(recorded["slurm.db"]!.contains { $0.hasPrefix("final dual@w2a2 epoch 2 ") && $0.contains(" test_acc ") })
    }

    /// Results merged by `trial resume` (a new head after the first was killed) say which
    /// data they came from, as local ones do, so analyses can refuse to mix them; they
    /// once came back with none and passed every such check.
    @Test func resumedResultsKnowTheirData() throws {
        let nb = try MethodCommandTests().notebook("slurm-resume")
        _ = try execute(nb, "config add fixed m w4a4")
        _ = try SlurmRun.$scheduler.withValue(InProcessSlurm()) { try execute(nb, "trial run all epochs=1 batch=16 on=slurm plans=plans") }
        let state = nb.workspace.state
        let expected = try #require(state.data?.trialData.provenance)
        #expect(state.results.trials["fixed"]?.data == expected)
        state.results.trials = [:]
        _ = try SlurmRun.$scheduler.withValue(InProcessSlurm()) { try execute(nb, "trial resume plans=plans") }
        #expect(state.results.trials["fixed"]?.data == expected,
                "\(String(describing: state.results.trials["fixed"]?.data)) ≠ \(expected)")
    }
}
