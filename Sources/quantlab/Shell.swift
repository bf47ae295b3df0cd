import ArgumentParser
import Notebook

/// `quantlab [shell] [--session NAME] [--no-record]`: the interactive shell.
struct Shell: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the interactive shell (the default).")

    @OptionGroup var recording: RecordingOptions

    func run() throws {
        Startup.prepare()
        let repl = try REPL(sessionName: recording.session, record: !recording.noRecord)
        repl.run()
    }
}

/// `--session NAME` / `--no-record`, shared by the shell and the Jupyter kernel.
struct RecordingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Record to sessions/NAME.qlab instead of a dated file.", valueName: "NAME"))
    var session: String?

    @Flag(name: .long, help: "Do not record this session.")
    var noRecord = false
}
