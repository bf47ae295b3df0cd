import CZMQ
import Foundation
import Notebook
@testable import Kernel

/// A kernel on a background thread in this process, and a client for it:
/// DEALER sockets for shell and control, SUB for iopub, REQ for heartbeat.
final class TestClient {
    let server: KernelServer
    let context = ZMQContext()
    let shell: ZMQSocket
    let control: ZMQSocket
    let iopub: ZMQSocket
    let heartbeat: ZMQSocket
    let signer: MessageSigner
    let session = "test-session"
    let thread: Thread

    init(key: String = "a0436f6c-1916-498b-8eb9-e81ab9368e84", notebook: Notebook = Notebook(output: { _ in })) throws {
        let info = ConnectionInfo(key: key)
        server = try KernelServer(info: info, notebook: notebook)
        server.log = { _ in }
        signer = MessageSigner(key: key)
        let bound = server.boundInfo
        shell = try ZMQSocket(context, type: ZMQ_DEALER)
        control = try ZMQSocket(context, type: ZMQ_DEALER)
        iopub = try ZMQSocket(context, type: ZMQ_SUB)
        heartbeat = try ZMQSocket(context, type: ZMQ_REQ)
        iopub.setOption(ZMQ_SUBSCRIBE, [])
        try shell.connect(bound.endpoint(bound.shellPort))
        try control.connect(bound.endpoint(bound.controlPort))
        try iopub.connect(bound.endpoint(bound.iopubPort))
        try heartbeat.connect(bound.endpoint(bound.heartbeatPort))
        let server = self.server
        thread = Thread { server.run() }
        thread.start()
    }

    func stop() {
        _ = request("shutdown_request", ["restart": false], on: control)
        while !thread.isFinished { usleep(10_000) }
    }

    func send(_ type: String, _ content: JSONObject, on socket: ZMQSocket) -> String {
        let header = Message.header(type: type, session: session)
        try! socket.send(Message(header: header, content: content).encode(signer: signer))
        return header["msg_id"] as! String
    }

    /// Sends a request and waits (up to `timeout` seconds) for its reply.
    func request(_ type: String, _ content: JSONObject = [:], on socket: ZMQSocket? = nil, timeout: Double = 30) -> Message? {
        let socket = socket ?? shell
        let id = send(type, content, on: socket)
        return reply(to: id, on: socket, timeout: timeout)
    }

    func reply(to id: String, on socket: ZMQSocket, timeout: Double = 30) -> Message? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard !ZMQSocket.poll([socket], timeoutMilliseconds: 100).isEmpty,
                  let frames = try? socket.receive(nonBlocking: true),
                  let message = try? Message.decode(frames, signer: signer) else { continue }
            if message.parentHeader["msg_id"] as? String == id { return message }
        }
        return nil
    }

    /// The iopub messages whose parent is `id`, up to and including its `idle` status.
    func iopubMessages(for id: String, timeout: Double = 30) -> [Message] {
        var found: [Message] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard !ZMQSocket.poll([iopub], timeoutMilliseconds: 100).isEmpty,
                  let frames = try? iopub.receive(nonBlocking: true),
                  let message = try? Message.decode(frames, signer: signer),
                  message.parentHeader["msg_id"] as? String == id else { continue }
            found.append(message)
            if message.type == "status", message.content["execution_state"] as? String == "idle" { break }
        }
        return found
    }

    /// Waits until iopub delivers (the SUB socket joins asynchronously).
    func waitForIOPub() {
        for _ in 0..<50 {
            let id = send("kernel_info_request", [:], on: shell)
            _ = reply(to: id, on: shell, timeout: 5)
            if !iopubMessages(for: id, timeout: 0.5).isEmpty { return }
        }
    }
}
