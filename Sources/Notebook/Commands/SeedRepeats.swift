import Foundation
import Formatting
import Trials
import Analysis

/// `trial run|final … seeds=K`: every configuration trained with K seeds, tables in
/// mean ± sd, the session's results set to the means, and the noise floor.
enum SeedRepeats {
    static func run(_ inv: Invocation, _ ws: Workspace, configs: [Configuration], settings: TrainingSettings,
                    seeds k: Int, final: Bool) throws -> CommandOutput {
        let data = try ws.state.requireData()
        var jobs: [TrialJob] = [], jobSeeds: [UInt64] = []
        for c in configs {
            for s in 0..<k {
                let seed = ws.seed &+ UInt64(s)
                let trainer = try Trainer(configuration: c, settings: settings, seed: seed)
                jobs.append(TrialJob(trainer: trainer, epochs: trainer.settings.epochs, evaluateTest: final))
                jobSeeds.append(seed)
            }
        }
        var driver = RunDriver(ws: ws, kind: final ? .final : .trial, data: final ? try data.finalData(inv, seed: ws.seed) : data.trialData,
                               datasetName: data.dataset.name, fingerprint: data.dataset.fingerprint, classes: data.classes)
        driver.jobSeeds = jobSeeds
        driver.slurm = try SlurmRequest.parse(inv, ws)
        if let slurm = driver.slurm, slurm.dryRun { return try SlurmRun.dryRun(jobs, request: slurm, driver: driver) }
        let outcomes = try driver.run(jobs, line: inv.lineNumber)
        if outcomes.contains(where: { $0.status == .interrupted }) { throw QuantlabError.interrupted }
        var results: [String] = []
        var table = TextTable(header: ["config", "precision", "seeds", "epochs", "val acc (mean ± sd)"] + (final ? ["test acc (mean ± sd)"] : []) + ["status"],
                              alignments: [.left, .left, .right, .right, .right] + (final ? [.right] : []) + [.left])
        var variances: [Double] = []
        for (ci, c) in configs.enumerated() {
            let runs = Array(outcomes[(ci * k)..<((ci + 1) * k)])
            let done = runs.filter { $0.status == .done }
            let mean = meanOutcome(done.isEmpty ? runs : done)
            if final {
                ws.state.results.setFinal(c.name, mean)
                ws.state.results.seedFinals[c.name] = runs
                ws.state.results.trainers[c.name] = jobs[ci * k].trainer
                ws.state.results.trainedWith[c.name] = data.normalization
            } else {
                ws.state.results.setTrial(c.name, mean)
                ws.state.results.seedTrials[c.name] = runs
            }
            let val = done.compactMap { $0.last?.validationAccuracy }
            let test = done.compactMap(\.testAccuracy)
            let spreadOf = final ? test : val
            if spreadOf.count >= 2 { variances.append(pow(sd(spreadOf), 2)) }
            table.add([c.name, c.precisionSummary, "\(done.count)/\(k)", "\(mean.epochs.count)", meanSD(val)] + (final ? [meanSD(test)] : [])
                      + [done.count == k ? "done" : "\(k - done.count) diverged or stopped"])
            results.append("\(final ? "final" : "trial") \(c.name) seeds \(done.count) val_acc \(val.isEmpty ? "none" : f6(avg(val))) sd \(val.count > 1 ? f6(sd(val)) : "none")"
                + (final ? " test_acc \(test.isEmpty ? "none" : f6(avg(test))) sd \(test.count > 1 ? f6(sd(test)) : "none")" : ""))
        }
        var text = table.render() + "\n\(configs.count) configurations × \(k) seeds (\(ws.seed)…\(ws.seed &+ UInt64(k - 1))); later commands use the means\n"
        if !variances.isEmpty {
            let pooled = avg(variances).squareRoot()
            let floor = 1.96 * pooled * (2.0 / Double(k)).squareRoot()
            ws.state.results.noiseFloor = floor
            text += "noise floor: seed-to-seed sd \(Quantity.points.withUnit(pooled)) (pooled, \(final ? "test" : "last-epoch validation") accuracy); "
                + "differences between means below \(Quantity.points.withUnit(floor)) are not resolvable\n"
            results.append("noise floor \(f6(floor)) sd \(f6(pooled))")
        }
        return CommandOutput(text: text, results: results)
    }

    /// Epoch-wise means over runs (as many epochs as the shortest run has).
    static func meanOutcome(_ runs: [TrialOutcome]) -> TrialOutcome {
        var m = runs[0]
        let count = runs.map(\.epochs.count).min() ?? 0
        func mean(_ f: (EpochMetrics) -> Double?, _ e: Int) -> Double? {
            let v = runs.compactMap { f($0.epochs[e]) }
            return v.count == runs.count ? avg(v) : nil
        }
        m.epochs = (0..<count).map { e in
            var x = runs[0].epochs[e]
            x.trainLoss = mean({ $0.trainLoss }, e) ?? .nan
            x.trainAccuracy = mean({ $0.trainAccuracy }, e) ?? .nan
            x.validationLoss = mean(\.validationLoss, e)
            x.validationAccuracy = mean(\.validationAccuracy, e)
            x.testLoss = mean(\.testLoss, e)
            x.testAccuracy = mean(\.testAccuracy, e)
            return x
        }
        let tests = runs.compactMap(\.testAccuracy)
        m.testAccuracy = tests.count == runs.count ? avg(tests) : nil
        let losses = runs.compactMap(\.testLoss)
        m.testLoss = losses.count == runs.count ? avg(losses) : nil
        return m
    }

    static func avg(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
    /// Sample standard deviation (n − 1).
    static func sd(_ v: [Double]) -> Double {
        let m = avg(v)
        return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
    }
    static func meanSD(_ v: [Double]) -> String {
        v.isEmpty ? "—" : Quantity.accuracy.meanSD(v)
    }
}
