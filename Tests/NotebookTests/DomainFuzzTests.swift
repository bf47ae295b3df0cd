import Foundation
import Testing
@testable import Notebook

/// Random and mutated lines over the domain commands (data, model, precision, config,
/// trial, search, correlate, plots, cost, sql, export), on a tiny CSV dataset so that
/// training is quick: the notebook never crashes and every failure is a rendered error.
@Suite(.serialized) struct DomainFuzzTests {
    static let valid = [
        "data sample 30", "data sample 50%", "data info", "data show 3", "data show 3 split=test",
        "model define m = dense 8 | relu | dense 3", "model define c = conv 2 k3 | relu | dense 3 input=1x2x2",
        "model show m", "model list", "precision m dense1=w4a4", "precision m first=w8a8 last=wta8 *=w1a1",
        "config add a m w4a4", "config add b m w2a2 lr=0.01", "config grid m w=1,t,8 a=4,32 prefix=g",
        "config random m n=2", "config list", "config show a", "config remove b", "cost a", "cost all",
        "trial run all epochs=1 batch=16", "trial final a epochs=1", "trial show", "trial set batch=32",
        "search halving all max=2", "search hyperband all max=2", "correlate", "correlate metric=val_loss",
        "pareto", "plot curves", "plot scatter epoch=1", "plot pareto cost=bops",
        "quantizer levels w4a32", "quantizer histogram wta32 config=a", "sql \"select count(*) from runs\"",
        "export a out/a.qlm", "evaluate out/a.qlm",
        "sensitivity m epochs=1 batch=16", "search greedy m max=2 batch=16", "search greedy m order=sensitivity width=1 max=2",
        "search evolve m max=2 population=2 sample=1 generations=1", "trial run all epochs=2 batch=16 seeds=2",
        "correlate predictors=yes noise=1",
    ]
    static let fragments = [
        "data", "model", "config", "trial", "search", "plot", "precision", "cost", "correlate", "sql", "export",
        "all", "a", "m", "w4a4", "w1a1", "wta4", "w0a9", "w32a32", "conv*", "=", "|", "epochs=", "epochs=0",
        "batch=1", "lr=-1", "max=0", "eta=1", "epoch=99", "seeds=1", "seeds=99", "fraction=0", "choices=w1a1,w1a1", "greedy", "evolve", "1", "-1", "nan", "1e308", "\"", "é", "dense 0", "relu",
    ]

    @Test func domainLinesNeverCrash() throws {
        let dir = temporaryDirectory("domain-fuzz")
        var csv = "f1,f2,f3,f4,label\n"
        for i in 0..<120 { let c = i % 3; csv += "\(c == 0 ? 1 : 0).\(i % 7),\(c == 1 ? 1 : 0).\(i % 5),\(c == 2 ? 1 : 0).\(i % 3),0.\(i % 9),k\(c)\n" }
        try csv.write(toFile: dir + "/toy.csv", atomically: true, encoding: .utf8)
        let nb = Notebook(workspace: Workspace(workingDirectory: dir), domainCommands: true, output: { _ in })
        nb.workspace.threads = 1
        guard case .success = nb.execute("data load csv toy.csv label=label") else {
            Issue.record("could not load the toy dataset"); return
        }
        var rng = FuzzRandom(state: 424242)
        var failures = 0, successes = 0
        for i in 0..<800 {
            var line: String
            if i % 3 == 2 {
                line = (0..<(1 + rng.below(5))).map { _ in rng.pick(Self.fragments) }.joined(separator: " ")
            } else {
                line = rng.pick(Self.valid)
                if i % 3 == 1 { line = FuzzTests().mutate(line, &rng) }
            }
            if line.contains("data load") { continue }      // keep the toy dataset (a bare load reads Fashion-MNIST)
            _ = nb.completions(for: line)
            switch nb.execute(line) {
            case .failure(let message):
                failures += 1
                #expect(message.hasPrefix("error: "), "line: \(line) → \(message)")
            case .success: successes += 1
            case .blank: break
            }
        }
        #expect(failures > 100 && successes > 100, "\(failures) failures, \(successes) successes")
    }
}
