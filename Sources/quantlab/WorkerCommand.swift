import ArgumentParser
import Cluster
import Foundation

/// `quantlab worker PLAN --task N`: one Slurm array task (see `Cluster.Worker`).
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Train one task of a Slurm plan (run by the plan's sbatch script).",
        discussion: """
            Checks the dataset's fingerprint against the plan, trains the task's configurations
            with the same code and seeds as a local run, appends each epoch to
            PLAN/results/task-N.jsonl (fsynced) and saves PLAN/checkpoints/job-J.ckpt after it.
            Started again (requeue, trial resume), it continues from the checkpoints. It never
            opens the results store: the shell that submitted the plan merges the results.
            """)

    @Argument(help: "The plan folder.", completion: .directory)
    var plan: String

    @Option(name: .long, help: "The array task index ($SLURM_ARRAY_TASK_ID).")
    var task: Int

    func run() throws {
        Startup.prepare()
        do {
            try Worker.run(folder: plan, task: task) { print($0) }   // stdout is line-buffered (Startup.prepare)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
