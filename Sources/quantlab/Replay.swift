import ArgumentParser
import Foundation
import Kernel
import Notebook

/// `quantlab replay FILE [--verify]`: re-runs a recorded session.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-run a recorded session; with --verify, check its results.",
        discussion: """
            With --verify every '#=' line is compared with the new result, and the first
            difference is reported as FILE:LINE: expected '…' found '…' (exit status 1).
            When the session was recorded on another cpu or BLAS kernel, numbers are
            compared within a relative tolerance instead of exactly; the summary says which.
            --verify fails when there was nothing to compare. Replaying runs someone's
            script: commands may write files only below the current folder unless
            --allow-writes-anywhere is given, and may read files and folders the session
            names by a path (data load csv FILE, evaluate FILE, source FILE, store open
            FILE, trial resume PLAN) only below it unless --allow-reads-anywhere is given.
            Data installed with the system and loaded without a path (data load
            fashion-mnist) is always allowed.
            """)

    @Argument(help: "The session file (.qlab) or notebook (.ipynb: its code cells).", completion: .file(extensions: ["qlab", "ipynb"]))
    var file: String

    @Flag(name: .long, help: "Compare results with the recorded '#=' lines.")
    var verify = false

    @Option(name: .long, help: "Relative tolerance for numbers when the recording machine differs.")
    var tolerance: Double = 1e-3

    @Flag(name: .long, help: "Let the session write files outside the current folder.")
    var allowWritesAnywhere = false

    @Flag(name: .long, help: "Let the session read files and folders outside the current folder.")
    var allowReadsAnywhere = false

    @Option(name: .long, help: "Where runs recorded with on=slurm train: local (default) or slurm (submit them again).")
    var on: String = "local"

    func run() throws {
        Startup.prepare()
        let notebook = Notebook(output: Console.out)
        Startup.connect(notebook.workspace)
        guard on == "local" || on == "slurm" else {
            Console.err("error: --on expects local or slurm, found '\(on)'")
            throw ExitCode(2)
        }
        notebook.workspace.replayOnSlurm = on == "slurm"
        let text: String
        do {
            text = file.hasSuffix(".ipynb") ? try NotebookFile.session(fromNotebook: notebookData(), name: file)
                : try Notebook.readScript(at: file, shownAs: file)
        } catch {
            Console.err(QuantlabError.render(error))
            throw ExitCode(1)
        }
        let report = Replayer(verify: verify, tolerance: tolerance, writesAnywhere: allowWritesAnywhere,
                              readsAnywhere: allowReadsAnywhere).replay(text, file: file, on: notebook)
        if let note = report.note { Console.err(note) }
        if report.passed {
            Console.out(report.summary)
        } else {
            Console.err(report.summary)
            throw ExitCode(1)
        }
    }

    private func notebookData() throws -> Data {
        guard let data = FileManager.default.contents(atPath: file) else { throw QuantlabError.runtime("cannot read '\(file)'") }
        return data
    }
}
