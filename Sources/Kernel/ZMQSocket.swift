import CZMQ
import Foundation

/// A ZeroMQ error: the call that failed and `zmq_strerror`.
public struct ZMQError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public var description: String { "\(call): \(String(cString: zmq_strerror(code)))" }

    static func last(_ call: String) -> ZMQError { ZMQError(call: call, code: zmq_errno()) }
}

/// The process's ZeroMQ context (one per kernel).
///
/// `@unchecked Sendable`: it wraps a C handle, and ZeroMQ contexts are thread-safe
/// (zmq_ctx_new/zmq_socket/zmq_ctx_term may be called from any thread).
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() {
        handle = zmq_ctx_new()
    }

    deinit { zmq_ctx_term(handle) }
}

/// One ZeroMQ socket, used from one thread at a time (callers serialize access).
///
/// Frames are sent and received as `[UInt8]`; a multipart message is an array of frames.
///
/// `@unchecked Sendable`: ZeroMQ sockets are not thread-safe, but may move between
/// threads across a full memory barrier; KernelServer gives each socket one thread or
/// serialises it under a lock (iopub), which the compiler cannot see through a C handle.
public final class ZMQSocket: @unchecked Sendable {
    public let handle: UnsafeMutableRawPointer
    /// Kept alive as long as the socket.
    let context: ZMQContext

    public init(_ context: ZMQContext, type: Int32) throws {
        guard let socket = zmq_socket(context.handle, type) else { throw ZMQError.last("zmq_socket") }
        self.context = context
        handle = socket
        var linger: Int32 = 0
        zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
    }

    deinit { zmq_close(handle) }

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("zmq_bind \(endpoint)") }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("zmq_connect \(endpoint)") }
    }

    public func setOption(_ option: Int32, _ value: [UInt8]) {
        value.withUnsafeBytes { _ = zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
    }

    public func setOption(_ option: Int32, _ value: Int32) {
        var v = value
        zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size)
    }

    /// The endpoint actually bound (after binding port 0 or `*`).
    public var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size)
        return String(cString: buffer)
    }

    /// Sends all frames as one multipart message. Retries on EINTR.
    public func send(_ frames: [[UInt8]]) throws {
        if frames.isEmpty { return }
        for (i, frame) in frames.enumerated() {
            let flags: Int32 = i < frames.count - 1 ? ZMQ_SNDMORE : 0
            while true {
                let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
                if rc >= 0 { break }
                if zmq_errno() == EINTR { continue }
                throw ZMQError.last("zmq_send")
            }
        }
    }

    /// Receives one multipart message; nil when `nonBlocking` and nothing is waiting,
    /// or when a signal interrupted the wait.
    public func receive(nonBlocking: Bool = false) throws -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            let rc = zmq_msg_recv(&message, handle, nonBlocking ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let code = zmq_errno()
                if frames.isEmpty && (code == EAGAIN || code == EINTR) { return nil }
                if code == EINTR { continue }
                throw ZMQError(call: "zmq_msg_recv", code: code)
            }
            let size = zmq_msg_size(&message)
            let data = zmq_msg_data(&message)!
            frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }

    /// Waits until one of `sockets` is readable; returns their indices (empty on timeout or signal).
    public static func poll(_ sockets: [ZMQSocket], timeoutMilliseconds: Int) -> [Int] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let rc = zmq_poll(&items, Int32(items.count), timeoutMilliseconds)
        guard rc > 0 else { return [] }
        return items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
