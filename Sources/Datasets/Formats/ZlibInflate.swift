import CZlib

/// Inflates the zlib stream in `input` (a MAT-file miCOMPRESSED element).
///
/// The output size is not stored outside the stream, so the first `prefixCount`
/// bytes are inflated first and `size(prefix)` returns the total output size (for a
/// MAT element: 8 + the size in its tag); the output is then allocated once and
/// filled. `size` should reject totals that `input` cannot hold (deflate expands at
/// most 1032:1). Returns the output, or throws what `fail(expected, found, outOffset)`
/// builds.
func inflateZlib(_ input: ArraySlice<UInt8>, prefixCount: Int,
                 size: ([UInt8]) throws -> Int,
                 fail: (String, String, Int) -> DatasetError) throws -> [UInt8] {
    var strm = z_stream()
    guard inflateInit_(&strm, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw fail("zlib to start", "it could not (out of memory?)", 0)
    }
    defer { inflateEnd(&strm) }
    return try input.withUnsafeBytes { inp -> [UInt8] in
        guard let base = inp.baseAddress, inp.count > 0 else { throw fail("zlib-compressed data", "an empty element", 0) }
        strm.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        strm.avail_in = UInt32(clamping: inp.count)

        /// Inflates into `out` from `from`; returns the bytes written in total and the last zlib code.
        func run(_ out: UnsafeMutableBufferPointer<UInt8>, from: Int) -> (Int, Int32) {
            strm.next_out = out.baseAddress! + from
            strm.avail_out = UInt32(out.count - from)
            var code = Z_OK
            while strm.avail_out > 0 {
                code = inflate(&strm, Z_NO_FLUSH)
                if code != Z_OK { break }
            }
            return (out.count - Int(strm.avail_out), code)
        }
        func message(_ code: Int32) -> String {
            strm.msg.map { String(cString: $0) } ?? "zlib error \(code)"
        }

        var prefix = [UInt8](repeating: 0, count: prefixCount)
        let (got, code) = prefix.withUnsafeMutableBufferPointer { run($0, from: 0) }
        if got < prefixCount {
            if code == Z_DATA_ERROR || code == Z_MEM_ERROR || code == Z_NEED_DICT {
                throw fail("valid zlib-compressed data", "corrupt data (zlib: \(message(code)))", got)
            }
            throw fail("at least \(prefixCount) bytes of decompressed data", "\(got) bytes", got)
        }
        let total = max(try size(prefix), prefixCount)
        var failure: DatasetError?
        let output = [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            out.baseAddress!.initialize(from: prefix, count: prefixCount)
            initialized = total
            if total > prefixCount {
                let (n, code) = run(out, from: prefixCount)
                if n < total {
                    // Keep the memory defined even though the array is thrown away.
                    (out.baseAddress! + n).initialize(repeating: 0, count: total - n)
                    failure = code == Z_STREAM_END || code == Z_BUF_ERROR
                        ? fail("\(total) bytes of decompressed data (as the element's tag says)", "the compressed stream ends after \(n)", n)
                        : fail("valid zlib-compressed data", "corrupt data (zlib: \(message(code)))", n)
                    return
                }
            }
            // The stream must end exactly here (this also checks its Adler-32).
            var extra: UInt8 = 0
            let code = withUnsafeMutablePointer(to: &extra) { p -> Int32 in
                strm.next_out = p
                strm.avail_out = 1
                return inflate(&strm, Z_FINISH)
            }
            if code != Z_STREAM_END {
                failure = strm.avail_out == 0
                    ? fail("the compressed stream to end after \(total) bytes (as the element's tag says)", "more data", total)
                    : fail("a complete zlib stream with a valid checksum", "zlib: \(code == Z_BUF_ERROR ? "the stream is truncated" : message(code))", total)
            }
        }
        if let failure { throw failure }
        return output
    }
}
