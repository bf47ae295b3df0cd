import Testing

/// |a − b| ≤ atol + rtol·|b|, with NaN equal only to NaN; prints both on failure.
func assertClose(_ a: Double, _ b: Double, rtol: Double = 1e-12, atol: Double = 0,
                 _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    if a.isNaN || b.isNaN {
        #expect(a.isNaN && b.isNaN, "got \(a), expected \(b) \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
        return
    }
    let ok = abs(a - b) <= atol + rtol * abs(b)
    #expect(ok, "got \(a), expected \(b) (rtol \(rtol), atol \(atol)) \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
}

/// Element-wise `assertClose`, after checking the counts agree.
func assertClose(_ a: [Double], _ b: [Double], rtol: Double = 1e-12, atol: Double = 0,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "count \(a.count) vs \(b.count): \(a) vs \(b)", sourceLocation: sourceLocation)
    for (x, y) in zip(a, b) { assertClose(x, y, rtol: rtol, atol: atol, sourceLocation: sourceLocation) }
}
