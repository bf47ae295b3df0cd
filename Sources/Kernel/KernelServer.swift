import CZMQ
import Foundation
import Notebook
import Synchronization

/// A Jupyter kernel (messaging protocol 5.3) in front of a `Notebook`.
///
/// Threads, as in jupyter-xeus: the caller's thread serves the shell socket
/// and runs the cells; a control thread answers `kernel_info`, `interrupt` and
/// `shutdown` even while a cell runs; a heartbeat thread echoes pings. The
/// iopub socket is shared: every publish takes `iopubLock` (ZeroMQ sockets
/// may change threads only across a full memory barrier, which the lock gives).
/// Trials publish their progress from their own threads through the same lock.
///
/// Still `@unchecked Sendable` (Swift 6 mode does not check it): the shell-thread state
/// (`executionCount`, `history`) is unguarded by design and the progress state is
/// NSLock-guarded vars; moving them into Mutexes is the remaining Swift 6 work here.
public final class KernelServer: @unchecked Sendable {
    public let info: ConnectionInfo
    public let notebook: Notebook
    let signer: MessageSigner
    /// This kernel's session id (the `session` of every header it sends).
    public let session = UUID().uuidString.lowercased()
    let context = ZMQContext()
    let shell: ZMQSocket
    let control: ZMQSocket
    let stdin: ZMQSocket
    let iopub: ZMQSocket
    let heartbeat: ZMQSocket
    let iopubLock = NSLock()
    /// Set by `shutdown_request`; the loops end at their next wake-up.
    let stopping = Atomic<Bool>(false)
    /// Where dropped messages and start-up notes go (stderr by default).
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    /// `execution_count` of the last stored cell.
    var executionCount = 0
    /// Stored cells: (execution count, code, output text).
    var history: [(count: Int, code: String, output: String)] = []
    /// State of the cell being run (shell thread; the progress closure reads it under `progressLock`).
    let progressLock = NSLock()
    var currentParent: JSONObject = [:]
    var progressDisplay: (id: String, shown: Bool, lastDraw: UInt64)?
    var progressSerial = 0
    var silent = false
    /// Text chunks of the running command, not yet sent.
    var pendingChunks: [String] = []
    /// A progress frame held back by throttling.
    var heldFrame: ProgressFrame?

    /// Binds the five sockets (port 0 in `info` picks a free port; see `boundInfo`).
    public init(info: ConnectionInfo, notebook: Notebook) throws {
        self.info = info
        self.notebook = notebook
        signer = MessageSigner(key: info.key)
        shell = try ZMQSocket(context, type: ZMQ_ROUTER)
        control = try ZMQSocket(context, type: ZMQ_ROUTER)
        stdin = try ZMQSocket(context, type: ZMQ_ROUTER)
        iopub = try ZMQSocket(context, type: ZMQ_PUB)
        heartbeat = try ZMQSocket(context, type: ZMQ_REP)
        let pairs: [(ZMQSocket, Int)] = [(shell, info.shellPort), (control, info.controlPort), (stdin, info.stdinPort),
                                         (iopub, info.iopubPort), (heartbeat, info.heartbeatPort)]
        for (socket, port) in pairs {
            try socket.bind(port == 0 && info.transport == "tcp" ? "tcp://\(info.ip):*" : info.endpoint(port))
        }
        notebook.output = { [unowned self] text in self.commandOutput(text) }
        notebook.workspace.progress = { [unowned self] frame in self.showProgress(frame) }
    }

    /// The connection info with the ports actually bound.
    public var boundInfo: ConnectionInfo {
        func port(_ socket: ZMQSocket) -> Int { Int(socket.lastEndpoint.split(separator: ":").last ?? "") ?? 0 }
        var bound = info
        bound.shellPort = port(shell)
        bound.controlPort = port(control)
        bound.stdinPort = port(stdin)
        bound.iopubPort = port(iopub)
        bound.heartbeatPort = port(heartbeat)
        return bound
    }

    /// Serves until `shutdown_request`. Returns after the shutdown reply was sent.
    public func run() {
        let helpers = DispatchGroup()
        for (name, loop) in [("quantlab-heartbeat", heartbeatLoop), ("quantlab-control", controlLoop)] {
            helpers.enter()
            let thread = Thread {
                loop()
                helpers.leave()
            }
            thread.name = name
            thread.start()
        }
        // The helper threads use the sockets: they must be done before the server can go.
        defer { helpers.wait() }
        publish("status", ["execution_state": "starting"], parent: [:])
        while !stopping.load(ordering: .acquiring) {
            let ready = ZMQSocket.poll([shell, stdin], timeoutMilliseconds: 200)
            if ready.contains(0) { receive(on: shell) { self.handleShell($0) } }
            if ready.contains(1) { _ = try? stdin.receive(nonBlocking: true) }  // no input requests are made
        }
    }

    /// Receives one message on `socket` and hands it to `handle`; drops what does not decode.
    func receive(on socket: ZMQSocket, handle: (Message) -> Void) {
        let frames: [[UInt8]]?
        do { frames = try socket.receive(nonBlocking: true) } catch { log("quantlab kernel: \(error)"); return }
        guard let frames else { return }
        do {
            handle(try Message.decode(frames, signer: signer))
        } catch {
            log("quantlab kernel: dropped a message: \(error)")
        }
    }

    func heartbeatLoop() {
        while !stopping.load(ordering: .acquiring) {
            guard !ZMQSocket.poll([heartbeat], timeoutMilliseconds: 200).isEmpty else { continue }
            if let ping = try? heartbeat.receive(nonBlocking: true) { try? heartbeat.send(ping) }
        }
    }

    func controlLoop() {
        while !stopping.load(ordering: .acquiring) {
            guard !ZMQSocket.poll([control], timeoutMilliseconds: 200).isEmpty else { continue }
            receive(on: control) { self.handleControl($0) }
        }
    }

    // MARK: - Sending

    /// Replies on `socket` to `request` with `type` (`…_reply`).
    func reply(_ request: Message, on socket: ZMQSocket, type: String, content: JSONObject) {
        let message = Message(identities: request.identities, header: Message.header(type: type, session: session),
                              parentHeader: request.header, content: content)
        do { try socket.send(message.encode(signer: signer)) } catch { log("quantlab kernel: \(error)") }
    }

    /// Publishes on iopub; thread-safe.
    func publish(_ type: String, _ content: JSONObject, parent: JSONObject, metadata: JSONObject = [:]) {
        let message = Message(identities: [Array("kernel.\(session).\(type)".utf8)],
                              header: Message.header(type: type, session: session),
                              parentHeader: parent, metadata: metadata, content: content)
        let frames = message.encode(signer: signer)
        iopubLock.lock()
        defer { iopubLock.unlock() }
        do { try iopub.send(frames) } catch { log("quantlab kernel: \(error)") }
    }

    /// `busy`, the body, then `idle`, all with `request` as parent.
    func busy(_ request: Message, _ body: () -> Void) {
        publish("status", ["execution_state": "busy"], parent: request.header)
        body()
        publish("status", ["execution_state": "idle"], parent: request.header)
    }
}
