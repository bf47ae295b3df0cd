/// Buffer helpers shared by the parameterless layers.
enum LayerBuffers {
    /// dst[i] = src[i]; the counts must agree.
    static func copy(_ src: [Float], into dst: inout [Float]) {
        precondition(src.count == dst.count, "LayerBuffers.copy: \(src.count) values into \(dst.count)")
        guard !src.isEmpty else { return }
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                d.baseAddress!.update(from: s.baseAddress!, count: s.count)
            }
        }
    }

    /// out[i] = a[i] · m[i]; the counts must agree.
    static func multiply(_ a: [Float], by m: [Float], into out: inout [Float]) {
        precondition(a.count == m.count && a.count == out.count, "LayerBuffers.multiply: counts differ")
        a.withUnsafeBufferPointer { ap in
            m.withUnsafeBufferPointer { mp in
                out.withUnsafeMutableBufferPointer { op in
                    for i in 0..<ap.count { op[i] = ap[i] * mp[i] }
                }
            }
        }
    }
}
