import Foundation
import Notebook

/// Request handlers other than `execute` (see `KernelServer+Execute.swift`).
extension KernelServer {
    func handleShell(_ request: Message) {
        switch request.type {
        case "kernel_info_request":
            busy(request) { reply(request, on: shell, type: "kernel_info_reply", content: kernelInfo()) }
        case "execute_request":
            busy(request) { execute(request) }
        case "complete_request":
            busy(request) { reply(request, on: shell, type: "complete_reply", content: complete(request.content)) }
        case "inspect_request":
            busy(request) { reply(request, on: shell, type: "inspect_reply", content: inspect(request.content)) }
        case "is_complete_request":
            busy(request) { reply(request, on: shell, type: "is_complete_reply", content: isComplete(request.content)) }
        case "history_request":
            busy(request) { reply(request, on: shell, type: "history_reply", content: historyReply(request.content)) }
        case "comm_info_request":
            busy(request) { reply(request, on: shell, type: "comm_info_reply", content: ["status": "ok", "comms": [String: Any]()]) }
        case "shutdown_request":
            shutdown(request, on: shell)
        default:
            log("quantlab kernel: ignored shell message '\(request.type)'")
        }
    }

    func handleControl(_ request: Message) {
        switch request.type {
        case "kernel_info_request":
            busy(request) { reply(request, on: control, type: "kernel_info_reply", content: kernelInfo()) }
        case "interrupt_request":
            // Ctrl-C: the running command stops at its next check, keeping finished epochs.
            notebook.workspace.interrupted = true
            busy(request) { reply(request, on: control, type: "interrupt_reply", content: ["status": "ok"]) }
        case "shutdown_request":
            shutdown(request, on: control)
        default:
            log("quantlab kernel: ignored control message '\(request.type)'")
        }
    }

    func shutdown(_ request: Message, on socket: ZMQSocket) {
        let restart = request.content["restart"] as? Bool ?? false
        busy(request) { reply(request, on: socket, type: "shutdown_reply", content: ["status": "ok", "restart": restart]) }
        notebook.workspace.interrupted = true
        stopping.store(true, ordering: .releasing)
    }

    func kernelInfo() -> JSONObject {
        [
            "status": "ok",
            "protocol_version": Message.protocolVersion,
            "implementation": "quantlab",
            "implementation_version": Notebook.version,
            "language_info": [
                "name": "quantlab",
                "version": Notebook.version,
                "mimetype": "text/x-quantlab",
                "file_extension": ".qlab",
                "pygments_lexer": "bash",
                "codemirror_mode": "shell",
            ] as JSONObject,
            "banner": "quantlab \(Notebook.version): per-layer precision experiments. Type 'help' for the commands.",
            "help_links": [["text": "quantlab commands (help)", "url": "https://example.invalid/quantlab/help"]],
            "debugger": false,
        ]
    }

    // MARK: - complete, inspect, is_complete, history

    /// The code and cursor of a request, cursor in Unicode code points and clamped.
    static func codeAndCursor(_ content: JSONObject) -> (scalars: [Unicode.Scalar], cursor: Int) {
        let code = Array((content["code"] as? String ?? "").unicodeScalars)
        let cursor = (content["cursor_pos"] as? Int).map { min(max($0, 0), code.count) } ?? code.count
        return (code, cursor)
    }

    /// The line around `cursor`: its text before the cursor and the whole line.
    static func line(at cursor: Int, in scalars: [Unicode.Scalar]) -> (before: String, whole: String) {
        var start = cursor
        while start > 0, scalars[start - 1] != "\n" { start -= 1 }
        var end = cursor
        while end < scalars.count, scalars[end] != "\n" { end += 1 }
        func text(_ range: Range<Int>) -> String {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[range])
            return String(s)
        }
        return (text(start..<cursor), text(start..<end))
    }

    func complete(_ content: JSONObject) -> JSONObject {
        let (scalars, cursor) = KernelServer.codeAndCursor(content)
        let before = KernelServer.line(at: cursor, in: scalars).before
        var wordStart = cursor
        while wordStart > 0, scalars[wordStart - 1] != " ", scalars[wordStart - 1] != "\t", scalars[wordStart - 1] != "\n" {
            wordStart -= 1
        }
        let matches = notebook.completions(for: before)
        return ["status": "ok", "matches": matches, "cursor_start": wordStart, "cursor_end": cursor, "metadata": [String: Any]()]
    }

    /// The full `help` text of the command on the cursor's line (`help X` lines show X).
    func inspect(_ content: JSONObject) -> JSONObject {
        let (scalars, cursor) = KernelServer.codeAndCursor(content)
        let whole = KernelServer.line(at: cursor, in: scalars).whole
        var words = ((try? Tokenizer.tokenize(whole)) ?? []).filter {
            if case .word(quoted: false) = $0.kind { return true } else { return false }
        }.map(\.text)
        if words.first == "help", words.count > 1 { words.removeFirst() }
        let registry = notebook.registry
        guard !words.isEmpty, let spec = (try? registry.resolve(Array(words.prefix(2))))?.spec else {
            return ["status": "ok", "found": false, "data": [String: Any](), "metadata": [String: Any]()]
        }
        let text = HelpFormatter(registry: registry).command(spec)
        return ["status": "ok", "found": true, "data": ["text/plain": text], "metadata": [String: Any]()]
    }

    func isComplete(_ content: JSONObject) -> JSONObject {
        let status = Cell.completeness(content["code"] as? String ?? "", registry: notebook.registry)
        return status == "incomplete" ? ["status": status, "indent": ""] : ["status": status]
    }

    /// `tail`, `range` and `search` (glob pattern, `unique`) over this kernel's cells.
    func historyReply(_ content: JSONObject) -> JSONObject {
        let output = content["output"] as? Bool ?? false
        var cells = history
        switch content["hist_access_type"] as? String ?? "tail" {
        case "range":
            let start = content["start"] as? Int ?? 0
            let stop = content["stop"] as? Int ?? Int.max
            cells = cells.filter { $0.count >= start && $0.count < stop }
        case "search":
            let pattern = content["pattern"] as? String ?? "*"
            cells = cells.filter { fnmatch(pattern, $0.code, 0) == 0 }
            if content["unique"] as? Bool ?? false {
                var seen = Set<String>()
                cells = Array(cells.reversed().filter { seen.insert($0.code).inserted }.reversed())
            }
            if let n = content["n"] as? Int, n >= 0 { cells = Array(cells.suffix(n)) }
        default:
            if let n = content["n"] as? Int, n >= 0 { cells = Array(cells.suffix(n)) }
        }
        let entries: [[Any]] = cells.map { cell -> [Any] in
            output ? [0, cell.count, [cell.code, cell.output]] : [0, cell.count, cell.code]
        }
        return ["status": "ok", "history": entries]
    }
}
