import ArgumentParser
import Notebook

/// `quantlab`: the interactive shell (default), plus `run`, `replay` and `bench`.
@main
struct Quantlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantlab",
        abstract: "A research notebook for choosing per-layer precision of neural networks.",
        discussion: """
            With no subcommand, starts the interactive shell and records the session to
            sessions/DATE-TIME.qlab. Type 'help' at the prompt for the command language.
            """,
        version: Notebook.version,
        subcommands: [Shell.self, Run.self, Replay.self, Bench.self, KernelCommand.self, NotebookConvert.self, WorkerCommand.self],
        defaultSubcommand: Shell.self
    )
}
