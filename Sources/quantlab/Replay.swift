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
            script: commands may write files (and source files) only below the current
            folder unless --allow-writes-anywhere is given.
            """)

    @Argument(help: "The session file (.qlab) or notebook (.ipynb: its code cells).", completion: .file(extensions: ["qlab", "ipynb"]))
    var file: String

    @Flag(name: .long, help: "Compare results with the recorded '#=' lines.")
    var verify = false

    @Option(name: .long, help: "Relative tolerance for numbers when the recording machine differs.")
    var tolerance: Double = 1e-3

    @Flag(name: .long, help: "Let the session write files outside the current folder.")
    var allowWritesAnywhere = false

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
        let report = Replayer(verify: verify, tolerance: tolerance, writesAnywhere: allowWritesAnywhere).replay(text, file: file, on: notebook)
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
