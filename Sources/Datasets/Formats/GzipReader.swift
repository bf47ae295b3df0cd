import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file that may be gzip-compressed, through zlib's `gzopen`/`gzread`.
///
/// zlib reads an uncompressed file transparently, so every loader accepts `name` and
/// `name.gz` alike. Reads go straight into the caller's buffer in large chunks
/// (zlib inflates directly into it when a request is larger than its own 256 KiB
/// buffer), which is what lets Fashion-MNIST load without an intermediate copy.
///
/// Errors name the file and the offset in the decompressed stream: zlib's data
/// errors (`invalid distance too far back`, `incorrect data check`, …) and a stream
/// that ends early (`unexpected end of file`) become `DatasetError`s.
final class GzipReader {
    let path: String
    /// Size of the file on disk.
    let fileSize: Int
    /// True when the file is gzip data, false when zlib reads it as is.
    let isCompressed: Bool
    /// Bytes delivered so far (offset in the decompressed stream).
    private(set) var offset = 0
    /// The decompressed size the gzip trailer records (the file size when not gzip).
    let trailerSize: Int
    private let handle: gzFile
    /// Called before each chunk read (see `LoadCheck`).
    let check: LoadCheck

    /// The largest deflate expansion ratio is 1032:1; a claimed size beyond this
    /// bound cannot be in the file, whatever its header says.
    static let maxDeflateRatio = 1032

    init(path: String, check: LoadCheck) throws {
        self.path = path
        self.check = check
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw DatasetError(file: path, expected: "a readable file", found: "no such file (\(String(cString: strerror(errno))))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw DatasetError(file: path, expected: "a regular file", found: "a directory or special file")
        }
        guard let h = gzopen(path, "rb") else {
            throw DatasetError(file: path, expected: "a readable file", found: "it cannot be opened (\(String(cString: strerror(errno))))")
        }
        handle = h
        fileSize = Int(st.st_size)
        gzbuffer(h, 1 << 18)
        isCompressed = gzdirect(h) == 0
        trailerSize = isCompressed ? Self.gzipTrailerSize(path) : fileSize
    }

    /// ISIZE, the last 4 bytes of a gzip file: the uncompressed size (of the last
    /// member) modulo 2^32. A hint only.
    private static func gzipTrailerSize(_ path: String) -> Int {
        guard let f = fopen(path, "rb") else { return 0 }
        defer { fclose(f) }
        var b = [UInt8](repeating: 0, count: 4)
        guard fseek(f, -4, SEEK_END) == 0, fread(&b, 1, 4, f) == 4 else { return 0 }
        return Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24
    }

    deinit { gzclose(handle) }

    /// Location of decompressed offset `o`, as errors report it.
    func location(_ o: Int) -> DatasetError.Location { isCompressed ? .decompressedByte(o) : .byte(o) }

    /// An upper bound on the bytes still to come (exact for an uncompressed file).
    var maxRemaining: Int {
        isCompressed ? fileSize * Self.maxDeflateRatio + 65_536 : max(0, fileSize - offset)
    }

    /// Reads up to `buffer.count` bytes; returns how many were read (fewer only at the
    /// end of the data). Reads in chunks of `LoadCheck.chunk` bytes, checking before each.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var done = 0
        while done < buffer.count {
            try check()
            let want = min(buffer.count - done, LoadCheck.chunk)
            let got = Int(gzread(handle, base + done, UInt32(want)))
            if got < 0 { throw zlibError(at: offset + done) }
            done += got
            if got < want { break }
        }
        offset += done
        if done < buffer.count { try checkEnd() }
        return done
    }

    /// Reads `count` bytes into a new array.
    ///
    /// `count` comes from a header and may be damaged. For an uncompressed file it
    /// is checked against the file size; for a gzip file the buffer is allocated up
    /// to the size the gzip trailer records (ISIZE) and grows only as data actually
    /// arrives, so a damaged header cannot make the reader allocate gigabytes.
    func readBytes(_ count: Int, what: String) throws -> [UInt8] {
        let start = offset
        if count > maxRemaining {
            throw DatasetError(file: path, location: location(offset),
                               expected: "\(count) bytes of \(what)",
                               found: "a file of \(fileSize) bytes, too small to hold them")
        }
        // The first allocation trusts neither the header nor the trailer beyond what the
        // file could plausibly inflate to; later ones double only as data arrives.
        var filled = min(count, isCompressed ? min(max(0, trailerSize - offset) + 65_536, 16 * fileSize + (1 << 20)) : count)
        var bytes = [UInt8](repeating: 0, count: filled)
        var got = try bytes.withUnsafeMutableBytes { try read(into: $0) }
        while got == filled && filled < count {
            let more = min(count - filled, max(filled, 1 << 20))
            bytes += repeatElement(0, count: more)
            got += try bytes.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            filled += more
        }
        if got < count {
            throw DatasetError(file: path, location: location(start + got),
                               expected: "\(count) bytes of \(what) starting at offset \(start)",
                               found: "the end of the data after \(got) bytes")
        }
        return bytes
    }

    /// Reads everything that is left, at most `limit` bytes (decompressed): a larger
    /// file (or a gzip stream that inflates beyond it) is an error, not an allocation.
    func readToEnd(limit: Int = 1 << 31, what: String = "file contents") throws -> [UInt8] {
        if !isCompressed {
            guard maxRemaining <= limit else { throw tooLarge(limit, what) }
            var bytes = try readBytes(maxRemaining, what: what)
            // The file may have grown since stat; take the rest too.
            bytes += try readChunks(limit: limit, already: bytes.count, what: what)
            return bytes
        }
        return try readChunks(limit: limit, already: 0, what: what)
    }

    private func tooLarge(_ limit: Int, _ what: String) -> DatasetError {
        DatasetError(file: path, location: location(limit), expected: "\(what) of at most \(limit) bytes",
                     found: isCompressed ? "more when decompressed" : "a file of \(fileSize) bytes")
    }

    /// True when no bytes are left (reads one byte ahead if needed).
    func atEnd() throws -> Bool {
        var byte: UInt8 = 0
        let n = try withUnsafeMutableBytes(of: &byte) { try read(into: $0) }
        return n == 0
    }

    /// The rest of the data, in chunks; `already` bytes were read before (they count
    /// towards `limit`).
    private func readChunks(limit: Int, already: Int, what: String) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 22)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if already + result.count + n > limit { throw tooLarge(limit, what) }
            result += chunk[0..<n]
            if n < chunk.count { return result }
        }
    }

    /// After a short read: a clean end of stream is fine, anything else is an error.
    private func checkEnd() throws {
        var code: Int32 = 0
        _ = gzerror(handle, &code)
        if code != Z_OK { throw zlibError(at: offset) }
    }

    private func zlibError(at o: Int) -> DatasetError {
        var code: Int32 = 0
        let message = gzerror(handle, &code).map { String(cString: $0) } ?? "unknown error"
        if code == Z_BUF_ERROR {
            return DatasetError(file: path, location: location(o), expected: "a complete gzip stream",
                                found: "the compressed data ends early (zlib: \(message))")
        }
        if code == Z_ERRNO {
            return DatasetError(file: path, location: location(o), expected: "a readable file",
                                found: "a read error (\(String(cString: strerror(errno))))")
        }
        return DatasetError(file: path, location: location(o), expected: "valid gzip data",
                            found: "corrupt compressed data (zlib: \(message))")
    }
}
