import ArgumentParser
import Notebook

/// `quantlab [shell] [--session NAME] [--no-record]`: the interactive shell.
struct Shell: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the interactive shell (the default).")

    @Option(name: .long, help: ArgumentHelp("Record to sessions/NAME.qlab instead of a dated file.", valueName: "NAME"))
    var session: String?

    @Flag(name: .long, help: "Do not record this session.")
    var noRecord = false

    func run() throws {
        Startup.prepare()
        let repl = try REPL(sessionName: session, record: !noRecord)
        repl.run()
    }
}
