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

    /// An exhaustive ground truth (config perlayer), tpe, greedy under a cost limit and by
    /// measured time, then search compare: regret, compute fraction and Pareto distance.
    @Test func groundTruthThenSearchesThenCompare() throws {
        let (nb, _) = try notebook("perlayer-e")
        let made = results(nb, "config perlayer m layers=dense1,dense2 choices=w8a8,w4a4,w2a2")
        #expect(made.count == 9 && made.first == "config pl-w8a8_w8a8 m dense1=w8a8 dense2=w8a8 dense3=w32a32")
        _ = results(nb, "trial run all epochs=2 batch=16")
        _ = results(nb, "trial final all epochs=2 batch=16")
        let t1 = results(nb, "search tpe m layers=dense1,dense2 batch=16 max=2 initial=3 rounds=2 proposals=2 fraction=0.6")
        let t2 = results(nb, "search tpe m layers=dense1,dense2 batch=16 max=2 initial=3 rounds=2 proposals=2 fraction=0.6")
        #expect(t1 == t2, "same seed, same search")
        #expect(t1.contains { $0.hasPrefix("search chosen pl-") })
        #expect(nb.workspace.state.configs.contains { $0.name == "tpe" } && nb.workspace.state.configs.contains { $0.name == "tpe2" })
        _ = results(nb, "search greedy m layers=dense1,dense2 batch=16 max=2 fraction=0.5")
        // cost=time: the step costs are measurements (~X), the rest is as usual. A limit, not a fraction:
        // measured times of the most precise and the cheapest assignment differ by noise here.
        let timed = results(nb, "search greedy m layers=dense1,dense2 batch=16 max=2 limit=1000000 cost=time name=fast")
        #expect(timed.contains { $0.hasPrefix("search chosen ") && $0.contains(" cost ~") })
        let c = results(nb, "search compare")
        #expect(c.first?.hasPrefix("compare ground 9 best pl-") == true, "\(c)")
        // Four searches, each chosen inside the ground truth (the same per-layer names).
        #expect(c.filter { $0.hasPrefix("compare tpe") || $0.hasPrefix("compare greedy") || $0.hasPrefix("compare fast") }.count == 4)
        for line in c where line.contains(" regret ") && !line.hasPrefix("compare best") {
            let f = line.split(separator: " ").map(String.init)
            let regret = try #require(Double(f[f.firstIndex(of: "regret")! + 1]))
            let fraction = try #require(Double(f[f.firstIndex(of: "fraction")! + 1]))
            #expect(regret >= 0 && fraction > 0, "\(line)")
        }
        #expect(c.contains { $0.hasPrefix("compare best ") && $0.contains(" holds ") })
        #expect(c.contains { $0.hasPrefix("compare pareto within 0.5000 ") })
        // The store kept every search with its compute.
        let searches = try nb.workspace.state.store(nb.workspace).searches()
        #expect(searches.map(\.kind) == ["tpe", "tpe", "greedy", "greedy"])
        #expect(searches.allSatisfy { $0.images > 0 && $0.epochs > 0 && $0.cpuSeconds > 0 })
        // Time is a cost wherever configurations are priced.
        #expect(results(nb, "pareto cost=time").first?.hasPrefix("~ pareto training time") == true)
        guard case .success(let cost) = nb.execute("cost pl-w8a8_w8a8") else { Issue.record("cost failed"); return }
        #expect(cost.text.contains("training time (measured, CPU): ") && cost.text.contains(" ms/image"), "the shared unit of Quantity.trainingTime")
        #expect(cost.results.first?.contains(" compute_pj ") == true && cost.results.first?.contains(" memory_pj ") == true)
    }

    /// Training hyper-parameters join the space beside the precisions: config perlayer
    /// enumerates them (as training overrides, in the names), tpe and evolve search them,
    /// halving and hyperband search every configuration × combination, deterministically.
    @Test func hyperParametersJoinTheSearchSpace() throws {
        let (nb, _) = try notebook("perlayer-g")
        let made = results(nb, "config perlayer m layers=dense1 choices=w8a8,w2a2 tune-lr=0.01,0.05 tune-optimizer=adam,sgd")
        #expect(made.count == 8 && made.first == "config pl-w8a8_lr0.01_adam m dense1=w8a8 dense2=w32a32 dense3=w32a32 lr=0.01 optimizer=adam", "\(made)")
        let sgd = try #require(nb.workspace.state.configs.first { $0.name == "pl-w2a2_lr0.05_sgd" })
        #expect(sgd.overrides == ["lr": "0.05", "optimizer": "sgd"] && sgd.precision(of: "dense1").description == "w2a2")
        let line = "search tpe m layers=dense1 choices=w8a8,w2a2 tune-lr=0.01,0.05 tune-batch=16,32 max=2 initial=3 rounds=1 proposals=2 fraction=1"
        let t1 = results(nb, line), t2 = results(nb, line)
        #expect(t1 == t2, "same seed, same search")
        let chosen = try #require(t1.first { $0.hasPrefix("search chosen pl-") })
        #expect(chosen.contains("_lr0.0") && chosen.contains("_b"), "\(chosen)")
        let tpe = try #require(nb.workspace.state.configs.first { $0.name == "tpe" })
        #expect(["0.01", "0.05"].contains(tpe.overrides["lr"] ?? "") && ["16", "32"].contains(tpe.overrides["batch"] ?? ""))
        #expect(results(nb, "search evolve m layers=dense1 choices=w8a8,w2a2 tune-augment=no,yes max=2 population=2 sample=1 generations=1 fraction=1")
            .contains { $0.hasPrefix("search chosen pl-") && ($0.contains("_aug ") || $0.contains("_noaug ")) })
        _ = results(nb, "config add a m w4a4")
        let h = results(nb, "search halving a tune-optimizer=adam,sgd max=2 batch=16")
        let picked = try #require(h.first { $0.hasPrefix("search chosen a_") })
        #expect(picked.hasPrefix("search chosen a_adam ") || picked.hasPrefix("search chosen a_sgd "), "\(h)")
        #expect(nb.workspace.state.configs.contains { $0.name == picked.split(separator: " ")[2] }, "the pick joins the configurations")
        for (bad, words) in [
            ("config perlayer m tune-lr=0,0.1", "tune-lr=: '0': lr=0: expected a positive number"),
            ("config perlayer m tune-optimizer=adam,rmsprop", "tune-optimizer=: 'rmsprop'"),
            ("config perlayer m tune-batch=16,16", "tune-batch=: a value is listed twice"),
            ("search greedy m tune-lr=0.01,0.1", "tune-lr"),
        ] {
            guard case .failure(let message) = nb.execute(bad) else { Issue.record("accepted: \(bad)"); continue }
            #expect(message.contains(words), "\(bad) → \(message)")
        }
    }

    /// search hyperband MODEL choices=…: brackets drawn from the per-layer product space,
    /// deterministic from the seed; the two forms of search hyperband keep their options apart.
    @Test func perLayerHyperbandSamplesTheSpace() throws {
        let (nb, _) = try notebook("perlayer-h")
        let line = "search hyperband m batch=16 choices=w8a8,w4a4,w2a2 fraction=1 max=3 iterations=1"
        let r1 = results(nb, line), r2 = results(nb, line)
        #expect(r1 == r2, "same seed, same search")
        // Brackets of 3 (1 epoch, the best to 3) and 2 (3 epochs) assignments: 3 + 2 + 6 = 11 epochs.
        #expect(r1.filter { $0.hasPrefix("bracket ") }.count == 2, "\(r1)")
        #expect(r1.contains { $0.hasPrefix("search compute epochs 11 images ") && $0.hasSuffix(" assignments 5") }, "\(r1)")
        #expect(r1.contains { $0.hasPrefix("search chosen pl-") })
        #expect(nb.workspace.state.configs.contains { $0.name == "hyperband" } && nb.workspace.state.configs.contains { $0.name == "hyperband2" })
        for (bad, words) in [
            ("search hyperband m choices=w8a8,w2a2 objective=limit", "objective= applies to configurations"),
            ("search hyperband all iterations=2", "iterations= applies to a per-layer space"),
            ("search hyperband m choices=w8a8,w2a2 iterations=0", "option 'iterations' expects"),
        ] {
            guard case .failure(let message) = nb.execute(bad) else { Issue.record("accepted: \(bad)"); continue }
            #expect(message.contains(words), "\(bad) → \(message)")
        }
    }

    @Test func timeCostNeedsMeasuredRuns() throws {
        let (nb, _) = try notebook("perlayer-f")
        _ = results(nb, "config add a m w4a4")
        _ = results(nb, "config add b m w8a8")
        guard case .failure(let message) = nb.execute("search halving all objective=limit cost=time limit=1") else {
            Issue.record("accepted cost=time without runs"); return
        }
        #expect(message.contains("has no measured training time yet; train it first (trial run a)"), "\(message)")
        guard case .failure(let m2) = nb.execute("search evolve m cost=time") else { Issue.record("evolve accepted cost=time"); return }
        #expect(m2.contains("option 'cost' expects bops, memory or energy"), "\(m2)")
    }

    /// The new commands are in the command table with their synopses.
    @Test func helpListsTheNewCommands() throws {
        let (nb, text) = try notebook("perlayer-d")
        for (line, usage) in [
            ("help search greedy", "usage: search greedy MODEL [layers=LIST] [choices=LIST] [base=wWaA]"),
            ("help search evolve", "usage: search evolve MODEL [layers=LIST] [choices=LIST] [SAME OPTIONS AS search greedy] [population=6]"),
            ("help search tpe", "usage: search tpe MODEL [layers=LIST] [choices=LIST] [SAME OPTIONS AS search greedy] [initial=6] [rounds=4]"),
            ("help search compare", "usage: search compare [CONFIG… | all] [tolerance=0.5] [fraction=0.2]"),
            ("help config perlayer", "usage: config perlayer MODEL [layers=LIST] [choices=LIST] [base=wWaA]"),
            ("help sensitivity", "usage: sensitivity MODEL [layers=LIST] [precisions=LIST] [base=wWaA] [cost=memory|bops] [hessian=yes]"),
            ("help trial run", "[augment=yes] [seeds=K]"),
            ("help correlate", "[predictors=yes] [noise=POINTS]"),
        ] {
            guard case .success = nb.execute(line) else { Issue.record("failed: \(line)"); continue }
            #expect(text().last?.contains(usage) == true, "\(line): \(text().last ?? "")")
        }
    }
}
