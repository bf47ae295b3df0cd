import Testing
@testable import Kernel

@Suite struct TableRendererTests {
    // The layout of Analysis.TextTable.render(): header, dash rule, rows; two spaces between columns.
    let text = """
        3 configurations
        config  precision  val acc
        ------  ---------  -------
        float   w32a32       0.871
        w4a4    w4a4         0.862
        """

    @Test func findsTheTable() throws {
        let tables = try #require(TableRenderer.tables(in: text))
        #expect(tables.count == 1)
        #expect(tables[0].header == ["config", "precision", "val acc"])
        #expect(tables[0].rows == [["float", "w32a32", "0.871"], ["w4a4", "w4a4", "0.862"]])
        #expect(TableRenderer.tables(in: "no table here\n---") == nil)
    }

    /// TextTable pads by terminal columns (量化网络 is 8 wide in 4 Characters): the cells
    /// are cut at the same columns, not at Character offsets (which gave "量化网络  w4", "0", "712").
    @Test func wideCharactersSplitAtTheirColumns() throws {
        let tables = try #require(TableRenderer.tables(in: """
            config    precision  val acc
            --------  ---------  -------
            量化网络  w4a4        0.8712
            fp        w32a32      0.9001
            """))
        #expect(tables[0].rows == [["量化网络", "w4a4", "0.8712"], ["fp", "w32a32", "0.9001"]])
    }

    @Test func rendersHTMLAndMarkdown() throws {
        let rich = try #require(TableRenderer.render(text))
        #expect(rich.html == """
            <pre>3 configurations</pre>
            <table>
            <thead><tr><th>config</th><th>precision</th><th>val acc</th></tr></thead>
            <tbody>
            <tr><td>float</td><td>w32a32</td><td>0.871</td></tr>
            <tr><td>w4a4</td><td>w4a4</td><td>0.862</td></tr>
            </tbody>
            </table>

            """)
        #expect(rich.markdown == """
            ```
            3 configurations
            ```

            | config | precision | val acc |
            | --- | --- | --- |
            | float | w32a32 | 0.871 |
            | w4a4 | w4a4 | 0.862 |

            """)
        #expect(TableRenderer.escape("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;")
    }
}
