import Foundation
import Trials

/// What the head asks of Slurm: submit an array job, which of its tasks are queued,
/// how they ended, cancel. ``SlurmClient`` runs Slurm's tools; tests put a scheduler
/// in its place that runs the tasks' workers in the process.
public protocol SlurmScheduling: Sendable {
    func submit(script: String) throws -> String
    func queued(job: String) throws -> [Int: String]
    func ended(job: String) -> [Int: String]
    func cancel(job: String, task: Int?) throws
}

/// Slurm's command-line tools as processes (no Slurm C API): `sbatch`, `squeue`,
/// `scancel`, `sacct`. Each call names the command and its error output on failure.
public struct SlurmClient: SlurmScheduling {
    public init() {}

    /// Submits `script`; returns the job id (`sbatch --parsable` prints `ID` or `ID;cluster`).
    public func submit(script: String) throws -> String {
        let out = try run("sbatch", ["--parsable", script])
        guard let id = out.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }),
              !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw TrialError("sbatch: expected a job id, found '\(out.trimmingCharacters(in: .whitespacesAndNewlines))'")
        }
        return id
    }

    /// Array tasks of `job` still in the queue (pending, running, requeued, …), by
    /// task index, with their state names. Empty once every task has left the queue.
    public func queued(job: String) throws -> [Int: String] {
        let out = try run("squeue", ["-h", "-r", "-j", job, "-o", "%i %T"], acceptFailure: { $0.contains("Invalid job id") })
        var tasks: [Int: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let us = parts[0].lastIndex(of: "_"), let t = Int(parts[0][parts[0].index(after: us)...]) else { continue }
            tasks[t] = String(parts[1])
        }
        return tasks
    }

    /// How tasks ended (FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY, …) by task index,
    /// from `sacct`; empty where accounting is disabled.
    public func ended(job: String) -> [Int: String] {
        guard let out = try? run("sacct", ["-n", "-P", "-X", "-j", job, "-o", "JobID,State"]) else { return [:] }
        var states: [Int: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: "|")
            guard parts.count == 2, let us = parts[0].lastIndex(of: "_"), let t = Int(parts[0][parts[0].index(after: us)...]) else { continue }
            states[t] = parts[1].split(separator: " ").first.map(String.init)
        }
        return states
    }

    /// Cancels the whole job, or one array task.
    public func cancel(job: String, task: Int? = nil) throws {
        _ = try run("scancel", [task.map { "\(job)_\($0)" } ?? job])
    }

    /// Runs `command` (found on PATH) and returns its standard output.
    @discardableResult
    func run(_ command: String, _ arguments: [String], acceptFailure: (String) -> Bool = { _ in false }) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [command] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw TrialError("\(command): cannot start (\(error))") }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let stderr = String(decoding: e, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if p.terminationStatus != 0 && !acceptFailure(stderr) {
            if p.terminationStatus == 127 { throw TrialError("\(command): not found on PATH; is Slurm installed here (scripts/slurm-local.sh start)?") }
            throw TrialError("\(([command] + arguments).joined(separator: " ")) failed (exit \(p.terminationStatus)): \(stderr)")
        }
        return String(decoding: o, as: UTF8.self)
    }
}

/// The array job's batch script.
public enum SbatchScript {
    /// `#SBATCH` lines for `plan` (one task per entry of `tasks`, at most
    /// `arrayLimit` at once), then the worker call. `only` restricts the array to
    /// those task indices (a resubmission).
    public static func text(plan: Plan, folder: String, only: [Int]? = nil) -> String {
        let indices = only ?? Array(plan.tasks.indices)
        let array = ranges(indices) + "%\(max(1, min(plan.slurm.arrayLimit, indices.count)))"
        var lines = [
            "#!/bin/bash",
            "# quantlab plan \(plan.id): \(plan.jobs.count) configuration(s) in \(plan.tasks.count) task(s); written by quantlab, do not edit",
            "#SBATCH --job-name=quantlab-\(plan.kind)",
            "#SBATCH --array=\(array)",
            "#SBATCH --cpus-per-task=\(plan.slurm.cpus)",
            "#SBATCH --time=\(plan.slurm.time)",
            "#SBATCH --output=\(folder)/logs/task-%a.out",
            "#SBATCH --open-mode=append",
            "#SBATCH --requeue",
        ]
        if let p = plan.slurm.partition { lines.append("#SBATCH --partition=\(p)") }
        lines += [
            "export OMP_NUM_THREADS=1",
            "echo \"quantlab task $SLURM_ARRAY_TASK_ID (job ${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID) on $(hostname), restart ${SLURM_RESTART_COUNT:-0}, $(date -u +%FT%TZ)\"",
            "exec \(shellQuoted(plan.executable)) worker \(shellQuoted(folder)) --task \"$SLURM_ARRAY_TASK_ID\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// `0-5,7,9-10`
    static func ranges(_ indices: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let s = indices.sorted()
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    static func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
