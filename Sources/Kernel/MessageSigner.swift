import Crypto
import Foundation

/// Signs and checks Jupyter messages: HMAC-SHA256 over the header, parent
/// header, metadata and content frames, as lowercase hex.
///
/// An empty key means the connection file asked for no signing (`signature`
/// frame empty, nothing checked), as the protocol allows.
public struct MessageSigner {
    private let key: SymmetricKey?

    public init(key: String) {
        self.key = key.isEmpty ? nil : SymmetricKey(data: Array(key.utf8))
    }

    public var signs: Bool { key != nil }

    /// Hex signature of the four frames.
    public func signature(_ parts: [[UInt8]]) -> String {
        guard let key else { return "" }
        var hmac = HMAC<SHA256>(key: key)
        for part in parts { hmac.update(data: part) }
        return hex(Array(hmac.finalize()))
    }

    /// True when `signature` is the frames' hex HMAC; the comparison of the
    /// decoded digest is constant-time (`HMAC.isValidAuthenticationCode`).
    public func verify(_ signature: [UInt8], parts: [[UInt8]]) -> Bool {
        guard let key else { return true }
        guard signature.count == 64, let digest = MessageSigner.decodeHex(signature) else { return false }
        var data: [UInt8] = []
        for part in parts { data += part }
        return HMAC<SHA256>.isValidAuthenticationCode(digest, authenticating: data, using: key)
    }

    static func decodeHex(_ text: [UInt8]) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var i = 0
        while i < text.count {
            guard let hi = nibble(text[i]), let lo = nibble(text[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
