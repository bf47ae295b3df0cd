import Foundation

extension Notebook {
    /// Runs a script's lines in order and stops at the first failure, or
    /// after `quit`.
    ///
    /// Each command's text goes to `output` as it runs (preceded by `qlab> LINE`
    /// when `echo` is on). Returns the key results of all commands, in order.
    /// Throws `QuantlabError.script(file:line:error:)` naming the failing line.
    /// Nothing is recorded here (`quantlab run` records nothing; `source`
    /// records each line itself).
    @discardableResult
    public func runScript(_ text: String, file: String, echo: Bool = false) throws -> [String] {
        try runLines(text, file: file, echo: echo, recorded: false)
    }

    func runLines(_ text: String, file: String, echo: Bool, recorded: Bool) throws -> [String] {
        var results: [String] = []
        defer { quitRequested = false }
        for (index, line) in Notebook.lines(of: text).enumerated() {
            do {
                try workspace.checkInterrupted()
                if echo, !line.trimmingCharacters(in: .whitespaces).isEmpty { output("qlab> \(line)") }
                let result: CommandOutput?
                if recorded {
                    result = try runRecorded(line, lineNumber: index + 1, file: file)
                } else {
                    result = try run(line, lineNumber: index + 1)
                    if let result, !result.text.isEmpty { output(result.text) }
                }
                guard let result else { continue }
                results += result.results
                if quitRequested { break }
            } catch {
                throw QuantlabError.script(file: file, line: index + 1, error: error)
            }
        }
        return results
    }

    /// Runs the script file at `path` (resolved against the working directory),
    /// one level deeper: what `source FILE` does. When recording, the file's
    /// commands are recorded one by one between `# source FILE` and
    /// `# end of source FILE` comments, so the session file alone replays.
    /// During replay only files below the working directory may be sourced.
    func source(_ path: String) throws -> [String] {
        guard depth < Notebook.maxSourceDepth else {
            throw QuantlabError.runtime("source: nested more than \(Notebook.maxSourceDepth) deep; does '\(path)' source itself?")
        }
        let text = try Notebook.readScript(at: workspace.inputPath(path), shownAs: path)
        let recording = recorder != nil
        record { try $0.recordNote("source \(path)") }
        depth += 1
        defer {
            depth -= 1
            sourceRecorded = recording
        }
        do {
            let results = try runLines(text, file: path, echo: false, recorded: recording)
            record { try $0.recordNote("end of source \(path)") }
            return results
        } catch {
            record { try $0.recordNote("end of source \(path) (stopped by the error above)") }
            throw error
        }
    }

    /// The text of a script file, or a runtime error naming it.
    public static func readScript(at path: String, shownAs name: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let reason = !exists ? "no such file" : isDirectory.boolValue ? "it is a directory" : "permission denied"
            throw QuantlabError.runtime("cannot read '\(name)': \(reason)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let bytes = [UInt8](data)
            let offset = firstInvalidUTF8(bytes) ?? 0
            let line = bytes[..<offset].reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
            throw QuantlabError.input(file: name, line: line, offset: offset, expected: "UTF-8 text",
                                      found: String(format: "byte 0x%02X", offset < bytes.count ? bytes[offset] : 0))
        }
        return text
    }

    /// Offset of the first byte that does not belong to well-formed UTF-8
    /// (overlong forms, surrogates and values above U+10FFFF included), or nil.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var i = 0
        while i < bytes.count {
            let lead = bytes[i]
            if lead < 0x80 { i += 1; continue }
            let length = lead & 0xE0 == 0xC0 ? 2 : lead & 0xF0 == 0xE0 ? 3 : lead & 0xF8 == 0xF0 ? 4 : 0
            guard length > 0, i + length <= bytes.count else { return i }
            var scalar = UInt32(lead) & (0xFF >> (length + 1))
            for k in 1..<length {
                guard bytes[i + k] & 0xC0 == 0x80 else { return i + k }
                scalar = scalar << 6 | UInt32(bytes[i + k] & 0x3F)
            }
            let smallest: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
            if scalar < smallest || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return i }
            i += length
        }
        return nil
    }

    /// Lines of a script (`\n` or `\r\n` endings), without a final empty line
    /// after the last newline.
    static func lines(of text: String) -> [String] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
