import Foundation
import Testing
@testable import Kernel

@Suite struct MessageTests {
    @Test func signatureMatchesRFC4231() {
        // RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?"), split over two frames.
        let signer = MessageSigner(key: "Jefe")
        let parts = [Array("what do ya want ".utf8), Array("for nothing?".utf8)]
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        #expect(signer.signature(parts) == expected)
        #expect(signer.verify(Array(expected.utf8), parts: parts))
        #expect(signer.verify(Array(expected.uppercased().utf8), parts: parts))
        #expect(!signer.verify(Array(expected.replacingOccurrences(of: "5b", with: "5c").utf8), parts: parts))
        #expect(!signer.verify(Array("zz".utf8), parts: parts))
        #expect(!signer.verify([], parts: parts))
    }

    @Test func roundTripKeepsIdentitiesAndContent() throws {
        let signer = MessageSigner(key: "secret")
        var header = Message.header(type: "execute_request", session: "s1")
        header["msg_id"] = "m1"
        let message = Message(identities: [Array("peer".utf8)], header: header, parentHeader: [:],
                              content: ["code": "seed 7", "silent": false], buffers: [[1, 2, 3]])
        let frames = message.encode(signer: signer)
        #expect(frames[0] == Array("peer".utf8))
        #expect(frames[1] == Message.delimiter)
        #expect(frames[2].count == 64)
        let decoded = try Message.decode(frames, signer: signer)
        #expect(decoded.identities == [Array("peer".utf8)])
        #expect(decoded.type == "execute_request")
        #expect(decoded.id == "m1")
        #expect(decoded.content["code"] as? String == "seed 7")
        #expect(decoded.buffers == [[1, 2, 3]])
    }

    @Test func rejectsBadSignaturesAndMalformedFrames() {
        let signer = MessageSigner(key: "secret")
        let message = Message(header: Message.header(type: "kernel_info_request", session: "s"))
        var frames = message.encode(signer: signer)
        #expect(throws: (any Error).self) { try Message.decode(frames, signer: MessageSigner(key: "other")) }
        frames[3][frames[3].count - 2] ^= 1  // header byte changed after signing
        #expect(throws: (any Error).self) { try Message.decode(frames, signer: signer) }
        #expect(throws: (any Error).self) { try Message.decode([], signer: signer) }
        #expect(throws: (any Error).self) { try Message.decode([Message.delimiter, [], [], []], signer: signer) }
        let unsigned = MessageSigner(key: "")
        let notJSON: [[UInt8]] = [Message.delimiter, [], Array("{".utf8), Array("{}".utf8), Array("{}".utf8), Array("{}".utf8)]
        #expect(throws: (any Error).self) { try Message.decode(notJSON, signer: unsigned) }
        let noType: [[UInt8]] = [Message.delimiter, [], Array("{\"msg_id\":\"x\"}".utf8), Array("{}".utf8), Array("{}".utf8), Array("{}".utf8)]
        #expect(throws: (any Error).self) { try Message.decode(noType, signer: unsigned) }
    }

    @Test func timestampIsISO8601WithMicroseconds() {
        let stamp = Message.timestamp()
        #expect(stamp.count == 27)
        #expect(stamp.hasSuffix("Z"))
        #expect(Array(stamp)[10] == "T")
    }
}
