import Foundation
import Formatting
import Datasets
import Store
import Trials
import Analysis
import Cluster

/// `trial resume [PLAN]`: finish a run handed to Slurm.
enum SlurmCommands {
    static var specs: [CommandSpec] {
        [
            CommandSpec(
                group: "trial", verb: "resume", synopsis: "trial resume [PLAN]",
                abstract: "Finish a Slurm run: merge its finished tasks, resubmit failed or unfinished ones, wait for the rest.",
                discussion: """
                on=slurm (trial run, trial final, the searches) writes a plan folder below plans= (default slurm-plans;
                it must be on a filesystem the nodes share): plan.json (configurations, settings, seeds, the dataset's
                path and fingerprint, the sample's indices) and job.sbatch, an array job (--array=0-N%K, K = array-limit)
                whose task N runs `quantlab worker PLAN --task N` for pack= configurations. A worker checks the
                fingerprint, trains with the same code and seeds as a local run, appends every epoch to
                results/task-N.jsonl (fsynced) and saves checkpoints/job-J.ckpt after it, so a preempted or requeued task
                resumes where it was. Workers never write the store: this shell merges the result files as they arrive.
                Ctrl-C while waiting leaves the job running (Ctrl-C again within 5 s cancels it with scancel).
                A task that fails or runs out of time is reported with its log (logs/task-N.out).
                trial resume merges every finished epoch not yet stored (nothing twice; also after the shell was
                killed), resubmits the tasks that are neither finished nor queued, and waits. PLAN defaults to the
                newest plan folder. The session records each job id and plan as a comment; replay re-runs such
                commands locally unless given --on slurm.
                """,
                options: ["plans"], completes: [.path]
            ) { inv, ws in try resume(inv, ws) },
        ]
    }

    static func resume(_ inv: Invocation, _ ws: Workspace) throws -> CommandOutput {
        try inv.expectWords(0...1)
        var options = ws.state.slurm
        try SlurmRequest.apply(inv, to: &options)
        var typed = inv.words.first ?? ""
        if typed.isEmpty {
            let root = try ws.inputPath(options.plans)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
                .filter { FileManager.default.fileExists(atPath: root + "/" + $0 + "/head.json") }.sorted()
            guard let newest = names.last else { throw QuantlabError.runtime("no submitted plan in \(root); give the plan folder: trial resume PLAN") }
            typed = (options.plans as NSString).appendingPathComponent(newest)
        }
        // Reads the plan and its results; writes resubmission scripts and head.json into it.
        let folder = try ws.inputPath(typed)
        try ws.checkBelowWorkingDirectory(typed, purpose: "write")
        let plan: Plan
        do { plan = try Plan.read(folder: folder) } catch let e as TrialError { throw QuantlabError.runtime(e.message) }
        var head = try SlurmRun.readHead(folder: folder)
        let store = try ws.state.store(ws)
        guard CanonicalPath.of(head.store) == CanonicalPath.of(store.path) else {
            throw QuantlabError.runtime("\(folder): its results go to the store \(head.store), and this session's store is \(store.path); open it first: store open \(head.store)")
        }
        // Tasks neither finished nor in the queue go to Slurm again (their checkpoints let them continue).
        let client = SlurmRun.scheduler
        var finished = Set<Int>()
        for t in plan.tasks.indices {
            let lines: [ResultLine]
            do { lines = try ResultReader(path: Plan.resultsPath(folder, task: t), jobs: Set(plan.tasks[t])).readNew() }
            catch let e as TrialError { throw QuantlabError.runtime(e.message + "; nothing was merged or resubmitted: mend or remove that line, then trial resume again") }
            finished.formUnion(lines.filter { $0.type == "finished" }.map(\.job))
        }
        var queued = Set<Int>()
        do {
            for j in head.jobIDs { for (t, s) in try client.queued(job: j) where SlurmRun.activeStates.contains(s) { queued.insert(t) } }
        } catch let e as TrialError { throw QuantlabError.runtime(e.message) }
        let again = plan.tasks.indices.filter { t in !queued.contains(t) && !plan.tasks[t].allSatisfy(finished.contains) }
        var text = ""
        if !again.isEmpty {
            let script = folder + "/resubmit-\(head.jobIDs.count).sbatch"
            do {
                try writeFileAtomically(Array(SbatchScript.text(plan: plan, folder: folder, only: again).utf8), to: script)
                let job = try client.submit(script: script)
                head.jobIDs.append(job)
                try SlurmRun.writeHead(head, folder: folder)
                ws.notes.append("slurm: job \(job) plan \(folder) (resubmitted tasks \(again.map(String.init).joined(separator: ",")))")
                text += "resubmitted task(s) \(again.map(String.init).joined(separator: ", ")) as job \(job)\n"
            } catch let e as TrialError { throw QuantlabError.runtime(e.message) }
        }
        let kind = RunKind(rawValue: plan.kind) ?? .trial
        var empty = TrialData(train: Split.empty(sampleShape: [1]), validation: nil, test: nil, normalization: .identity(channels: 1))
        empty.provenance = plan.data.provenance     // the merged outcomes say which data they came from
        let driver = RunDriver(ws: ws, kind: kind, data: empty, datasetName: plan.data.loader, fingerprint: plan.data.fingerprint)
        let outcomes = try driver.execute(names: plan.jobs.map(\.name), runIDs: head.runIDs, store: store) { events in
            try SlurmRun.wait(plan: plan, folder: folder, head: head, ws: ws, store: store, events: events)
        }
        if let low = head.lowRunIDs {
            try RunDriver.recordLowModes(Dictionary(uniqueKeysWithValues: low.enumerated().compactMap { j, id in id.map { (j, $0) } }), outcomes, store)
        }
        var results: [String] = []
        var table = TextTable(header: ["config", "epochs", "train loss", "val acc", "test acc", "status"],
                              alignments: [.left, .right, .right, .right, .right, .left])
        for (j, o) in outcomes.enumerated() {
            let name = plan.jobs[j].name
            if o.status != .interrupted {
                if kind == .final {
                    ws.state.results.finals[name] = o
                    let trainer = try? plan.jobs[j].makeTrainer()
                    if let trainer, (try? trainer.loadCheckpoint(from: Plan.checkpointPath(folder, job: j))) != nil {
                        ws.state.results.trainers[name] = trainer
                        ws.state.results.trainedWith[name] = plan.data.normalization
                    }
                } else if kind == .trial {
                    ws.state.results.trials[name] = o
                }
            }
            results += TrialCommands.epochResults(plan.kind, name, o)
            // What a local run records besides its epochs: the methods' trained line, the trained cost, a dual network's low mode.
            if let trained = o.trained { results.append("trained \(name) \(trained)") }
            if o.status != .interrupted, kind != .search, let c = try? plan.jobs[j].configuration.configuration() {
                results += TrialCommands.methodResults(c, o, final: kind == .final, ws)
            }
            table.add([name, String(o.epochs.count), o.last.map { Quantity.loss.format($0.trainLoss) } ?? "",
                       o.last?.validationAccuracy.map(Quantity.accuracy.format) ?? "", o.testAccuracy.map(Quantity.accuracy.format) ?? "", o.status.rawValue])
        }
        text += table.render() + "\nplan \(folder): \(outcomes.filter { $0.status != .interrupted }.count) of \(outcomes.count) configurations finished; merged into \(ws.state.storePath)"
        return CommandOutput(text: text, results: results)
    }
}
