import Foundation
import Testing
@testable import Notebook

/// sensitivity, search greedy | evolve, trial run seeds=K and correlate predictors=yes on
/// a tiny CSV dataset (120 rows, 3 classes): they run, record what they did, are
/// deterministic from the seed, and reject bad options with a message.
@Suite(.serialized) struct PerLayerCommandTests {
    func notebook(_ name: String) throws -> (Notebook, () -> [String]) {
        let dir = temporaryDirectory(name)
        var csv = "f1,f2,f3,f4,label\n"
        for i in 0..<120 { let c = i % 3; csv += "\(c == 0 ? 1 : 0).\(i % 7),\(c == 1 ? 1 : 0).\(i % 5),\(c == 2 ? 1 : 0).\(i % 3),0.\(i % 9),k\(c)\n" }
        try csv.write(toFile: dir + "/toy.csv", atomically: true, encoding: .utf8)
        var text: [String] = []
        let nb = Notebook(workspace: Workspace(workingDirectory: dir), domainCommands: true, output: { _ in })
        nb.output = { text.append($0) }
        nb.workspace.threads = 1
        for line in ["data load csv toy.csv label=label", "model define m = dense 8 | relu | dense 8 | relu | dense 3"] {
            guard case .success = nb.execute(line) else { throw QuantlabError.runtime("setup failed: \(line)") }
        }
        return (nb, { text })
    }

    func results(_ nb: Notebook, _ line: String) -> [String] {
        guard case .success(let out) = nb.execute(line) else { Issue.record("failed: \(line)"); return [] }
        return out.results
    }

    @Test func sensitivityThenGuidedGreedyThenEvolution() throws {
        let (nb, _) = try notebook("perlayer-a")
        let s = results(nb, "sensitivity m epochs=2 batch=16 hessian=yes")
        #expect(s.filter { $0.hasPrefix("sensitivity dense") }.count == 6, "3 layers × 2 precisions")
        #expect(s.filter { $0.hasPrefix("sensitivity hessian dense") }.count == 3)
        #expect(s.contains { $0.hasPrefix("sensitivity proxy hawq spearman ") })
        let order = try #require(s.first { $0.hasPrefix("sensitivity order ") })
        #expect(Set(order.dropFirst("sensitivity order ".count).split(separator: ",")) == ["dense1", "dense2", "dense3"])
        let g = results(nb, "search greedy m batch=16 fraction=0.4 order=sensitivity width=1")
        #expect(g.filter { $0.hasPrefix("step ") }.count >= 1)
        let chosen = try #require(g.first { $0.hasPrefix("search chosen pl-") })
        // The chosen cost is within 40% of the most precise (7680 bit operations).
        let cost = try #require(Double(chosen.split(separator: " ")[4]))
        #expect(cost <= 0.4 * 7680)
        #expect(nb.workspace.state.configs.contains { $0.name == "greedy" })
        let e1 = results(nb, "search evolve m batch=16 fraction=0.4 generations=2 population=4 sample=2")
        #expect(e1.contains { $0.hasPrefix("search compute epochs ") })
        #expect(nb.workspace.state.configs.contains { $0.name == "evolved" })
        let e2 = results(nb, "search evolve m batch=16 fraction=0.4 generations=2 population=4 sample=2")
        #expect(e1 == e2, "same seed, same search")
        #expect(nb.workspace.state.configs.contains { $0.name == "evolved2" }, "default names never collide")
    }

    @Test func seedsAndPredictors() throws {
        let (nb, _) = try notebook("perlayer-b")
        _ = results(nb, "config grid m w=1,t,2,4,8,32 a=32")
        let t = results(nb, "trial run all epochs=3 batch=16 seeds=2")
        #expect(t.filter { $0.contains(" seeds 2 val_acc ") }.count == 6)
        #expect(t.contains { $0.hasPrefix("noise floor ") })
        _ = results(nb, "trial final all epochs=3 batch=16")
        let c = results(nb, "correlate predictors=yes")
        #expect(c.filter { $0.hasPrefix("predictor epoch 3 ") }.count == 5)
        #expect(c.contains { $0.hasPrefix("correlate val_acc epoch 1 ") })
    }

    @Test func badOptionsAreNamed() throws {
        let (nb, _) = try notebook("perlayer-c")
        _ = results(nb, "config add a m w4a4")
        for (line, words) in [
            ("search greedy m choices=w8a8,w9x", "'w9x' is not a precision"),
            ("search greedy m layers=conv9", "matches no weighted layer"),
            ("search greedy m limit=1", "expects a number ≥"),
            ("search greedy m order=sensitivity", "needs a sensitivity run"),
            ("search evolve m population=1", "population"),
            ("trial run all seeds=0", "seeds"),
            ("sensitivity m precisions=w32a32", "nothing to lower"),
        ] {
            guard case .failure(let message) = nb.execute(line) else { Issue.record("accepted: \(line)"); continue }
            #expect(message.hasPrefix("error: ") && message.contains(words), "\(line) → \(message)")
        }
    }

    /// The new commands are in the command table with their synopses.
    @Test func helpListsTheNewCommands() throws {
        let (nb, text) = try notebook("perlayer-d")
        for (line, usage) in [
            ("help search greedy", "usage: search greedy MODEL [layers=LIST] [choices=LIST] [base=wWaA]"),
            ("help search evolve", "usage: search evolve MODEL [layers=LIST] [choices=LIST] [SAME OPTIONS AS search greedy] [population=6]"),
            ("help sensitivity", "usage: sensitivity MODEL [layers=LIST] [precisions=LIST] [base=wWaA] [cost=memory|bops] [hessian=yes]"),
            ("help trial run", "[augment=yes] [seeds=K]"),
            ("help correlate", "[predictors=yes] [noise=POINTS]"),
        ] {
            guard case .success = nb.execute(line) else { Issue.record("failed: \(line)"); continue }
            #expect(text().last?.contains(usage) == true, "\(line): \(text().last ?? "")")
        }
    }
}
