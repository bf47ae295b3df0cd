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

/// A configuration whose training method cannot train its model is refused when it is
/// defined (config add, config grid), naming the configuration, the option, the layer and
/// the limit; the same check stops a trainer built from such a configuration anyway.
@Suite(.serialized) struct MethodValidationTests {
    func failure(_ nb: Notebook, _ line: String) -> String {
        guard case .failure(let message) = nb.execute(line) else { Issue.record("accepted: \(line)"); return "" }
        return message
    }

    @Test func refusedAtConfigAddNamingOptionLayerAndLimit() throws {
        let nb = try MethodCommandTests().notebook("methods-check")
        for line in ["model define big = dense 720 | relu | dense 720 | relu | dense 3",
                     "model define normed = dense 8 | bn | relu | dense 3"] {
            guard case .success = nb.execute(line) else { Issue.record("setup: \(line)"); return }
        }
        #expect(failure(nb, "config add s m w4a4 stq=0.5") == "error: configuration s: stq=0.5:0.05: trains binary and ternary weights "
                + "(w1…, wt…), and no layer has them (dense1=w4a4 dense2=w4a4 dense3=w4a4); give some layers w1… or wt…, e.g. dense2=w1a4 or dense2=wta4")
        #expect(failure(nb, "config add p m w8a8 weights=prox").hasPrefix("error: configuration p: weights=prox: trains binary and ternary weights"))
        #expect(failure(nb, "config add c m wta32 dense3=w8a8 method=conntra") == "error: configuration c: method=conntra: trains every "
                + "weighted layer by coordinate descent over ternary values and replaces the optimizer's step, so layer dense3 (w8a8) would "
                + "keep its initial weights; give every weighted layer ternary weights (e.g. config add c m wta32)")
        #expect(failure(nb, "config add c normed wta32 method=conntra") == "error: configuration c: method=conntra: layer bn1 is a "
                + "BatchNorm layer, whose parameters coordinate descent over ternary weights does not train (its paper uses none); define the model without bn")
        #expect(failure(nb, "config add c big wta32 method=conntra") == "error: configuration c: method=conntra: is for the sizes its "
                + "paper trains (MNIST-scale MLPs and small CNNs): at most 500000 ternary weights, and this model has 523440 "
                + "(dense1 2880, dense2 518400, dense3 2160); make dense2 smaller")
        #expect(failure(nb, "config add d m w8a8 schedule=cpt:3-8 prune=dmp:0.5") == "error: configuration d: prune=dmp:0.5: does not "
                + "combine with schedule=: the schedule drives the k-bit weight quantizers and the masks wrap them; give one of the two")
        #expect(failure(nb, "config add d m w4a4 dual=w8a8") == "error: configuration d: dual=w8a8: the low mode w8a8 lowers no precision "
                + "of the layers it drives (those with k-bit weights: dense1=w4a4 dense2=w4a4 dense3=w4a4); give it fewer bits, e.g. dual=w2a2")
        // A grid names every configuration it refuses and adds none.
        let grid = failure(nb, "config grid m w=1,2,4 a=8 stq=0.5")
        #expect(grid.hasPrefix("error: 2 of the 3 configurations are refused, so none was added:\nconfiguration w2a8: stq=0.5:0.05: "), "\(grid)")
        #expect(grid.contains("\nconfiguration w4a8: stq=0.5:0.05: trains binary and ternary weights"))
        #expect(nb.workspace.state.configs.isEmpty, "nothing refused was added")
        // The valid neighbours are accepted.
        for line in ["config add ok1 m w1a8 stq=0.5", "config add ok2 m wta32 method=conntra", "config add ok3 m w4a8 dual=w2a8"] {
            guard case .success = nb.execute(line) else { Issue.record("refused: \(line)"); continue }
        }
    }

    @Test func exportSaysWhyAndWhatToDo() throws {
        let nb = try MethodCommandTests().notebook("methods-export")
        for line in ["config add st m wta8 stq=0.5", "config add pr m w4a4 prune=dmp:0.5", "trial final st pr epochs=1 batch=16"] {
            guard case .success = nb.execute(line) else { Issue.record("setup: \(line)"); return }
        }
        let st = failure(nb, "export st st.qlm")
        #expect(st.hasPrefix("error: export: configuration 'st' cannot be exported yet. stq=: the depth each layer learned"), "\(st)")
        #expect(st.contains(", e.g. with the depths it ended with: config add st-fixed m dense1=w"), "\(st)")
        let pr = failure(nb, "export pr pr.onnx")
        #expect(pr.contains("prune=dmp:0.5: its learned masks (a score per weight) are not in a .qlm or QONNX file"), "\(pr)")
        #expect(pr.hasSuffix("To deploy a model, train a configuration without these options (trial final NAME) and export that"), "\(pr)")
    }

    @Test func everyErrorMessageIsShownWhole() throws {
        let nb = try MethodCommandTests().notebook("methods-whole")
        // The dual= message has an apostrophe ("mode's"), which used to open a "quote" clipped at 80 characters.
        let dual = failure(nb, "config add a m w8a8 dual=w1a1")
        #expect(dual.hasPrefix("error: config add: dual=w1a1: expected the low mode's k-bit precision, e.g. dual=w2a2, "
                               + "optionally dual=w2a2@EPOCH (joint training from that epoch)\nusage: config add NAME MODEL"), "\(dual)")
        #expect(!dual.contains("… ("), "nothing clipped: \(dual)")
        // The synopsis line (over 400 characters) comes whole too.
        #expect(dual.hasSuffix("[dual=wWaA[@E]] [SETTING=VALUE …]"), "\(dual)")
        // Echoed input is still clipped: quoted, or a long word.
        let huge = String(repeating: "y", count: 5000)
        let quoted = failure(nb, "config add a m w8a8 dual=" + huge)
        #expect(quoted.count < 1500 && quoted.contains("… (5006 bytes)"), "\(quoted.prefix(300))")
        #expect(QuantlabError.clipQuoted("it's a message of some length that goes on and on, with can't and won't in it, past eighty characters")
                == "it's a message of some length that goes on and on, with can't and won't in it, past eighty characters")
        #expect(QuantlabError.clipQuoted("found '" + huge + "' here, and more text to pass eighty characters")
                == "found '" + String(repeating: "y", count: 80) + "… (5000 bytes)' here, and more text to pass eighty characters")
    }
}
