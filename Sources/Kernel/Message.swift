import Foundation

/// A JSON object as Foundation's `JSONSerialization` gives it.
public typealias JSONObject = [String: Any]

/// Why a message was dropped (logged to stderr, never fatal).
public enum MessageError: Error, CustomStringConvertible {
    case noDelimiter
    case tooFewFrames(Int)
    case badSignature
    case badJSON(String)
    case missingField(String)

    public var description: String {
        switch self {
        case .noDelimiter: return "no <IDS|MSG> delimiter"
        case .tooFewFrames(let n): return "expected at least 5 frames after the delimiter, found \(n)"
        case .badSignature: return "bad signature"
        case .badJSON(let part): return "\(part) is not a JSON object"
        case .missingField(let name): return "header has no '\(name)'"
        }
    }
}

/// One Jupyter message (protocol 5.3) and its wire form:
///
///     [identities…] <IDS|MSG> signature header parent_header metadata content [buffers…]
///
/// Header, parent header, metadata and content are JSON objects; the
/// signature is the hex HMAC of those four frames (see `MessageSigner`).
public struct Message {
    public static let delimiter = Array("<IDS|MSG>".utf8)
    public static let protocolVersion = "5.3"

    public var identities: [[UInt8]]
    public var header: JSONObject
    public var parentHeader: JSONObject
    public var metadata: JSONObject
    public var content: JSONObject
    public var buffers: [[UInt8]]

    public var type: String { header["msg_type"] as? String ?? "" }
    public var id: String { header["msg_id"] as? String ?? "" }

    public init(identities: [[UInt8]] = [], header: JSONObject, parentHeader: JSONObject = [:],
                metadata: JSONObject = [:], content: JSONObject = [:], buffers: [[UInt8]] = []) {
        self.identities = identities
        self.header = header
        self.parentHeader = parentHeader
        self.metadata = metadata
        self.content = content
        self.buffers = buffers
    }

    /// Parses and checks a received multipart message. Throws, never traps, on any input.
    public static func decode(_ frames: [[UInt8]], signer: MessageSigner) throws -> Message {
        guard let split = frames.firstIndex(of: delimiter) else { throw MessageError.noDelimiter }
        let rest = Array(frames[(split + 1)...])
        guard rest.count >= 5 else { throw MessageError.tooFewFrames(rest.count) }
        let parts = Array(rest[1...4])
        guard signer.verify(rest[0], parts: parts) else { throw MessageError.badSignature }
        let names = ["header", "parent_header", "metadata", "content"]
        var objects: [JSONObject] = []
        for (part, name) in zip(parts, names) {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(part))) as? JSONObject else {
                throw MessageError.badJSON(name)
            }
            objects.append(object)
        }
        for field in ["msg_id", "msg_type"] where !(objects[0][field] is String) {
            throw MessageError.missingField(field)
        }
        return Message(identities: Array(frames[..<split]), header: objects[0], parentHeader: objects[1],
                       metadata: objects[2], content: objects[3], buffers: Array(rest.dropFirst(5)))
    }

    /// The frames to send, signed.
    public func encode(signer: MessageSigner) -> [[UInt8]] {
        let parts = [header, parentHeader, metadata, content].map(Message.serialize)
        return identities + [Message.delimiter, Array(signer.signature(parts).utf8)] + parts + buffers
    }

    static func serialize(_ object: JSONObject) -> [UInt8] {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]) else {
            return Array("{}".utf8)
        }
        return Array(data)
    }

    /// A new header for a message of `type` in `session`.
    public static func header(type: String, session: String) -> JSONObject {
        ["msg_id": UUID().uuidString.lowercased(), "session": session, "username": "quantlab",
         "date": timestamp(), "msg_type": type, "version": protocolVersion]
    }

    /// ISO 8601 UTC with microseconds, as jupyter_client writes dates.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", parts.tm_year + 1900, parts.tm_mon + 1,
                      parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(now.tv_nsec / 1000))
    }
}
