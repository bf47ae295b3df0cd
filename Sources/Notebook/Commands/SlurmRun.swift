import Foundation
import Datasets
import Tensors
import Store
import Trials
import Cluster

/// The head's side of `on=slurm`: writes a plan folder for a run's jobs, submits it as
/// one array job, and merges the tasks' result files into the store as they arrive,
/// reporting them as the same events a local run reports (so the progress display and
/// the store records are the run driver's own). Workers never touch the store.
enum SlurmRun {
    /// The head's bookkeeping in the plan folder (`head.json`): which store and runs the
    /// results go to, and the Slurm jobs submitted for the plan (resubmissions appended).
    struct Head: Codable {
        var store: String
        var runIDs: [Int64]
        /// Each job's low-mode run (dual-precision networks), nil entries for the others;
        /// absent in plans written before low modes came back from Slurm.
        var lowRunIDs: [Int64?]? = nil
        var jobIDs: [String] = []
        var session: String?
    }

    /// Slurm's tools, or in tests a scheduler that runs the workers in the process.
    @TaskLocal static var scheduler: any SlurmScheduling = SlurmClient()

    static let activeStates: Set<String> = ["PENDING", "RUNNING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING",
                                           "COMPLETING", "SUSPENDED", "RESIZING", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD"]

    // MARK: - Plans

    /// A plan for `jobs` on the driver's data (not yet written).
    static func plan(_ jobs: [TrialJob], request: SlurmRequest, driver: RunDriver, id: String) throws -> Plan {
        let ws = driver.ws
        let state = try ws.state.requireData()
        let train: [Int]
        if driver.data.train == state.sample {
            train = state.sampleIndices.map { state.trainIndices[$0] }
        } else if driver.data.train == state.train {
            train = state.trainIndices
        } else {
            throw QuantlabError.runtime("on=slurm: this command's training data is neither the trial sample nor the training split; run it locally (on=local)")
        }
        var validation: [Int]?
        if let v = driver.data.validation {
            guard v == state.validation else { throw QuantlabError.runtime("on=slurm: this command's validation data is not the session's validation split; run it locally") }
            validation = state.validationIndices
        }
        let data = PlanData(loader: state.source.loader, path: state.source.path, options: state.source.options,
                            fingerprint: state.dataset.fingerprint, train: train, validation: validation,
                            test: driver.data.test != nil, normalization: driver.data.normalization,
                            provenance: driver.data.provenance)
        let planJobs = jobs.map { PlanJob(trainer: $0.trainer, epochs: $0.epochs, evaluateTest: $0.evaluateTest, stopAfterEpochs: $0.stopAfterEpochs) }
        return Plan(id: id, kind: driver.kind.rawValue, data: data, jobs: planJobs,
                    tasks: Plan.pack(jobs: jobs.count, perTask: request.options.pack), slurm: request.options, executable: executable())
    }

    /// The quantlab binary tasks run: `QUANTLAB_EXECUTABLE`, else this process's own.
    static func executable() -> String {
        if let e = ProcessInfo.processInfo.environment["QUANTLAB_EXECUTABLE"], !e.isEmpty { return e }
        return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// A new folder below the plans folder, named by UTC time and kind.
    static func newFolder(_ request: SlurmRequest, kind: String, _ ws: Workspace) throws -> (id: String, path: String) {
        try ws.checkBelowWorkingDirectory(request.options.plans, purpose: "write")
        let root = ws.resolve(path: request.options.plans)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC"); f.dateFormat = "yyyyMMdd-HHmmss"
        let stem = f.string(from: Date()) + "-" + kind
        for n in 1...1000 {
            let id = n == 1 ? stem : "\(stem)-\(n)"
            let path = root + "/" + id
            if FileManager.default.fileExists(atPath: path) { continue }
            do {
                for sub in ["results", "checkpoints", "logs"] {
                    try FileManager.default.createDirectory(atPath: path + "/" + sub, withIntermediateDirectories: true)
                }
            } catch { throw QuantlabError.runtime("\(path): cannot create the plan folder (\(error.localizedDescription))") }
            return (id, path)
        }
        throw QuantlabError.runtime("\(root): too many plans named \(stem)")
    }

    /// `dry-run=yes`: the plan and the script, nothing written or submitted.
    static func dryRun(_ jobs: [TrialJob], request: SlurmRequest, driver: RunDriver) throws -> CommandOutput {
        let folder = driver.ws.resolve(path: request.options.plans) + "/DATE-TIME-\(driver.kind.rawValue)"
        let plan = try plan(jobs, request: request, driver: driver, id: "(dry run)")
        var text = "dry run: nothing written or submitted\nplan: \(folder)\n"
        text += "  \(plan.jobs.count) configuration(s) in \(plan.tasks.count) task(s) (pack=\(plan.slurm.pack)); \(plan.slurm.text)\n"
        text += "  data: \(plan.data.loader) \(plan.data.path ?? "(default path)") fingerprint \(plan.data.fingerprint); train \(plan.data.train.count) samples, validation \(plan.data.validation?.count ?? 0)\(plan.data.test ? ", test split" : "")\n"
        for (t, js) in plan.tasks.enumerated() {
            text += "  task \(t): " + js.map { j in
                let job = plan.jobs[j]
                return "\(job.name) (epochs \(job.startEpochs + 1)…\(job.epochs), seed \(job.seed))"
            }.joined(separator: ", ") + "\n"
        }
        text += "job.sbatch:\n" + SbatchScript.text(plan: plan, folder: folder)
        return CommandOutput(text: text, results: [])
    }

    static func writeHead(_ head: Head, folder: String) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        try writeFileAtomically(Array(try e.encode(head)), to: folder + "/head.json")
    }

    static func readHead(folder: String) throws -> Head {
        let path = folder + "/head.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw QuantlabError.runtime("\(path): cannot read (was the plan submitted?)") }
        do { return try JSONDecoder().decode(Head.self, from: data) }
        catch { throw QuantlabError.runtime("\(path): expected the head's JSON bookkeeping, found something else (\(error))") }
    }

    // MARK: - Submitting and waiting

    /// Writes the plan, submits it and waits for its results (the run driver's body for on=slurm).
    static func submit(_ jobs: [TrialJob], request: SlurmRequest, driver: RunDriver, runIDs: [Int64], lowRunIDs: [Int: Int64],
                       store: ResultsStore, events: @escaping (TrialEvent) -> Void) throws -> [TrialOutcome] {
        let ws = driver.ws
        let (id, folder) = try newFolder(request, kind: driver.kind.rawValue, ws)
        let plan = try plan(jobs, request: request, driver: driver, id: id)
        do {
            for (j, job) in jobs.enumerated() where job.trainer.epochsDone > 0 {     // a search's next rung
                try job.trainer.saveCheckpoint(to: Plan.checkpointPath(folder, job: j))
            }
            try plan.write(folder: folder)
            try writeFileAtomically(Array(SbatchScript.text(plan: plan, folder: folder).utf8), to: folder + "/job.sbatch")
        } catch let e as TrialError { throw QuantlabError.runtime(e.message) }
        var head = Head(store: store.path, runIDs: runIDs, lowRunIDs: runIDs.indices.map { lowRunIDs[$0] },
                        session: ws.sessionName ?? ws.state.sessionName)
        try writeHead(head, folder: folder)
        let client = SlurmRun.scheduler
        let job: String
        do { job = try client.submit(script: folder + "/job.sbatch") } catch let e as TrialError { throw QuantlabError.runtime(e.message) }
        head.jobIDs.append(job)
        try writeHead(head, folder: folder)
        ws.notes.append("slurm: job \(job) plan \(folder)")
        ws.progress(ProgressFrame(lines: ["submitted job \(job): \(plan.jobs.count) configuration(s) in \(plan.tasks.count) task(s); plan \(folder)"], final: true))
        let outcomes = try wait(plan: plan, folder: folder, head: head, ws: ws, store: store, events: events)
        // The head's trainers take the tasks' final state: a search's next rung continues
        // from it, and a final run's model can be exported.
        for (j, job) in jobs.enumerated() where FileManager.default.fileExists(atPath: Plan.checkpointPath(folder, job: j)) {
            do { try job.trainer.loadCheckpoint(from: Plan.checkpointPath(folder, job: j)) }
            catch let e as TrialError { throw QuantlabError.runtime(e.message) }
        }
        return outcomes
    }

    /// Merges result files as they grow until every task has ended (finished or failed),
    /// or the user stops waiting. Epochs already in the store (a head restarted by `trial
    /// resume`) are not recorded again; the outcomes hold every epoch of the plan.
    static func wait(plan: Plan, folder: String, head: Head, ws: Workspace, store: ResultsStore,
                     events: (TrialEvent) -> Void) throws -> [TrialOutcome] {
        let client = SlurmRun.scheduler
        let dual = Set(plan.jobs.indices.filter { plan.jobs[$0].configuration.options.dual != nil })
        let readers = plan.tasks.indices.map { ResultReader(path: Plan.resultsPath(folder, task: $0), jobs: Set(plan.tasks[$0]), dual: dual) }
        var outcomes = plan.jobs.map { TrialOutcome(name: $0.name, status: .interrupted) }
        var stored = try head.runIDs.map { Set(try store.epochs(runID: $0).map(\.epoch)) }
        // Runs whose end is stored (a second `trial resume`): their end is not stored again.
        let closed = Set(try head.runIDs.indices.filter { j in
            try store.run(id: head.runIDs[j]).map { $0.status != .running && $0.status != .interrupted } ?? false
        })
        var finished = Set<Int>(), started = Set<Int>(), ended = Set<Int>()   // jobs; tasks
        var failures: [String] = []
        var lastPoll = 0.0
        func drain() throws {
            for reader in readers {
                let lines: [ResultLine]
                do { lines = try reader.readNew() } catch let e as TrialError {
                    throw QuantlabError.runtime(e.message + "; nothing of it was stored. The job goes on running on Slurm (scancel \(head.jobIDs.joined(separator: ",")) stops it); "
                                                + "once the file is mended, `trial resume \(folder)` merges it")
                }
                for line in lines {
                    let j = line.job
                    if !started.contains(j) { started.insert(j); events(.started(job: j, name: plan.jobs[j].name, epochs: plan.jobs[j].epochs)) }
                    if line.type == "epoch", let m = line.epoch?.metrics {
                        outcomes[j].epochs.append(m)
                        // As a local run keeps them: the trained cost after the last epoch that
                        // did not diverge, and the low mode's evaluation of every epoch.
                        if let c = line.trainedCost { outcomes[j].trainedCost = c.cost }
                        if let low = line.low, let bits = plan.jobs[j].configuration.options.dual?.low {
                            var o = outcomes[j].lowMode ?? LowModeOutcome(bits: bits)
                            let e = low.metrics(of: m)
                            o.epochs.append(e)
                            if e.testAccuracy != nil { o.testLoss = e.testLoss; o.testAccuracy = e.testAccuracy }
                            outcomes[j].lowMode = o
                        }
                        if stored[j].insert(m.epoch).inserted { events(.epochEnd(job: j, m)) }
                    } else if line.type == "finished", !finished.contains(j) {
                        finished.insert(j)
                        outcomes[j].status = TrialStatus(rawValue: line.status ?? "") ?? .interrupted
                        outcomes[j].divergedEpoch = line.divergedEpoch
                        outcomes[j].testLoss = line.testLoss ?? outcomes[j].last?.testLoss
                        outcomes[j].testAccuracy = line.testAcc ?? outcomes[j].last?.testAccuracy
                        outcomes[j].trained = line.trained
                        if !closed.contains(j) { events(.finished(job: j, outcomes[j])) }
                    }
                }
            }
        }
        func taskDone(_ t: Int) -> Bool { plan.tasks[t].allSatisfy(finished.contains) }
        while true {
            try drain()
            if plan.tasks.indices.allSatisfy({ taskDone($0) || ended.contains($0) }) { break }
            if ws.interrupt.isSet {
                ws.interrupted = false
                let jobs = head.jobIDs.joined(separator: ",")
                ws.progress(ProgressFrame(lines: ["Ctrl-C: job \(jobs) goes on running on Slurm. Press Ctrl-C again within 5 s to cancel it (scancel \(jobs)); "
                                                  + "otherwise `trial resume \(folder)` merges its results later."], final: true))
                let until = monotonicSeconds() + 5
                while monotonicSeconds() < until && !ws.interrupt.isSet { usleep(100_000) }
                if ws.interrupt.isSet {
                    for j in head.jobIDs { try? client.cancel(job: j, task: nil) }
                    ws.notes.append("slurm: cancelled job \(jobs) (scancel)")
                    ws.progress(ProgressFrame(lines: ["cancelled job \(jobs)"], final: true))
                } else {
                    ws.notes.append("slurm: stopped waiting; `trial resume \(folder)` merges the rest")
                }
                ws.interrupted = true
                break
            }
            let now = monotonicSeconds()
            if now - lastPoll >= 2 {
                lastPoll = now
                var queued: [Int: String] = [:]
                do {
                    for j in head.jobIDs { for (t, s) in try client.queued(job: j) where activeStates.contains(s) || queued[t] == nil { queued[t] = s } }
                } catch let e as TrialError { throw QuantlabError.runtime(e.message) }
                for (t, s) in queued where s == "RUNNING" {
                    for j in plan.tasks[t] where !started.contains(j) {
                        started.insert(j); events(.started(job: j, name: plan.jobs[j].name, epochs: plan.jobs[j].epochs))
                    }
                }
                let gone = plan.tasks.indices.filter { t in !taskDone(t) && !ended.contains(t) && !(queued[t].map(activeStates.contains) ?? false) }
                if !gone.isEmpty {
                    try drain()           // lines written just before the task left the queue
                    var accounting: [Int: String] = [:]
                    for j in head.jobIDs { accounting.merge(client.ended(job: j)) { $1 } }
                    for t in gone where !taskDone(t) {
                        ended.insert(t)
                        let state = queued[t] ?? accounting[t] ?? "ended"
                        let names = plan.tasks[t].filter { !finished.contains($0) }.map { plan.jobs[$0].name }
                        let torn = readers[t].pendingBytes()
                        failures.append("task \(t) (\(names.joined(separator: ", "))) \(state) before its results were complete"
                                        + (torn > 0 ? " (its results file ends in an unfinished line of \(torn) bytes, not read)" : "")
                                        + "; log: \(Plan.logPath(folder, task: t))")
                    }
                }
            }
            usleep(250_000)
        }
        for j in plan.jobs.indices where !finished.contains(j) { events(.finished(job: j, outcomes[j])) }   // stored as interrupted
        if !failures.isEmpty {
            for f in failures { ws.notes.append("slurm: " + f) }
            ws.progress(ProgressFrame(lines: failures + ["resubmit the unfinished tasks with: trial resume \(folder)"], final: true))
        }
        return outcomes
    }
}
