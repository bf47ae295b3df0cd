import Foundation
import Notebook
import Testing
@testable import Kernel

/// The Jupyter kernel runs what the person typed in a cell: it is not a replay,
/// so reads (and writes) by any path are allowed, unlike `quantlab replay`.
@Suite(.serialized) struct KernelReadsTests {
    @Test func aCellReadsAFileByAnAbsolutePathOutsideTheFolder() throws {
        let folder = NSTemporaryDirectory() + "quantlab-kernel-reads-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let script = folder + "/outside.qlab"
        try "echo read from outside\n".write(toFile: script, atomically: true, encoding: .utf8)
        let notebook = Notebook(output: { _ in })
        #expect(!script.hasPrefix(notebook.workspace.workingDirectory + "/"))
        let client = try TestClient(notebook: notebook)
        defer { client.stop() }
        client.waitForIOPub()
        let id = client.send("execute_request", ["code": "source \(script)", "silent": false], on: client.shell)
        let reply = try #require(client.reply(to: id, on: client.shell))
        #expect(reply.content["status"] as? String == "ok", "\(reply.content)")
        let texts = client.iopubMessages(for: id).compactMap { $0.content["text"] as? String }
        #expect(texts.contains("read from outside\n"), "\(texts)")
        #expect(notebook.workspace.readPolicy == .anywhere && notebook.workspace.writePolicy == .anywhere)
    }
}
