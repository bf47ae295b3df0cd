import Foundation
import Notebook

/// `execute_request`: runs a cell's command lines in order on the notebook.
///
/// Each command's text becomes a `stream` (stdout); text holding aligned tables
/// becomes `display_data` with `text/html` and `text/markdown` beside
/// `text/plain` (`execute_result` when it is the cell's last command); a
/// command's rich displays (plots as `image/svg+xml`) go out as `display_data`
/// with the command's text as the `text/plain` fallback. Progress frames of a
/// long command are one display updated in place. The first failing command
/// ends the cell with an `error`.
extension KernelServer {
    /// Smallest interval between two non-final progress redraws.
    static let progressInterval: UInt64 = 250_000_000

    func execute(_ request: Message) {
        let content = request.content
        let code = content["code"] as? String ?? ""
        let quiet = content["silent"] as? Bool ?? false
        let store = (content["store_history"] as? Bool ?? true) && !quiet
        if store { executionCount += 1 }
        let count = executionCount
        progressLock.lock()
        currentParent = request.header
        silent = quiet
        progressLock.unlock()
        if !quiet { publish("execute_input", ["code": code, "execution_count": count], parent: request.header) }
        if store, let recorder = notebook.recorder { try? recorder.recordComment("# cell \(count)") }

        var transcript: [String] = []
        var failure: String?
        let lines = Cell.lines(code)
        for (index, item) in lines.enumerated() {
            startCommand()
            let outcome = notebook.execute(item.line)
            let chunks = takeChunks()
            finishProgress()
            switch outcome {
            case .success(let output):
                let last = index == lines.count - 1
                var earlier = chunks
                var ownText: String?
                if !output.text.isEmpty, earlier.last == output.text { ownText = earlier.removeLast() }
                for chunk in earlier { emitText(chunk, count: count, asResult: false, request) }
                if let text = ownText, output.displays.isEmpty { emitText(text, count: count, asResult: last, request) }
                for (n, display) in output.displays.enumerated() {
                    var data = display
                    if n == 0, let text = ownText, data["text/plain"] == nil { data["text/plain"] = text }
                    if !quiet { publish("display_data", ["data": data, "metadata": [String: Any](), "transient": [String: Any]()], parent: request.header) }
                }
                transcript += chunks
            case .blank:
                for chunk in chunks { emitText(chunk, count: count, asResult: false, request) }
                transcript += chunks
            case .failure(let message):
                for chunk in chunks { emitText(chunk, count: count, asResult: false, request) }
                transcript += chunks + [message]
                failure = message
            }
            // A command that handles Ctrl-C itself (training keeps its finished
            // epochs) still ends the cell: the rest of it does not run.
            if failure == nil, notebook.workspace.interrupted {
                failure = "interrupted" + (index < lines.count - 1 ? "; the rest of the cell did not run" : "")
            }
            if failure != nil { break }
        }
        if store { history.append((count, code, transcript.joined(separator: "\n"))) }
        if let message = failure {
            let interrupted = notebook.workspace.interrupted
            let ename = interrupted ? "Interrupted" : "QuantlabError"
            let evalue = message.hasPrefix("error: ") ? String(message.dropFirst("error: ".count)) : message
            let traceback = message.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let error: JSONObject = ["ename": ename, "evalue": evalue, "traceback": traceback]
            if !quiet { publish("error", error, parent: request.header) }
            var reply = error
            reply["status"] = "error"
            reply["execution_count"] = count
            self.reply(request, on: shell, type: "execute_reply", content: reply)
        } else {
            self.reply(request, on: shell, type: "execute_reply", content: [
                "status": "ok", "execution_count": count, "user_expressions": [String: Any](), "payload": [Any](),
            ])
        }
    }

    /// One chunk of command text: a table display when it holds tables, else stdout.
    func emitText(_ text: String, count: Int, asResult: Bool, _ request: Message) {
        progressLock.lock()
        let quiet = silent
        progressLock.unlock()
        guard !quiet else { return }
        if let rich = TableRenderer.render(text) {
            let data: JSONObject = ["text/plain": text, "text/html": rich.html, "text/markdown": rich.markdown]
            if asResult {
                publish("execute_result", ["execution_count": count, "data": data, "metadata": [String: Any]()], parent: request.header)
            } else {
                publish("display_data", ["data": data, "metadata": [String: Any](), "transient": [String: Any]()], parent: request.header)
            }
        } else {
            publish("stream", ["name": "stdout", "text": text + "\n"], parent: request.header)
        }
    }

    // MARK: - Output and progress of the running command

    /// `Notebook.output`: collects the command's text chunks; `execute` sends them
    /// when the command ends, so a plot's text can be the fallback of its SVG.
    /// Chunks of earlier commands (from `source`) go out at once.
    func commandOutput(_ text: String) {
        progressLock.lock()
        let earlier = pendingChunks
        pendingChunks = [text]
        let parent = currentParent
        let quiet = silent
        progressLock.unlock()
        guard !quiet else { return }
        for chunk in earlier { publish("stream", ["name": "stdout", "text": chunk + "\n"], parent: parent) }
    }

    func takeChunks() -> [String] {
        progressLock.lock()
        defer { progressLock.unlock() }
        let chunks = pendingChunks
        pendingChunks = []
        return chunks
    }

    /// A new command: its progress frames go to a new display.
    func startCommand() {
        progressLock.lock()
        pendingChunks = []
        progressDisplay = nil
        progressSerial += 1
        progressLock.unlock()
    }

    /// Draws the last frame if throttling held it back.
    func finishProgress() {
        progressLock.lock()
        defer { progressLock.unlock() }
        if let frame = heldFrame { draw(frame) }
        heldFrame = nil
    }

    /// `Workspace.progress`: the first frame of a command opens a display, later
    /// ones update it (at most 4 redraws a second, final frames always).
    func showProgress(_ frame: ProgressFrame) {
        progressLock.lock()
        defer { progressLock.unlock() }
        guard !silent else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if let display = progressDisplay, !frame.final, now &- display.lastDraw < KernelServer.progressInterval {
            heldFrame = frame
            return
        }
        heldFrame = nil
        draw(frame)
    }

    /// Sends `frame` (caller holds `progressLock`).
    private func draw(_ frame: ProgressFrame) {
        let text = frame.lines.joined(separator: "\n")
        let data: JSONObject = ["text/plain": text, "text/html": "<pre>" + TableRenderer.escape(text) + "</pre>"]
        let now = DispatchTime.now().uptimeNanoseconds
        if let display = progressDisplay {
            publish("update_display_data", ["data": data, "metadata": [String: Any](), "transient": ["display_id": display.id]],
                    parent: currentParent)
            progressDisplay = (display.id, true, now)
        } else {
            let id = "quantlab-progress-\(session)-\(progressSerial)"
            publish("display_data", ["data": data, "metadata": [String: Any](), "transient": ["display_id": id]],
                    parent: currentParent)
            progressDisplay = (id, true, now)
        }
    }
}
