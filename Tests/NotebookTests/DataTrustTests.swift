import Foundation
import Testing
@testable import Notebook

/// Data and archive behaviour seen from the command line: an exported model carries
/// its normalisation, empty splits are refused with the reason, `data sample` has one
/// minimum, and a mistyped dataset name gets a suggestion.
@Suite(.serialized) struct DataTrustTests {
    /// 3 classes, 4 features with very different scales (so normalisation matters).
    static func toyCSV(rows: Int = 150) -> String {
        var csv = "f1,f2,f3,f4,label\n"
        for i in 0..<rows {
            let c = i % 3
            csv += "\(Double(c) * 40 + Double(i % 7)),\(Double(c == 1 ? 3 : 1) + Double(i % 5) / 10),\(100 + (c == 2 ? 30 : 0) + i % 3),0.\(i % 9),\(c)\n"
        }
        return csv
    }

    func notebook(_ dir: String) -> Notebook {
        let nb = Notebook(workspace: Workspace(workingDirectory: dir), domainCommands: true, output: { _ in })
        nb.workspace.threads = 1
        return nb
    }

    /// A notebook in a new folder holding toy.csv, after `lines` (each must succeed).
    func toySession(_ name: String, _ lines: [String]) throws -> (Notebook, String) {
        let dir = temporaryDirectory(name)
        write(Self.toyCSV(), to: dir + "/toy.csv")
        let nb = notebook(dir)
        for line in lines { _ = try run(nb, line).get() }
        return (nb, dir)
    }

    func run(_ nb: Notebook, _ line: String) -> Result<CommandOutput, QuantlabTestError> {
        switch nb.execute(line) {
        case .success(let o): return .success(o)
        case .failure(let m): return .failure(QuantlabTestError(message: m))
        case .blank: return .success(CommandOutput())
        }
    }

    /// `evaluate` used the loaded dataset's normalisation, which moves with `val=`.
    @Test func evaluateDoesNotDependOnTheValidationSplit() throws {
        let (nb, _) = try toySession("trust-eval", ["data load csv toy.csv val=5", "model define m = dense 8 | relu | dense 3",
                                                    "config add a m w3a4", "trial final a epochs=2 batch=16", "export a out/a.qlm"])
        // The accuracy and loss lines (the speeds below them are measured, so they move).
        func accuracy(_ text: String) -> String { text.split(separator: "\n").prefix(2).joined(separator: "\n") }
        let first = accuracy(try run(nb, "evaluate out/a.qlm").get().text)
        _ = try run(nb, "data load csv toy.csv val=60").get()
        let second = accuracy(try run(nb, "evaluate out/a.qlm").get().text)
        #expect(first.contains("accuracy ") && first == second, "\(first)\n\(second)")
    }

    @Test func testTimeCommandsRefuseAnEmptyTestSplit() throws {
        let dir = temporaryDirectory("trust-empty")
        write(Self.toyCSV(), to: dir + "/toy.csv")
        let nb = notebook(dir)
        for line in ["data load csv toy.csv", "model define m = dense 8 | relu | dense 3", "config add a m w4a4",
                     "trial final a epochs=1 batch=16", "export a a.qlm"] {
            _ = try run(nb, line).get()
        }
        // test=0 is not an option of data load; a header-only test file gives 0 test samples.
        write("f1,f2,f3,f4,label\n", to: dir + "/test.csv")
        write(Self.toyCSV(), to: dir + "/train.csv")
        _ = try run(nb, "data load csv .").get()
        for line in ["evaluate a.qlm", "trial final a epochs=1"] {
            guard case .failure(let e) = run(nb, line) else { Issue.record("\(line) ran on 0 test samples"); continue }
            #expect(e.message.contains("needs test data, and the loaded dataset 'csv' has 0 test samples"), "\(e.message)")
        }
        write("f1,f2,f3,f4,label\n", to: dir + "/train.csv")
        guard case .failure(let e) = run(nb, "data load csv .") else { Issue.record("an empty training split loaded"); return }
        #expect(e.message.contains("train.csv: expected a training split of at least 1 sample, found none (0 samples)."), "\(e.message)")
    }

    /// Files named for what they are not (twelfth-pass audit): `export a out/a.txt` wrote a
    /// .qlm named .txt, `plot … pdf=out/x.svg` a PDF named .svg; `export nope …` said "has no
    /// trained model" of a configuration that does not exist. Nothing is written.
    @Test func outputsAreNamedForWhatTheyHold() throws {
        let (nb, dir) = try toySession("trust-names", ["data load csv toy.csv", "model define m = dense 8 | relu | dense 3",
                                                       "config add a m w4a4", "trial run all epochs=1 batch=16", "trial final a epochs=1 batch=16"])
        func failure(_ line: String) -> String {
            if case .failure(let e) = run(nb, line) { return e.message }
            return "(succeeded)"
        }
        #expect(failure("export a out/a.txt").hasPrefix("error: export: expects FILE.qlm or FILE.onnx, found 'out/a.txt'"), "\(failure("export a out/a.txt"))")
        #expect(failure("export nope out/n.qlm") == "error: no configuration named 'nope' (configurations: a)")
        #expect(failure("plot curves pdf=out/x.svg").hasPrefix("error: plot curves: pdf=out/x.svg would write PDF into a .svg file; name it .pdf, or use svg="),
                "\(failure("plot curves pdf=out/x.svg"))")
        #expect(failure("plot curves svg=out/y.svg png=out/y.PDF").hasPrefix("error: plot curves: png=out/y.PDF would write PNG into a .pdf file"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/a.txt") && !FileManager.default.fileExists(atPath: dir + "/out/x.svg")
                && !FileManager.default.fileExists(atPath: dir + "/out/y.svg") && !FileManager.default.fileExists(atPath: dir + "/out/n.qlm"))
        _ = try run(nb, "export a out/a.qlm").get()
        _ = try run(nb, "plot curves svg=out/c.svg pdf=out/c.pdf png=out/c").get()
        #expect(FileManager.default.fileExists(atPath: dir + "/out/c"))
    }

    /// `data sample 0.1%` gave a 1-image sample while `data sample 5` was refused.
    @Test func sampleHasOneMinimum() throws {
        let dir = temporaryDirectory("trust-sample")
        write(Self.toyCSV(rows: 300), to: dir + "/toy.csv")
        let nb = notebook(dir)
        _ = try run(nb, "data load csv toy.csv val=0").get()     // 240 training rows, 3 classes
        guard case .failure(let p) = run(nb, "data sample 0.5%") else { Issue.record("0.5% (1 image) accepted"); return }
        #expect(p.message.contains("0.5% of the 240 training images is 1; the sample needs at least one image per class (3); use at least 1.25%"), "\(p.message)")
        guard case .failure(let n) = run(nb, "data sample 2") else { Issue.record("2 accepted"); return }
        #expect(n.message.contains("expects a count from 3 (one image per class) to 240"), "\(n.message)")
        #expect(try run(nb, "data sample 1.25%").get().results == ["sample 3 per-class 1,1,1"])
        #expect(try run(nb, "data sample 3").get().results == ["sample 3 per-class 1,1,1"])
    }

    @Test func mistypedDatasetNameGetsASuggestion() {
        let nb = notebook(temporaryDirectory("trust-name"))
        guard case .failure(let m) = nb.execute("data load fashoin-mnist") else { Issue.record("loaded"); return }
        #expect(m.contains("unknown dataset 'fashoin-mnist'; did you mean 'fashion-mnist'?"), "\(m)")
        guard case .failure(let c) = nb.execute("data load cifar-1O /tmp") else { Issue.record("loaded"); return }
        #expect(c.contains("did you mean 'cifar10'?"), "\(c)")
    }
}

struct QuantlabTestError: Error { var message: String }
