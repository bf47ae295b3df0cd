import ArgumentParser
import Notebook

/// `quantlab run FILE`: runs a script, stops at the first error.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a script of commands; stop at the first error.",
        discussion: "Errors are reported as FILE:LINE and the exit status is 1. Nothing is recorded.")

    @Argument(help: "The script (.qlab) to run.", completion: .file(extensions: ["qlab"]))
    var file: String

    @Flag(name: .long, help: "Show each command before its output.")
    var echo = false

    func run() throws {
        Startup.prepare()
        let notebook = Notebook(output: Console.out)
        Startup.connect(notebook.workspace)
        do {
            let text = try Notebook.readScript(at: file, shownAs: file)
            try notebook.runScript(text, file: file, echo: echo)
        } catch {
            Console.err(QuantlabError.render(error))
            throw ExitCode(1)
        }
    }
}
