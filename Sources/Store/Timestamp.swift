import Foundation

/// Timestamps as the database stores them: ISO 8601 text in UTC, to the second
/// (`2025-11-23T11:40:00Z`), which sorts as text in time order.
public enum Timestamp {
    public static func now() -> String { string(from: Date()) }

    public static func string(from date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
