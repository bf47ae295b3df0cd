/// A `.qlm` file that cannot be read: which file, where, what was expected and what
/// was found.
///
///     model.qlm: at byte 0: expected magic "QLM1", found "PK\u{03}\u{04}"
public struct ArchiveError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case badMagic, unsupportedVersion, truncated, checksumMismatch, malformed, io
    }

    public var kind: Kind
    public var file: String
    /// Byte offset of the problem, when there is one.
    public var offset: Int?
    public var expected: String
    public var found: String

    public init(_ kind: Kind, file: String, offset: Int?, expected: String, found: String) {
        self.kind = kind; self.file = file; self.offset = offset; self.expected = expected; self.found = found
    }

    public var description: String {
        "\(file): " + (offset.map { "at byte \($0): " } ?? "") + "expected \(expected), found \(found)"
    }
}
