import Foundation

/// The connection file Jupyter writes for a kernel: transport, address, ports and key.
public struct ConnectionInfo: Equatable, Sendable {
    public var transport: String
    public var ip: String
    public var shellPort: Int
    public var controlPort: Int
    public var stdinPort: Int
    public var iopubPort: Int
    public var heartbeatPort: Int
    public var key: String
    public var signatureScheme: String

    public init(transport: String = "tcp", ip: String = "127.0.0.1", shellPort: Int = 0, controlPort: Int = 0,
                stdinPort: Int = 0, iopubPort: Int = 0, heartbeatPort: Int = 0, key: String = "",
                signatureScheme: String = "hmac-sha256") {
        self.transport = transport
        self.ip = ip
        self.shellPort = shellPort
        self.controlPort = controlPort
        self.stdinPort = stdinPort
        self.iopubPort = iopubPort
        self.heartbeatPort = heartbeatPort
        self.key = key
        self.signatureScheme = signatureScheme
    }

    /// Reads and checks the file; errors name the file and what was wrong.
    public static func load(path: String) throws -> ConnectionInfo {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KernelError("cannot read connection file '\(path)'")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? JSONObject else {
            throw KernelError("connection file '\(path)' is not a JSON object")
        }
        func port(_ name: String) throws -> Int {
            guard let value = json[name] as? Int, (0...65535).contains(value) else {
                throw KernelError("connection file '\(path)': '\(name)' must be a port number")
            }
            return value
        }
        let info = ConnectionInfo(
            transport: json["transport"] as? String ?? "tcp", ip: json["ip"] as? String ?? "127.0.0.1",
            shellPort: try port("shell_port"), controlPort: try port("control_port"), stdinPort: try port("stdin_port"),
            iopubPort: try port("iopub_port"), heartbeatPort: try port("hb_port"),
            key: json["key"] as? String ?? "", signatureScheme: json["signature_scheme"] as? String ?? "hmac-sha256")
        guard info.key.isEmpty || info.signatureScheme == "hmac-sha256" else {
            throw KernelError("connection file '\(path)': signature scheme '\(info.signatureScheme)' is not supported (hmac-sha256 is)")
        }
        return info
    }

    /// `tcp://127.0.0.1:PORT` (or `ipc://IP-PORT`).
    public func endpoint(_ port: Int) -> String {
        transport == "ipc" ? "ipc://\(ip)-\(port)" : "\(transport)://\(ip):\(port)"
    }
}

/// A kernel start-up or install error, shown to the user as is.
public struct KernelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
