import CZMQ
import Foundation
import Notebook
import Testing
@testable import Kernel

/// A command that runs until interrupted, drawing a progress frame every 10 ms
/// and a final frame per "epoch" of 5 frames.
private func slowCommand() -> CommandSpec {
    CommandSpec(verb: "slow", synopsis: "slow", abstract: "Runs until interrupted.") { _, ws in
        for step in 1... {
            ws.progress(ProgressFrame(lines: ["step \(step)"], final: step % 5 == 0))
            try ws.checkInterrupted()
            usleep(10_000)
        }
        return .empty
    }
}

/// Like `trial run`: stops at Ctrl-C and returns what it finished, without an error.
private func gentleCommand() -> CommandSpec {
    CommandSpec(verb: "gentle", synopsis: "gentle", abstract: "Runs until interrupted, then reports.") { _, ws in
        var steps = 0
        while !ws.interrupted { usleep(10_000); steps += 1 }
        return CommandOutput("stopped, steps kept")
    }
}

@Suite(.serialized) struct KernelRobustnessTests {
    /// 1,000 mutated messages (bytes flipped, frames dropped or added, bad and
    /// missing signatures, re-signed garbage JSON, wrong field types) on shell
    /// and control; the kernel still answers kernel_info afterwards.
    @Test func survivesAThousandMutatedMessages() throws {
        let client = try TestClient()
        defer { client.stop() }
        var rng = TestRNG(seed: 13)
        let templates: [(String, JSONObject)] = [
            ("kernel_info_request", [:]),
            ("execute_request", ["code": "echo x", "silent": false]),
            ("complete_request", ["code": "trial r", "cursor_pos": 7]),
            ("inspect_request", ["code": "seed 3", "cursor_pos": 1]),
            ("is_complete_request", ["code": "echo \"a"]),
            ("history_request", ["hist_access_type": "tail", "n": 3]),
            ("interrupt_request", [:]),
            ("frobnicate_request", ["x": 1]),
        ]
        let oddValues: [Any] = [5, -1, 1_000_000_000, "", NSNull(), [1, 2], ["a": "b"], true, 1.5e300, "\u{0}\u{FFFF}"]
        for i in 0..<1000 {
            let (type, content) = templates[rng.below(templates.count)]
            var header = Message.header(type: type, session: "fuzz")
            var body = content
            if rng.below(4) == 0, let key = body.keys.randomElement(using: &rng) { body[key] = oddValues[rng.below(oddValues.count)] }
            if rng.below(8) == 0 { body["cursor_pos"] = oddValues[rng.below(oddValues.count)] }
            if rng.below(10) == 0 { header["msg_type"] = oddValues[rng.below(oddValues.count)] }
            var frames = Message(header: header, content: body).encode(signer: client.signer)
            switch rng.below(6) {
            case 0:  // flip bytes anywhere (usually breaks the signature)
                for _ in 0...rng.below(4) {
                    let f = rng.below(frames.count)
                    if !frames[f].isEmpty { frames[f][rng.below(frames[f].count)] ^= UInt8(1 + rng.below(255)) }
                }
            case 1:  // flip bytes in the JSON frames, then sign again: garbage that passes the signature
                let f = 2 + rng.below(4)
                if !frames[f].isEmpty { frames[f][rng.below(frames[f].count)] = UInt8(rng.below(256)) }
                frames[1] = Array(client.signer.signature(Array(frames[2...5])).utf8)
            case 2:  // drop or duplicate frames
                if rng.below(2) == 0 { frames.remove(at: rng.below(frames.count)) } else { frames.append(frames[rng.below(frames.count)]) }
            case 3:  // no or wrong signature
                frames[1] = rng.below(2) == 0 ? [] : Array(String(repeating: "0", count: 64).utf8)
            case 4:  // truncate a JSON frame and re-sign
                let f = 2 + rng.below(4)
                frames[f] = Array(frames[f].prefix(rng.below(frames[f].count + 1)))
                frames[1] = Array(client.signer.signature(Array(frames[2...5])).utf8)
            default:  // random bytes
                frames = (0...rng.below(8)).map { _ in (0..<rng.below(64)).map { _ in UInt8(rng.below(256)) } }
            }
            try (i % 3 == 0 ? client.control : client.shell).send(frames)
        }
        let reply = try #require(client.request("kernel_info_request", timeout: 60))
        #expect(reply.content["status"] as? String == "ok")
        let control = try #require(client.request("kernel_info_request", on: client.control, timeout: 60))
        #expect(control.content["implementation"] as? String == "quantlab")
    }

    @Test func interruptRequestStopsTheCommandAndTheKernelGoesOn() throws {
        let notebook = Notebook(output: { _ in })
        notebook.register([slowCommand()])
        let client = try TestClient(notebook: notebook)
        defer { client.stop() }
        client.waitForIOPub()
        let id = client.send("execute_request", ["code": "slow\necho after"], on: client.shell)
        usleep(300_000)
        let interrupt = try #require(client.request("interrupt_request", on: client.control))
        #expect(interrupt.content["status"] as? String == "ok")
        let reply = try #require(client.reply(to: id, on: client.shell))
        #expect(reply.content["status"] as? String == "error")
        #expect(reply.content["ename"] as? String == "Interrupted")
        let messages = client.iopubMessages(for: id)
        let types = messages.map(\.type)
        // One progress display, opened once and updated in place (throttled: far fewer than the ~30 frames).
        #expect(types.filter { $0 == "display_data" }.count == 1)
        let updates = types.filter { $0 == "update_display_data" }.count
        #expect(updates >= 1 && updates < 20)
        let ids = Set(messages.compactMap { ($0.content["transient"] as? JSONObject)?["display_id"] as? String })
        #expect(ids.count == 1)
        #expect(!types.contains("stream"))  // 'echo after' did not run
        let next = try #require(client.request("execute_request", ["code": "echo still here"]))
        #expect(next.content["status"] as? String == "ok")
    }
}

extension KernelRobustnessTests {
    @Test func interruptedCommandThatReturnsStillEndsTheCell() throws {
        let notebook = Notebook(output: { _ in })
        notebook.register([gentleCommand()])
        let client = try TestClient(notebook: notebook)
        defer { client.stop() }
        client.waitForIOPub()
        let id = client.send("execute_request", ["code": "gentle\necho after"], on: client.shell)
        usleep(200_000)
        _ = client.request("interrupt_request", on: client.control)
        let reply = try #require(client.reply(to: id, on: client.shell))
        #expect(reply.content["ename"] as? String == "Interrupted")
        #expect(reply.content["evalue"] as? String == "interrupted; the rest of the cell did not run")
        let texts = client.iopubMessages(for: id).compactMap { $0.content["text"] as? String }
        #expect(texts == ["stopped, steps kept\n"])
    }
}

/// SplitMix64, for reproducible mutations.
struct TestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
