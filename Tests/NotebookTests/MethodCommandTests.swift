import Foundation
import Testing
import Store
@testable import Notebook

/// The training methods of issue 16 end to end on a tiny CSV dataset (120 rows, 3
/// classes): `config add … schedule=` / `dual=`, trial and final runs, the dual
/// network's low mode as a point of its own in correlate, pareto, compare and the store.
@Suite(.serialized) struct MethodCommandTests {
    func notebook(_ name: String) throws -> Notebook {
        let dir = temporaryDirectory(name)
        var csv = "f1,f2,f3,f4,label\n"
        for i in 0..<120 { let c = i % 3; csv += "\(c == 0 ? 1 : 0).\(i % 7),\(c == 1 ? 1 : 0).\(i % 5),\(c == 2 ? 1 : 0).\(i % 3),0.\(i % 9),k\(c)\n" }
        try csv.write(toFile: dir + "/toy.csv", atomically: true, encoding: .utf8)
        let nb = Notebook(workspace: Workspace(workingDirectory: dir), domainCommands: true, output: { _ in })
        nb.workspace.threads = 1
        for line in ["data load csv toy.csv label=label", "model define m = dense 8 | relu | dense 8 | relu | dense 3"] {
            guard case .success = nb.execute(line) else { throw QuantlabError.runtime("setup failed: \(line)") }
        }
        return nb
    }

    func results(_ nb: Notebook, _ line: String) -> [String] {
        guard case .success(let out) = nb.execute(line) else { Issue.record("failed: \(line)"); return [] }
        return out.results
    }

    @Test func methodsTrainAndReportBothModes() throws {
        let nb = try notebook("methods-a")
        #expect(results(nb, "config add fixed m w4a4") == ["config fixed m dense1=w4a4 dense2=w4a4 dense3=w4a4"])
        #expect(results(nb, "config add cpt m w8a8 schedule=cpt:3-8") == ["config cpt m dense1=w8a8g8 dense2=w8a8g8 dense3=w8a8g8 schedule=cpt:3-8"])
        #expect(results(nb, "config add prog m w4a4 schedule=w8a8@1,w4a4@2")
                == ["config prog m dense1=w4a4 dense2=w4a4 dense3=w4a4 schedule=w8a8@1,w4a4@2"])
        #expect(results(nb, "config add dual m w8a8 dual=w2a2") == ["config dual m dense1=w8a8 dense2=w8a8 dense3=w8a8 dual=w2a2"])
        // schedule=cosine is still the learning-rate setting.
        #expect(results(nb, "config add lr m w4a4 schedule=cosine") == ["config lr m dense1=w4a4 dense2=w4a4 dense3=w4a4 schedule=cosine"])
        let t = results(nb, "trial run all epochs=2 batch=16")
        #expect(t.contains { $0.hasPrefix("trained cpt bops ") && $0.contains(" wbits ") })
        #expect(t.contains { $0.hasPrefix("trained prog bops ") && $0.hasSuffix("wbits 6.0000 abits 6.0000") })
        #expect(t.contains { $0.hasPrefix("trial dual@w2a2 epoch 2 train_loss ") && $0.contains(" val_acc ") })
        #expect(!t.contains { $0.hasPrefix("trained fixed") }, "fixed precision records what it always did")
        let f = results(nb, "trial final all epochs=2 batch=16")
        #expect(f.contains { $0.hasPrefix("final dual@w2a2 epoch 2 ") && $0.contains(" test_acc ") })
        // Both modes are points: 6 configurations with trials and finals.
        guard case .success(let c) = nb.execute("correlate") else { Issue.record("correlate failed"); return }
        #expect(c.text.contains("n = 6 configurations") && c.text.contains("[dual, 2 configurations]"), "\(c.text)")
        #expect(c.results.contains { $0.hasPrefix("correlate val_acc epoch 2 ") })
        let p = results(nb, "pareto cost=bops")
        #expect(p.count == 1)
        let compare = results(nb, "compare")
        #expect(compare.filter { $0.hasPrefix("compare row ") }.count == 6)
        #expect(compare.contains { $0.hasPrefix("compare row dual@w2a2 trial ") })
        // The store keeps both modes, the low one pointing at the run that trained it.
        let store = try nb.workspace.state.store(nb.workspace)
        let runs = try store.runs()
        let modes = runs.compactMap(\.mode)
        #expect(modes == ["high", "low", "high", "low"])
        for low in runs where low.mode == "low" {
            let parent = try #require(runs.first { $0.id == low.parentRun })
            #expect(parent.mode == "high" && parent.trainedBOPs == low.trainedBOPs)
            #expect(try store.epochs(runID: low.id!).count == 2)
        }
        #expect(runs.allSatisfy { $0.trainedBOPs != nil })
        let names = try store.configurations().map(\.name)
        #expect(names.contains("dual@w2a2"))
    }

    @Test func badMethodOptionsAreNamed() throws {
        let nb = try notebook("methods-b")
        for (line, words) in [
            ("config add a m w1a1 schedule=cpt:3-8", "drive layers with k-bit weights"),
            ("config add a m w8a8 schedule=cpt:9-3", "LOW 9 is above HIGH 3"),
            ("config add a m w8a8 schedule=w8a8@2", "the first stage must start at epoch 1"),
            ("config add a m w8a8 dual=w1a1", "expected the low mode's k-bit precision"),
            ("config add a m w8a8 schedule=fancy", "constant, cosine or step"),
        ] {
            guard case .failure(let message) = nb.execute(line) else { Issue.record("accepted: \(line)"); continue }
            #expect(message.hasPrefix("error: ") && message.contains(words), "\(line) → \(message)")
        }
    }
}
