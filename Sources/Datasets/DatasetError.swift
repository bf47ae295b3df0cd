/// A loader error a person can act on: which file, what was expected, what was found,
/// and where (byte offset or line).
///
/// `description` is one sentence, e.g.
/// `train-images-idx3-ubyte.gz: expected magic number 0x00000803 (IDX unsigned-byte
/// images, 3 dimensions), found 0x00000801 at byte offset 0 of the decompressed data.`
///
/// Every loader validates each length and value read from a file before using it and
/// throws this error instead; no input, however damaged, crashes a loader.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Where in the file the problem was found.
    public enum Location: Equatable, Sendable {
        /// The whole file (missing, unreadable, wrong overall size).
        case file
        /// Byte offset in the file as stored on disk.
        case byte(Int)
        /// Byte offset in the gzip-decompressed contents of the file.
        case decompressedByte(Int)
        /// Byte `byte` of the decompressed data of a zlib-compressed .mat element that
        /// starts at file offset `element`.
        case compressedElement(element: Int, byte: Int)
        /// 1-based line number of a text file.
        case line(Int)
        /// Byte offset in the (decompressed) data of a zip archive's member, e.g. the
        /// `x_train.npy` of an `.npz` file.
        case member(String, byte: Int)
    }

    public var file: String
    public var location: Location
    public var expected: String
    public var found: String

    public init(file: String, location: Location = .file, expected: String, found: String) {
        self.file = file
        self.location = location
        self.expected = expected
        self.found = found
    }

    public var description: String {
        let place: String
        switch location {
        case .file: place = ""
        case .byte(let o): place = " at byte offset \(o)"
        case .decompressedByte(let o): place = " at byte offset \(o) of the decompressed data"
        case .compressedElement(let e, let o):
            place = " at byte offset \(o) of the decompressed data of the compressed element at byte offset \(e)"
        case .line(let l): place = " on line \(l)"
        case .member(let m, let o): place = " at byte offset \(o) of member \(m)"
        }
        return "\(file): expected \(expected), found \(found)\(place)."
    }
}
