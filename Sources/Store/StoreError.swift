import GRDB

/// An error from the results store, worded for the person at the prompt.
///
/// The text names the database file (or `sql` for a query), says what went wrong,
/// and keeps SQLite's own explanation in parentheses, e.g.
/// `quantlab.db: not a quantlab results database (file is not a database)`.
public struct StoreError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }

    /// Wraps an SQLite error with a subject (`file`, `sql`, `recordEpoch` …),
    /// keeping SQLite's message and dropping GRDB's internal decoration.
    static func sqlite(_ subject: String, _ error: Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if let db = error as? DatabaseError {
            return StoreError("\(subject): \(db.message ?? "\(db.resultCode)")")
        }
        return StoreError("\(subject): \(error)")
    }
}
