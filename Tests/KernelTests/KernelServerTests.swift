import CZMQ
import Foundation
import Notebook
import Testing
@testable import Kernel

@Suite(.serialized) struct KernelServerTests {
    @Test func kernelInfoAndHeartbeat() throws {
        let client = try TestClient()
        defer { client.stop() }
        let reply = try #require(client.request("kernel_info_request"))
        #expect(reply.type == "kernel_info_reply")
        #expect(reply.content["protocol_version"] as? String == "5.3")
        let language = try #require(reply.content["language_info"] as? JSONObject)
        #expect(language["name"] as? String == "quantlab")
        #expect(language["file_extension"] as? String == ".qlab")
        try client.heartbeat.send([Array("ping".utf8)])
        #expect(!ZMQSocket.poll([client.heartbeat], timeoutMilliseconds: 5000).isEmpty)
        #expect(try client.heartbeat.receive() == [Array("ping".utf8)])
    }

    @Test func executeStreamsOutputBetweenBusyAndIdle() throws {
        let client = try TestClient()
        defer { client.stop() }
        client.waitForIOPub()
        let id = client.send("execute_request", ["code": "seed 7\necho hello, world", "silent": false], on: client.shell)
        let reply = try #require(client.reply(to: id, on: client.shell))
        #expect(reply.content["status"] as? String == "ok")
        #expect(reply.content["execution_count"] as? Int == 1)
        let messages = client.iopubMessages(for: id)
        #expect(messages.map(\.type) == ["status", "execute_input", "stream", "stream", "status"])
        #expect(messages.first?.content["execution_state"] as? String == "busy")
        #expect(messages[2].content["text"] as? String == "seed 7\n")
        #expect(messages[3].content["text"] as? String == "hello, world\n")
    }

    @Test func errorsEndTheCellWithTheCommandsMessage() throws {
        let client = try TestClient()
        defer { client.stop() }
        client.waitForIOPub()
        let id = client.send("execute_request", ["code": "frobnicate 3\necho never"], on: client.shell)
        let reply = try #require(client.reply(to: id, on: client.shell))
        #expect(reply.content["status"] as? String == "error")
        #expect((reply.content["evalue"] as? String ?? "").contains("frobnicate"))
        let messages = client.iopubMessages(for: id)
        #expect(messages.map(\.type) == ["status", "execute_input", "error", "status"])
    }

    @Test func completeInspectIsCompleteHistory() throws {
        let client = try TestClient()
        defer { client.stop() }
        let complete = try #require(client.request("complete_request", ["code": "echo x\ntrial r", "cursor_pos": 14]))
        #expect(complete.content["matches"] as? [String] == ["resume", "run"])   // trial resume: Slurm runs
        #expect(complete.content["cursor_start"] as? Int == 13)
        #expect(complete.content["cursor_end"] as? Int == 14)
        let inspect = try #require(client.request("inspect_request", ["code": "seed 3", "cursor_pos": 2, "detail_level": 0]))
        #expect(inspect.content["found"] as? Bool == true)
        let data = try #require(inspect.content["data"] as? JSONObject)
        #expect((data["text/plain"] as? String ?? "").hasPrefix("usage: seed [N]"))
        let missing = try #require(client.request("inspect_request", ["code": "zzz", "cursor_pos": 1]))
        #expect(missing.content["found"] as? Bool == false)
        let incomplete = try #require(client.request("is_complete_request", ["code": "echo \"open"]))
        #expect(incomplete.content["status"] as? String == "incomplete")
        _ = client.request("execute_request", ["code": "seed 5"])
        _ = client.request("execute_request", ["code": "echo hi"])
        let history = try #require(client.request("history_request", ["hist_access_type": "tail", "n": 2, "output": false, "raw": true]))
        let entries = try #require(history.content["history"] as? [[Any]])
        #expect(entries.map { $0[2] as? String } == ["seed 5", "echo hi"])
        #expect(entries.map { $0[1] as? Int } == [1, 2])
    }

    @Test func tablesGoOutAsHTMLAndMarkdown() throws {
        let notebook = Notebook(output: { _ in })
        notebook.register([CommandSpec(verb: "table", synopsis: "table", abstract: "A test table.") { _, _ in
            CommandOutput("config  acc\n------  -----\nfloat   0.871")
        }])
        let client = try TestClient(notebook: notebook)
        defer { client.stop() }
        client.waitForIOPub()
        let id = client.send("execute_request", ["code": "table\ntable"], on: client.shell)
        _ = client.reply(to: id, on: client.shell)
        let messages = client.iopubMessages(for: id)
        #expect(messages.map(\.type) == ["status", "execute_input", "display_data", "execute_result", "status"])
        let data = try #require(messages[3].content["data"] as? JSONObject)
        #expect((data["text/html"] as? String ?? "").contains("<td>0.871</td>"))
        #expect((data["text/markdown"] as? String ?? "").contains("| float | 0.871 |"))
    }

    @Test func richDisplaysCarryTheTextAsFallback() throws {
        let notebook = Notebook(output: { _ in })
        notebook.register([CommandSpec(verb: "picture", synopsis: "picture", abstract: "A test plot.") { _, _ in
            var output = CommandOutput("a text plot")
            output.displays = [["image/svg+xml": "<svg/>"]]
            return output
        }])
        let client = try TestClient(notebook: notebook)
        defer { client.stop() }
        client.waitForIOPub()
        let id = client.send("execute_request", ["code": "picture"], on: client.shell)
        _ = client.reply(to: id, on: client.shell)
        let messages = client.iopubMessages(for: id)
        #expect(messages.map(\.type) == ["status", "execute_input", "display_data", "status"])
        let data = try #require(messages[2].content["data"] as? JSONObject)
        #expect(data["image/svg+xml"] as? String == "<svg/>")
        #expect(data["text/plain"] as? String == "a text plot")
    }
}
