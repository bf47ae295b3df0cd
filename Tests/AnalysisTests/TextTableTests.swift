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

    /// Columns are padded by terminal width: 量化网络 takes 8 columns, not 4 (before, its
    /// row was 4 columns short and the numbers after it stood out of line).
    @Test func wideCharactersLineUp() {
        var t = TextTable(header: ["config", "val acc"])
        t.add(["量化网络", "0.8712"])
        t.add(["fp", "0.9001"])
        t.add(["cafe\u{301}", "0.5"])
        let expected = """
            config    val acc
            --------  -------
            量化网络   0.8712
            fp         0.9001
            café          0.5
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

    /// RFC 4180: fields with , " CR or LF are quoted, quotes doubled; records end in LF (CRLF when asked).
    @Test func csvQuoting() {
        var t = TextTable(header: ["name", "note"])
        t.add(["w4a4", "per-channel, PACT"])
        t.add(["say \"hi\"", "line1\nline2"])
        t.add(["plain"])
        #expect(t.csv() == "name,note\nw4a4,\"per-channel, PACT\"\n\"say \"\"hi\"\"\",\"line1\nline2\"\nplain,\n")
        #expect(t.csv(lineEnding: "\r\n") == "name,note\r\nw4a4,\"per-channel, PACT\"\r\n\"say \"\"hi\"\"\",\"line1\nline2\"\r\nplain,\r\n")
        #expect(t.csv(lineEnding: "\n").hasSuffix("plain,\n"))
        #expect(TextTable.csvField("a\r\nb") == "\"a\r\nb\"")
    }
}

/// Markdown and LaTeX (booktabs) renderings, word for word.
@Suite struct TextTableFormatTests {
    static var table: TextTable {
        var t = TextTable(header: ["config", "final test acc", "energy µJ"])
        t.add(["w4_a4", "0.8952 ± 0.0031", "66.929"])
        t.add(["a|b", "0.8325", "2.370"])
        return t
    }

    @Test func markdown() {
        #expect(Self.table.markdown() == """
            | config | final test acc | energy µJ |
            | --- | --- | ---: |
            | w4_a4 | 0.8952 ± 0.0031 | 66.929 |
            | a\\|b | 0.8325 | 2.370 |

            """)
    }

    @Test func latexBooktabs() {
        #expect(Self.table.latex() == """
            \\begin{tabular}{llr}
            \\toprule
            config & final test acc & energy $\\mu$J \\\\
            \\midrule
            w4\\_a4 & 0.8952 $\\pm$ 0.0031 & 66.929 \\\\
            a|b & 0.8325 & 2.370 \\\\
            \\bottomrule
            \\end{tabular}

            """)
    }
}
