import Foundation

/// The kernel spec Jupyter finds in `…/share/jupyter/kernels/quantlab/`:
/// `kernel.json` (argv, display name, language, interrupt mode) and a logo.
public enum KernelSpec {
    public static let name = "quantlab"

    /// `kernel.json` for the executable at `executable`.
    public static func json(executable: String, interruptMode: String) -> String {
        let spec: JSONObject = [
            "argv": [executable, "kernel", "--connection-file", "{connection_file}"],
            "display_name": "quantlab",
            "language": "quantlab",
            "interrupt_mode": interruptMode,
            "metadata": ["debugger": false],
        ]
        let data = try! JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// `PREFIX/share/jupyter/kernels/quantlab`; the user's data directory with `user`,
    /// `/usr/local` when neither is given (Jupyter's system-wide default).
    public static func directory(user: Bool, prefix: String?) -> String {
        if let prefix { return prefix + "/share/jupyter/kernels/" + name }
        if user {
            let env = ProcessInfo.processInfo.environment
            let data = env["JUPYTER_DATA_DIR"] ?? (env["XDG_DATA_HOME"] ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.local/share")) + "/jupyter"
            return data + "/kernels/" + name
        }
        return "/usr/local/share/jupyter/kernels/" + name
    }

    /// Writes the spec into `directory` (created as needed); returns the files written.
    @discardableResult
    public static func install(into directory: String, executable: String, interruptMode: String = "signal") throws -> [String] {
        guard interruptMode == "signal" || interruptMode == "message" else {
            throw KernelError("interrupt mode must be 'signal' or 'message', found '\(interruptMode)'")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let files = [("kernel.json", json(executable: executable, interruptMode: interruptMode)), ("logo-svg.svg", logo)]
            for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
            return files.map { directory + "/" + $0.0 }
        } catch {
            throw KernelError("cannot write the kernel spec to '\(directory)': \(error.localizedDescription)")
        }
    }

    /// Removes the spec directory; an error when it is not there.
    public static func remove(from directory: String) throws {
        guard FileManager.default.fileExists(atPath: directory + "/kernel.json") else {
            throw KernelError("no quantlab kernel spec at '\(directory)'")
        }
        do { try FileManager.default.removeItem(atPath: directory) } catch {
            throw KernelError("cannot remove '\(directory)': \(error.localizedDescription)")
        }
    }

    /// The path of the running executable (for `argv`).
    public static func currentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// Bars of falling height (precision going down), the project's mark.
    static let logo = """
        <svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
        <rect width="64" height="64" rx="10" fill="#22313f"/>
        <rect x="8" y="12" width="10" height="42" fill="#4e79a7"/>
        <rect x="21" y="22" width="10" height="32" fill="#f28e2b"/>
        <rect x="34" y="32" width="10" height="22" fill="#59a14f"/>
        <rect x="47" y="42" width="10" height="12" fill="#e15759"/>
        </svg>

        """
}
