import Testing
@testable import Analysis

@Suite struct TextTableTests {
    @Test func alignsNumbersRightAndTextLeft() {
        var t = TextTable(header: ["config", "val_acc", "BOPs"])
        t.add(["fp", "0.912", "1.2e9"])
        t.add(["w1a1 (binary)", "0.71", "-"])
        t.add(["w4a4", "87.5%"])
        let expected = """
            config         val_acc   BOPs
            -------------  -------  -----
            fp               0.912  1.2e9
            w1a1 (binary)     0.71      -
            w4a4             87.5%
            """
        #expect(t.render() == expected, "got:\n\(t.render())")
    }

    @Test func explicitAlignmentAndExtraColumns() {
        var t = TextTable(header: ["a"], alignments: [.right])
        t.add(["x", "1"])
        #expect(t.columnCount == 2)
        #expect(t.render() == "a\n-  -\nx  1")
        #expect(t.alignment(ofColumn: 0) == .right && t.alignment(ofColumn: 1) == .right)
    }

    /// RFC 4180: fields with , " CR or LF are quoted, quotes doubled, records end in CRLF.
    @Test func csvQuoting() {
        var t = TextTable(header: ["name", "note"])
        t.add(["w4a4", "per-channel, PACT"])
        t.add(["say \"hi\"", "line1\nline2"])
        t.add(["plain"])
        #expect(t.csv() == "name,note\r\nw4a4,\"per-channel, PACT\"\r\n\"say \"\"hi\"\"\",\"line1\nline2\"\r\nplain,\r\n")
        #expect(t.csv(lineEnding: "\n").hasSuffix("plain,\n"))
        #expect(TextTable.csvField("a\r\nb") == "\"a\r\nb\"")
    }
}
