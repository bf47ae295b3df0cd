/// A search parameter or input that cannot work, worded for the `search` command.
public struct SearchError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
