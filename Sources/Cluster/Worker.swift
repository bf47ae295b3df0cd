import Foundation
import Tensors
import Trials

/// `quantlab worker PLAN --task N`: one array task. Trains the task's configurations
/// one after the other through the same loop as a local run (`TrialRunner.runOne`,
/// one BLAS thread, the trainer's own seeded streams), so its epochs are bit-identical
/// to the local run's on the same CPU.
///
/// After each epoch it appends the epoch to `results/task-N.jsonl` (fsynced) and then
/// replaces the job's checkpoint. A task that starts again (requeued after preemption,
/// resubmitted by `trial resume`) continues each job from its checkpoint; a job whose
/// end is already in the results file is skipped. It never opens the results store.
public enum Worker {
    /// Runs task `task` of the plan in `folder`; `say` receives log lines.
    public static func run(folder: String, task: Int, say: (String) -> Void) throws {
        let plan = try Plan.read(folder: folder)
        guard plan.tasks.indices.contains(task) else {
            throw TrialError("\(folder)/plan.json: task \(task) does not exist (the plan has tasks 0…\(plan.tasks.count - 1))")
        }
        BLAS.setThreads(1)
        let data = try plan.data.load()
        let resultsPath = Plan.resultsPath(folder, task: task)
        let earlier = try ResultReader(path: resultsPath, jobs: Set(plan.tasks[task])).readNew()
        let finished = Set(earlier.filter { $0.type == "finished" }.map(\.job))
        let writer = try ResultWriter(path: resultsPath)
        for j in plan.tasks[task] {
            let job = plan.jobs[j]
            if finished.contains(j) { say("job \(j) \(job.name): already finished"); continue }
            // Killed after a diverged epoch's line and before the end line: the run ended there.
            if let last = earlier.last(where: { $0.job == j && $0.type == "epoch" })?.epoch, !last.trainLoss.isFinite {
                try writer.append(.finished(job: j, TrialOutcome(name: job.name, status: .diverged, divergedEpoch: last.epoch)))
                continue
            }
            let trainer = try job.makeTrainer()
            let checkpoint = Plan.checkpointPath(folder, job: j)
            if FileManager.default.fileExists(atPath: checkpoint) {
                try trainer.loadCheckpoint(from: checkpoint)
            } else if job.startEpochs > 0 {
                throw TrialError("\(checkpoint): missing; job \(j) (\(job.name)) starts after epoch \(job.startEpochs) and needs it")
            }
            say("job \(j) \(job.name): epochs \(trainer.epochsDone + 1)…\(job.epochs)")
            var failure: Error?
            var low: EpochMetrics?      // the low mode's evaluation of the epoch about to end (dual networks)
            let t = TrialJob(trainer: trainer, epochs: job.epochs, evaluateTest: job.evaluateTest, stopAfterEpochs: job.stopAfterEpochs)
            let outcome = TrialRunner.runOne(t, index: j, data: data, shouldStop: { failure != nil }, emit: { event in
                if case let .lowModeEpoch(_, e) = event { low = e; return }
                guard failure == nil, case let .epochEnd(_, m) = event else { return }
                defer { low = nil }
                do {
                    // What the local run keeps of the epoch: the trained cost so far (not after a
                    // diverged epoch, where the local run keeps the previous one) and the low mode.
                    try writer.append(.epoch(job: j, m, trainedCost: m.trainLoss.isFinite ? trainer.trainedCost : nil, low: low))
                    try trainer.saveCheckpoint(to: checkpoint)
                    say("job \(j) \(job.name): epoch \(m.epoch) train loss \(m.trainLoss)" + (m.validationAccuracy.map { " val acc \($0)" } ?? ""))
                } catch { failure = error }
            })
            if let failure { throw failure }
            try writer.append(.finished(job: j, outcome))
            say("job \(j) \(job.name): \(outcome.status.rawValue)")
        }
    }
}
