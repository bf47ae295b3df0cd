import Synchronization

/// A Ctrl-C flag that a signal handler may set.
///
/// The atomic lives at a fixed heap address (`address`) that never moves or
/// changes owner, so a `@convention(c)` signal handler can store into it through
/// a plain global pointer without touching reference counts. Setting an atomic
/// boolean is async-signal-safe; long-running commands poll `isSet` between
/// batches (see `Workspace.checkInterrupted()`).
public final class InterruptFlag: @unchecked Sendable {
    /// Stable address of the flag, for signal handlers.
    public let address: UnsafeMutablePointer<Atomic<Bool>>

    public init() {
        address = .allocate(capacity: 1)
        address.initialize(to: Atomic(false))
    }

    deinit {
        address.deinitialize(count: 1)
        address.deallocate()
    }

    /// True once Ctrl-C was pressed since the last `clear()`.
    public var isSet: Bool { address.pointee.load(ordering: .acquiring) }

    public func set() { address.pointee.store(true, ordering: .releasing) }

    public func clear() { address.pointee.store(false, ordering: .releasing) }

    /// What a signal handler calls, given `address`.
    public static func set(at address: UnsafeMutablePointer<Atomic<Bool>>) {
        address.pointee.store(true, ordering: .releasing)
    }
}
