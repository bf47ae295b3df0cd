/// What a load calls between bounded pieces of work, so that it stops soon after Ctrl-C.
///
/// The shell passes `LoadCheck(ws.checkInterrupted)`, which throws once Ctrl-C was
/// pressed; a loader lets the error through unchanged (none catches it), and since a
/// loader builds its dataset in locals and returns it whole, nothing of an interrupted
/// load is kept. Workers and tests that need no interruption pass `.none`.
///
/// Loops call it once per row or record (CSV lines, CIFAR records) and once per
/// ``chunk`` bytes of reading, inflating, hashing, checksumming or converting: a few
/// milliseconds of work apart (4 MiB: ~1 ms of hashing, ~15 ms of inflating), and a
/// few hundred calls for a 200 MB file, so its cost does not show in load times.
public struct LoadCheck {
    private let body: () throws -> Void

    public init(_ body: @escaping () throws -> Void) { self.body = body }

    /// A check that never stops a load.
    public static var none: LoadCheck { LoadCheck {} }

    /// Throws what the body throws (the load stops there).
    public func callAsFunction() throws { try body() }

    /// Bytes of work between two calls in byte loops.
    public static let chunk = 1 << 22

    /// How many items of `itemBytes` bytes make about one ``chunk`` (at least 1).
    static func items(ofBytes itemBytes: Int) -> Int { max(1, chunk / max(itemBytes, 1)) }

    /// Calls `work` on consecutive ranges covering `0..<count`, at most ``chunk`` /
    /// `itemBytes` items each, checking before each range.
    func forEachChunk(of count: Int, itemBytes: Int = 1, _ work: (Range<Int>) throws -> Void) throws {
        let step = Self.items(ofBytes: itemBytes)
        var start = 0
        while start < count {
            try self()
            let end = min(count, start + step)
            try work(start..<end)
            start = end
        }
    }
}
