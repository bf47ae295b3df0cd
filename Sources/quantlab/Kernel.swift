import ArgumentParser
import Foundation
import Kernel
import Notebook

/// `quantlab kernel`: the Jupyter kernel, and installing its spec.
struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Run quantlab as a Jupyter kernel, or install / remove its kernel spec.",
        subcommands: [KernelStart.self, KernelInstall.self, KernelRemove.self],
        defaultSubcommand: KernelStart.self)
}

/// `quantlab kernel [start] --connection-file FILE`: what Jupyter runs.
struct KernelStart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Serve the Jupyter messaging protocol (5.3) on the ports of a connection file.",
        discussion: "Records the session to sessions/DATE-TIME.qlab (cells marked by '# cell N' comments).")

    @Option(name: .long, help: "The connection file Jupyter wrote.", completion: .file(extensions: ["json"]))
    var connectionFile: String

    @OptionGroup var recording: RecordingOptions

    func run() throws {
        Startup.prepare()
        let info: ConnectionInfo
        do { info = try ConnectionInfo.load(path: connectionFile) } catch {
            Console.err("error: \(error)")
            throw ExitCode(1)
        }
        let notebook = Notebook(output: { _ in })
        InterruptHandler.install(notebook.workspace.interrupt)
        if !recording.noRecord {
            let workspace = notebook.workspace
            let header = SessionHeader(seed: workspace.seed, threads: workspace.threads)
            notebook.recorder = try? SessionRecorder.start(directory: workspace.resolve(path: "sessions"),
                                                           name: recording.session, header: header)
        }
        let server: KernelServer
        do { server = try KernelServer(info: info, notebook: notebook) } catch {
            Console.err("error: \(error)")
            throw ExitCode(1)
        }
        server.run()
    }
}

/// `quantlab kernel install [--user | --prefix P]`.
struct KernelInstall: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Write the kernel spec (kernel.json and a logo) where Jupyter finds it.")

    @Flag(name: .long, help: "Install for the current user (Jupyter's user data directory).")
    var user = false

    @Option(name: .long, help: ArgumentHelp("Install under P/share/jupyter/kernels (e.g. a virtual environment).", valueName: "P"))
    var prefix: String?

    @Option(name: .long, help: "How Jupyter interrupts a cell: signal (SIGINT) or message (interrupt_request).")
    var interruptMode = "signal"

    func validate() throws {
        if user && prefix != nil { throw ValidationError("give --user or --prefix, not both") }
    }

    func run() throws {
        let directory = KernelSpec.directory(user: user, prefix: prefix)
        do {
            try KernelSpec.install(into: directory, executable: KernelSpec.currentExecutable(), interruptMode: interruptMode)
        } catch {
            Console.err("error: \(error)")
            throw ExitCode(1)
        }
        Console.out("installed the quantlab kernel spec in \(directory)")
    }
}

/// `quantlab kernel remove [--user | --prefix P]`.
struct KernelRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove the kernel spec written by 'kernel install'.")

    @Flag(name: .long, help: "Remove the user's kernel spec.")
    var user = false

    @Option(name: .long, help: ArgumentHelp("Remove the spec under P/share/jupyter/kernels.", valueName: "P"))
    var prefix: String?

    func run() throws {
        let directory = KernelSpec.directory(user: user, prefix: prefix)
        do { try KernelSpec.remove(from: directory) } catch {
            Console.err("error: \(error)")
            throw ExitCode(1)
        }
        Console.out("removed \(directory)")
    }
}
