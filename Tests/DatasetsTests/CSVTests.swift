import Foundation
import Testing
@testable import Datasets

@Suite struct CSVTests {
    func load(_ text: String, options: [String: String] = [:]) throws -> Dataset {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        TestFiles.write(Array(text.utf8), dir + "/data.csv")
        return try DatasetLoader.load("csv", path: dir + "/data.csv", options: options)
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
        let rows = (0..<10).map { "\($0),\($0 * 2),\($0 % 3 == 0 ? 4 : 1)" }
        let d = try load("x,y,label\n" + rows.joined(separator: "\n"), options: ["test": "30%", "seed": "5"])
        #expect(d.classNames == ["0", "1", "2", "3", "4"])
        #expect(d.train.count == 7 && d.test.count == 3)
        #expect(d.test.classHistogram(classes: 5) == [0, 2, 0, 0, 1])
        // Every row is in exactly one split, with its own label.
        var seen: [Float: Int32] = [:]
        for s in [d.train, d.test] {
            guard case .float(let v) = s.storage else { continue }
            for i in 0..<s.count { seen[v[i * 2]] = s.labels[i] }
        }
        var expected: [Float: Int32] = [:]
        for k in 0..<10 { expected[Float(k)] = k % 3 == 0 ? 4 : 1 }
        #expect(seen == expected)
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
        #expect(error("a,b,label\n1,2,x\n\n3,four,y\n").hasSuffix("data.csv: expected a finite number in column 'b', found 'four' on line 4."))
        #expect(error("a,label\n,x\n").hasSuffix("expected a finite number in column 'a', found an empty field on line 2."))
        #expect(error("a,label\nnan,x\n").hasSuffix("expected a finite number in column 'a', found 'nan' on line 2."))
    }

    @Test func missingLabelColumnHeaderAndQuote() {
        #expect(error("a,b\n1,2\n", options: ["label": "class"]).hasSuffix("data.csv: expected a header with a column named 'class' (the label column), found columns 'a', 'b' on line 1."))
        #expect(error("\n\n").hasSuffix("data.csv: expected a header row naming the columns, found an empty file on line 1."))
        #expect(error("a,label\n1,\"x\n").hasSuffix("expected a closing double quote, found the end of the line on line 2."))
        #expect(error("a,label\n1,x\n", options: ["test": "lots"]).contains("expected option test= as a count or a percentage"))
    }
}
