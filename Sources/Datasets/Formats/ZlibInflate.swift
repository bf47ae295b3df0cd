import CZlib

/// Inflates the zlib stream in `input` (a MAT-file miCOMPRESSED element), or with `raw`
/// a raw deflate stream (a zip member). `sizeSource` names what gives the size in messages.
///
/// The output size is not stored outside the stream, so the first `prefixCount`
/// bytes are inflated first and `size(prefix)` returns the total output size (for a
/// MAT element: 8 + the size in its tag). That size comes from untrusted data, so
/// the output grows towards it (first 8× the input, then doubling) instead of being
/// allocated at once: a damaged tag costs at most about twice the real output.
/// Returns exactly `size` bytes, or throws what `fail(expected, found, outOffset)`
/// builds (corrupt data, a stream shorter or longer than the size, a bad checksum).
/// With `wholeInput` the stream must also end with the input: a zip member's compressed
/// size is exact, so bytes after its stream mean a lying size (a MAT element is read as
/// scipy reads it, where such bytes are ignored).
/// Inflates `LoadCheck.chunk` bytes at a time, calling `check` before each.
func inflateZlib(_ input: ArraySlice<UInt8>, raw: Bool = false, wholeInput: Bool = false, prefixCount: Int,
                 sizeSource: String = "the element's tag", check: LoadCheck, size: ([UInt8]) throws -> Int,
                 fail: (String, String, Int) -> DatasetError) throws -> [UInt8] {
    var strm = z_stream()
    guard inflateInit2_(&strm, raw ? -MAX_WBITS : MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw fail("zlib to start", "it could not (out of memory?)", 0)
    }
    defer { inflateEnd(&strm) }
    return try input.withUnsafeBytes { inp -> [UInt8] in
        guard let base = inp.baseAddress, inp.count > 0 else { throw fail("zlib-compressed data", "an empty element", 0) }
        strm.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        strm.avail_in = UInt32(clamping: inp.count)

        /// Inflates into out[from..<to], a chunk at a time; returns the new end of output
        /// and the last zlib code.
        func run(_ out: inout [UInt8], from: Int, to: Int) throws -> (Int, Int32) {
            try out.withUnsafeMutableBufferPointer { p in
                var n = from, code = Z_OK
                while n < to {
                    try check()
                    let step = min(to - n, LoadCheck.chunk)
                    strm.next_out = p.baseAddress! + n
                    strm.avail_out = UInt32(step)
                    code = inflate(&strm, Z_NO_FLUSH)
                    n += step - Int(strm.avail_out)
                    if code != Z_OK { break }
                }
                return (n, code)
            }
        }
        func corrupt(_ code: Int32, at n: Int) -> DatasetError {
            let message = strm.msg.map { String(cString: $0) } ?? "zlib error \(code)"
            return fail("valid zlib-compressed data", "corrupt data (zlib: \(message))", n)
        }

        var out = [UInt8](repeating: 0, count: prefixCount)
        var (n, code) = try run(&out, from: 0, to: prefixCount)
        if n < prefixCount {
            if code == Z_STREAM_END || code == Z_BUF_ERROR {
                throw fail("at least \(prefixCount) bytes of decompressed data", "\(n) bytes", n)
            }
            throw corrupt(code, at: n)
        }
        let total = max(try size(out), prefixCount)
        var capacity = min(total, max(8 * inp.count, 1 << 20))
        while n < total {
            out += repeatElement(0, count: capacity - out.count)
            (n, code) = try run(&out, from: n, to: capacity)
            if n < capacity {
                if code == Z_STREAM_END || code == Z_BUF_ERROR {
                    throw fail("\(total) bytes of decompressed data (as \(sizeSource) says)",
                               "the compressed stream ends after \(n)", n)
                }
                throw corrupt(code, at: n)
            }
            capacity = min(total, capacity * 2)
        }
        // The stream must end exactly here (this also checks its Adler-32).
        var extra: UInt8 = 0
        let last = withUnsafeMutablePointer(to: &extra) { p -> Int32 in
            strm.next_out = p
            strm.avail_out = 1
            return inflate(&strm, Z_FINISH)
        }
        if last != Z_STREAM_END {
            if strm.avail_out == 0 {
                throw fail("the compressed stream to end after \(total) bytes (as \(sizeSource) says)", "more data", total)
            }
            if last == Z_BUF_ERROR {
                throw fail("a complete zlib stream", "the stream is truncated", total)
            }
            throw corrupt(last, at: total)
        }
        if wholeInput && strm.avail_in > 0 {
            throw fail("the compressed stream to end with the \(inp.count) compressed bytes \(sizeSource) gives",
                       "it ends \(strm.avail_in) bytes before them", total)
        }
        return out
    }
}
