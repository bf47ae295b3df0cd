import ArgumentParser
import Foundation
import Kernel
import Notebook

/// `quantlab notebook FILE.qlab -o FILE.ipynb`: a session as a Jupyter notebook.
struct NotebookConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Convert a recorded session (.qlab) to a Jupyter notebook (.ipynb).",
        discussion: """
            Kernel sessions are split at their '# cell N' markers; other sessions get one cell per
            command group, with comment paragraphs as markdown. Key results ('#=' lines) become
            the cells' outputs and are kept in their metadata, so 'quantlab replay FILE.ipynb
            --verify' checks them.
            """)

    @Argument(help: "The session file (.qlab).", completion: .file(extensions: ["qlab"]))
    var file: String

    @Option(name: .shortAndLong, help: "The notebook to write (default: FILE with .ipynb).")
    var output: String?

    func run() throws {
        let text: String
        do { text = try Notebook.readScript(at: file, shownAs: file) } catch {
            Console.err(QuantlabError.render(error))
            throw ExitCode(1)
        }
        let target = output ?? ((file as NSString).deletingPathExtension + ".ipynb")
        do { try NotebookFile.notebook(fromSession: text).write(toFile: target, atomically: true, encoding: .utf8) } catch {
            Console.err("error: cannot write '\(target)': \(error.localizedDescription)")
            throw ExitCode(1)
        }
        Console.out("wrote \(target)")
    }
}
