import Foundation
import Testing
@testable import Datasets

@Suite struct CSVTests {
    func load(_ text: String, options: [String: String] = [:]) throws -> Dataset {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.write(Array(text.utf8), dir + "/data.csv")
        return try DatasetLoader.load("csv", path: dir + "/data.csv", options: options)
    }

    /// The byte-level splitter of plain ASCII lines gives the fields the quoting parser
    /// gives: 5,000 seeded lines of digits, signs, letters, commas, spaces and tabs
    /// (empty fields, fields of blanks only, leading and trailing commas).
    @Test func plainSplitEqualsTheQuotingParser() throws {
        let alphabet = Array("0123456789.-+eE,,,,  \t\tabcxyz_;:/()'".utf8)
        var state: UInt64 = 0x5EED
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        for _ in 0..<5000 {
            let line = (0..<next(40)).map { _ in alphabet[next(alphabet.count)] }
            let text = String(decoding: line, as: UTF8.self)
            let expected = try CSVTable.fields(Substring(text), path: "t.csv", line: 1)
            #expect(CSVTable.plainFields(line[...]) == expected, "\(text.debugDescription)")
        }
    }

    @Test func stringLabelsBecomeSortedClasses() throws {
        let text = "a, b ,species,c\n1,2,versicolor,3\n\n4,5.5,setosa,-6\r\n7,8,\"virginica\",9e1\n"
        let d = try load(text, options: ["label": "species", "test": "0"])
        #expect(d.classNames == ["setosa", "versicolor", "virginica"])
        #expect(d.sampleShape == [3])
        #expect(d.train.labels == [1, 0, 2])
        #expect(d.train.storage == .float([1, 2, 3, 4, 5.5, -6, 7, 8, 90]))
        #expect(d.test.count == 0)
    }

    @Test func integerLabelsAreClassIndices() throws {
        let rows = (0..<10).map { "\($0),\($0 * 2),\($0 % 3 == 0 ? 2 : 1)" }
        let d = try load("x,y,label\n" + rows.joined(separator: "\n"), options: ["test": "30%", "seed": "5"])
        #expect(d.classNames == ["0", "1", "2"])           // 1-based labels: class 0 is empty
        #expect(d.train.count == 7 && d.test.count == 3)
        #expect(d.test.classHistogram(classes: 3) == [0, 2, 1])
        // Every row is in exactly one split, with its own label.
        var seen: [Float: Int32] = [:]
        for s in [d.train, d.test] {
            guard case .float(let v) = s.storage else { continue }
            for i in 0..<s.count { seen[v[i * 2]] = s.labels[i] }
        }
        var expected: [Float: Int32] = [:]
        for k in 0..<10 { expected[Float(k)] = k % 3 == 0 ? 2 : 1 }
        #expect(seen == expected)
    }

    /// One odd label among integer labels is refused with file and line; before, it
    /// silently made an extra class and renumbered the others.
    @Test(arguments: [
        ("1.0", "'1.0', a number that is not an integer"), ("NaN", "'NaN', a number that is not an integer"),
        ("10000", "'10000'"), ("a\u{0}b", "a label with a control character (U+0)"), ("", "an empty label"),
        ("cat", "'cat'"), ("-1", "'-1'"),
        ("0x10", "'0x10', a number that is not decimal (class labels are decimal integers or names)"),
    ])
    func oddLabelIsRefusedWithItsLine(label: String, found: String) throws {
        let rows = (0..<9).map { "\($0).5,\($0 % 3)" } + ["7.5,\(label)"] + ["8.5,1"]
        let e = #expect(throws: DatasetError.self) { try load("x,label\n" + rows.joined(separator: "\n"), options: ["test": "0"]) }
        #expect(e?.location == .line(11), "\(String(describing: e))")
        #expect(e?.description.contains("/data.csv: expected ") == true)
        #expect(e?.description.hasSuffix("found \(found) on line 11.") == true, "\(String(describing: e))")
    }

    /// 9999 among 0…2 would make 10000 classes, 9996 of them empty.
    @Test func strayLargeLabelNamesItsLine() throws {
        let rows = (0..<9).map { "\($0).5,\($0 % 3)" } + ["7.5,9999"]
        let e = #expect(throws: DatasetError.self) { try load("x,label\n" + rows.joined(separator: "\n"), options: ["test": "0"]) }
        #expect(e?.description.hasSuffix("data.csv: expected class indices 0…N−1 or 1…N with every class present (class 3 has no row), found label '9999', which would make 10000 classes on line 11.") == true, "\(String(describing: e))")
    }

    @Test func testNamesMustBeTrainingClasses() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.write(Array("x,label\n1,cat\n2,dog\n".utf8), dir + "/train.csv")
        TestFiles.write(Array("x,label\n1,dog\n2,cow\n".utf8), dir + "/test.csv")
        let e = #expect(throws: DatasetError.self) { try DatasetLoader.load("csv", path: dir) }
        #expect(e?.description.hasSuffix("test.csv: expected a class name of the training file \(dir)/train.csv (cat, dog), found 'cow' on line 3.") == true, "\(String(describing: e))")
    }

    /// A header-only file gave runs on 0 images and `test acc nan`.
    @Test func headerOnlyIsRefused() throws {
        let e = #expect(throws: DatasetError.self) { try load("x,y,label\n\n") }
        #expect(e?.description.hasSuffix("/data.csv: expected a training split of at least 1 sample, found none (0 samples).") == true, "\(String(describing: e))")
    }

    @Test func invalidUTF8NamesItsLine() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.write(Array("x,label\n1,0\n2,".utf8) + [0xFF] + Array("\n".utf8), dir + "/data.csv")
        let e = #expect(throws: DatasetError.self) { try DatasetLoader.load("csv", path: dir + "/data.csv") }
        #expect(e?.location == .line(3))
    }

    @Test func quotedFieldsAndTrainTestDirectory() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.write(Array("f,\"kind, long\"\n1,\"big, \"\"red\"\"\"\n2,small\n".utf8), dir + "/train.csv")
        TestFiles.write(Array("f,\"kind, long\"\n3,small\n".utf8), dir + "/test.csv")
        let d = try DatasetLoader.load("csv", path: dir, options: ["label": "kind, long"])
        #expect(d.classNames == ["big, \"red\"", "small"])
        #expect(d.train.labels == [0, 1] && d.test.labels == [1])
        #expect(d.test.storage == .float([3]))
        #expect(d.files.count == 2)
    }

    func error(_ text: String, options: [String: String] = [:]) -> String {
        do { _ = try load(text, options: options); return "loaded" } catch { return "\(error)" }
    }

    @Test func raggedRow() {
        #expect(error("a,b,label\n1,2,x\n3,y\n").hasSuffix("data.csv: expected 3 fields as in the header, found 2 on line 3."))
    }

    @Test func notANumber() {
        #expect(error("a,b,label\n1,2,x\n\n3,four,y\n").hasSuffix("data.csv: expected a finite decimal number in column 'b', found 'four' on line 4."))
        #expect(error("a,label\n,x\n").hasSuffix("expected a finite decimal number in column 'a', found an empty field on line 2."))
        #expect(error("a,label\nnan,x\n").hasSuffix("expected a finite decimal number in column 'a', found 'nan' on line 2."))
    }

    /// Swift's Float parser reads hexadecimal, so "0x10" loaded as 16 and "0x1p3" as 8.
    /// A feature is a decimal number only, on the byte-level path (a plain ASCII line)
    /// and in the quoting parser (a line with a double quote) alike.
    @Test(arguments: ["0x10", "0X1p3", "-0x1.8p1", "0x.8", "1e", "e5", ".", "+", "-", "1.2.3", "1e+", "++1",
                      "1e5.5", "1_000", "\u{0C}5", "5\u{0B}"])
    func nonDecimalNumberIsRefused(field: String) {
        for label in ["x", "\"x\""] {
            let message = error("a,b,label\n1,2,x\n3,\(field),\(label)\n")
            #expect(message.hasSuffix("data.csv: expected a finite decimal number in column 'b', found '\(field)' on line 3."),
                    "\(message.debugDescription)")
        }
    }

    /// What stays a number: a sign, digits with or without a point on either side, an
    /// exponent, blanks around an unquoted field.
    @Test func decimalNumbersLoad() throws {
        let d = try load("a,label\n+1.5,x\n-.5,x\n3.,y\n2E-3,y\n 7\t,x\n\"8e+1\",y\n-0,x\n0012,y\n", options: ["test": "0"])
        #expect(d.train.storage == .float([1.5, -0.5, 3, 0.002, 7, 80, 0, 12]))
    }

    @Test func missingLabelColumnHeaderAndQuote() {
        #expect(error("a,b\n1,2\n", options: ["label": "class"]).hasSuffix("data.csv: expected a header with a column named 'class' (the label column), found columns 'a', 'b' on line 1."))
        #expect(error("\n\n").hasSuffix("data.csv: expected a header row naming the columns, found an empty file on line 1."))
        #expect(error("a,label\n1,\"x\n").hasSuffix("expected a closing double quote, found the end of the line on line 2."))
        #expect(error("a,label\n1,x\n", options: ["test": "lots"]).contains("expected option test= as a count or a percentage"))
    }
    /// A label column alone loaded as samples of 0 features ("samples 0 float32") that no
    /// model can take; found by scripts/fuzz_structure.py (csv one column).
    @Test func labelColumnAloneIsRefused() {
        #expect(error("label\n0\n1\n0\n1\n").hasSuffix("data.csv: expected at least one feature column besides the label column 'label', found only the label column on line 1."))
        #expect(error("\n\nkind\nx\ny\n", options: ["label": "kind"]).hasSuffix("found only the label column on line 3."))
    }

    /// Excel's "CSV UTF-8" starts with a byte-order mark: it made the first column
    /// '\u{FEFF}a', so a test file without one had "other" feature columns, and a
    /// `label=` naming the first column failed. Found by fuzz_structure.py (csv bom).
    @Test func byteOrderMarkIsSkipped() throws {
        let d = try load("\u{FEFF}a,b,label\n1,2,0\n3,4,1\n", options: ["test": "0"])
        #expect(d.train.storage == .float([1, 2, 3, 4]) && d.train.labels == [0, 1])
        let e = try load("\u{FEFF}kind,b\nx,2\ny,4\n", options: ["label": "kind", "test": "0"])
        #expect(e.classNames == ["x", "y"])
        #expect(error("\u{FEFF}").hasSuffix("expected a header row naming the columns, found an empty file on line 1."))
    }

    /// A test file whose 20,000 feature columns differ from the training file's: the
    /// message listed both whole lists (149 kB), cut by the shell's renderer before its
    /// "found"; now it names the first difference and a few names of each.
    @Test func wideColumnMismatchNamesTheFirstDifference() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        let names = (0..<20_000).map { "c\($0)" }
        let row = Array(repeating: "0.5", count: 20_000).joined(separator: ",")
        TestFiles.write(Array((names.joined(separator: ",") + ",label\n" + row + ",0\n").utf8), dir + "/train.csv")
        var other = names
        other[7] = "x7"
        TestFiles.write(Array((other.joined(separator: ",") + ",label\n" + row + ",0\n").utf8), dir + "/test.csv")
        let e = #expect(throws: DatasetError.self) { try DatasetLoader.load("csv", path: dir) }
        #expect(e?.description == "\(dir)/test.csv: expected the 20000 feature columns of \(dir)/train.csv (c0, c1, c2, c3, c4, c5, …, c19999 (20000 in all)), "
            + "found feature column 8 named 'x7' where it has 'c7' (20000 feature columns: c0, c1, c2, c3, c4, c5, …, c19999 (20000 in all)) on line 1.")
        TestFiles.write(Array("c0,label\n0.5,0\n".utf8), dir + "/test.csv")
        let f = #expect(throws: DatasetError.self) { try DatasetLoader.load("csv", path: dir) }
        #expect(f?.found == "1 feature columns (c0)")
    }
}
