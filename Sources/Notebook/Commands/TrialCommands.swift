import Foundation
import Trials
import Store
import Analysis
import Formatting

/// `trial run | final | show | set`.
enum TrialCommands {
    static var specs: [CommandSpec] {
        [
            CommandSpec(
                group: "trial", verb: "run", synopsis: "trial run CONFIG… | all [epochs=N] [batch=N] [optimizer=adam|sgd] [lr=X] [momentum=X] [wd=X] [schedule=constant|cosine|step] [augment=yes] [seeds=K] [on=local|slurm]",
                abstract: "Short trials: train configurations side by side on the trial sample, validating every epoch.",
                discussion: """
                Each configuration starts from the same seeded weights and sees the same batches, so
                differences are the precision's. One configuration runs per thread (see threads), each
                with one BLAS thread: results do not depend on the thread count. Every epoch is stored in
                the results database as it ends; Ctrl-C stops the run and keeps the finished epochs.
                A configuration whose loss becomes NaN or infinite is marked diverged; the others go on.
                schedule=cosine or step spans the epochs the run trains (a configuration's own epochs= counts).
                Before anything trains, every model is checked against the data: input shape and one output per class.
                seeds=K (2…20) trains each configuration K times with seeds seed, seed+1, …: the table shows mean ± sd,
                later commands (correlate, plots) use the means, and the seed-to-seed spread gives the noise floor,
                1.96·σ·√(2/K) with σ the pooled sd of the last epoch's accuracy: two means closer than that are not
                resolvable (correlate marks such regrets as ties).
                on=slurm trains as a Slurm array job instead (partition=, time=, cpus=, array-limit=, pack=, plans=,
                dry-run=yes; see help trial resume): the same epochs, bit for bit, merged into the store as they arrive.
                """,
                options: TrainingSettings.keys + ["seeds"] + SlurmRequest.keys, completes: [.configs]
            ) { inv, ws in
                try run(inv, ws, final: false)
            },
            CommandSpec(
                group: "trial", verb: "final", synopsis: "trial final CONFIG… | all [epochs=N] [train=N] [SETTING=VALUE …] [on=local|slurm]",
                abstract: "Final runs: train configurations on the full training split and measure test accuracy.",
                discussion: """
                The ground truth that early trial accuracy is compared with (see correlate). seeds=K as for trial run.
                train=N trains on a fixed stratified subset of N images of the training split instead (the same subset
                for every configuration, drawn from the session seed on its own stream), for ground truths too large
                to train on the whole split.
                """,
                options: TrainingSettings.keys + ["seeds", "train"] + SlurmRequest.keys, completes: [.configs]
            ) { inv, ws in
                try run(inv, ws, final: true)
            },
            CommandSpec(
                group: "trial", verb: "set", synopsis: "trial set [SETTING=VALUE …] [partition=P] [time=T] [cpus=N] [array-limit=K] [pack=N] [plans=DIR]",
                abstract: "Show or change the default training settings of later runs, and the defaults of runs on Slurm.",
                discussion: "The slurm section holds the defaults of on=slurm runs (see help trial resume); a command's own options override them.",
                options: TrainingSettings.keys + SlurmRequest.settingKeys
            ) { inv, ws in
                try inv.expectWords(0...0)
                var slurm = ws.state.slurm
                try SlurmRequest.apply(inv, to: &slurm)
                try ws.state.settings.apply(try settingsOptions(inv))
                ws.state.slurm = slurm
                return CommandOutput(text: ws.state.settings.text + "\nslurm: " + slurm.text, results: ["settings \(ws.state.settings.text)"])
            },
            CommandSpec(
                group: "trial", verb: "show", synopsis: "trial show [CONFIG…] [store=yes]",
                abstract: "Show the session's trial and final results per configuration and epoch; store=yes: every run in the results store.",
                discussion: """
                A configuration run again keeps its earlier runs here, numbered, the latest marked; later
                commands (correlate, plots, pareto) use the latest. Every run is also a row of the store's runs table.
                A dual-precision network's low mode (NAME@w2a2) follows the network.
                A session's results are what its own commands trained, so a replay shows what the recording showed.
                The results store (quantlab.db) also keeps the runs of earlier sessions in this folder; they are
                not this session's results (correlate, pareto and plots never mix them in), and a note under the
                table counts them and names their sessions. store=yes lists every run of the store, one line each,
                labelled with the session and the line of sessions/SESSION.qlab that started it ("this session"
                for this one's), with its last validation and its test accuracy; CONFIG… narrows it to those names.
                Under replay the note is left out, so a replay prints the same whatever else the store holds;
                neither the note nor store=yes is a recorded result, so replay --verify never compares them.
                """,
                options: ["store"], completes: [.configs]
            ) { inv, ws in
                if try inv.bool("store") == true { return CommandOutput(try OtherSessionRuns.table(ws, names: inv.words)) }
                // A dual network's low mode (NAME@w2a2) follows the network, as in correlate and compare.
                let chosen = inv.words.isEmpty ? ws.state.configs : try ws.state.configs(inv.words)
                let names = ws.state.analysisConfigs.filter { a in chosen.contains { $0.name == a.name || $0.lowMode?.name == a.name } }.map(\.name)
                var t = TextTable(header: ["config", "run", "epoch", "train loss", "train acc", "val acc", "test acc", "img/s", "status"],
                                  alignments: [.left, .left, .right, .right, .right, .right, .right, .right, .left])
                var onData: [(data: DataProvenance, runs: [String])] = []
                for n in names {
                    let history = [("trial", ws.state.results.earlierTrials[n] ?? [], ws.state.results.trials[n]),
                                   ("final", ws.state.results.earlierFinals[n] ?? [], ws.state.results.finals[n])]
                    for (kind, earlier, latest) in history {
                        guard let latest else { continue }
                        let runs = earlier + [latest]
                        for (k, o) in runs.enumerated() {
                            let run = runs.count == 1 ? kind : "\(kind) \(k + 1)" + (k == runs.count - 1 ? " (latest)" : "")
                            if let d = o.data {
                                if let i = onData.firstIndex(where: { $0.data == d }) { onData[i].runs.append("\(n) \(run)") }
                                else { onData.append((d, ["\(n) \(run)"])) }
                            }
                            for m in o.epochs {
                                t.add([n, run, String(m.epoch), Quantity.loss.format(m.trainLoss), Quantity.accuracy.format(m.trainAccuracy),
                                       m.validationAccuracy.map(Quantity.accuracy.format) ?? "", m.testAccuracy.map(Quantity.accuracy.format) ?? "",
                                       Quantity.throughput.format(m.imagesPerSecond), o.status.rawValue])
                            }
                        }
                    }
                }
                var trained: [String] = []
                for n in names {
                    for (kind, o) in [("trial", ws.state.results.trials[n]), ("final", ws.state.results.finals[n])] {
                        if let line = o?.trained { trained.append("\(n) (\(kind)): \(line)") }
                    }
                }
                let methods = trained.isEmpty ? "" : "\ntrained by the configurations' methods (latest runs):\n" + trained.joined(separator: "\n")
                // Runs of different data (a data load or data sample between them) say so: analyses refuse to mix them.
                // Only when the analyses would refuse these results (trials on the sample beside
                // finals on the training split are the normal pairing, not a mix).
                let mixes = (try? ws.state.requireOneData("trial show", trials: names, finals: names)) == nil
                let data = !mixes ? "" : "\nruns on different data:\n" + onData.map { "  \($0.data.description): \($0.runs.joined(separator: ", "))" }.joined(separator: "\n")
                let text = t.rows.isEmpty ? "no results in this session yet; try: trial run all epochs=2" : t.render() + methods + data
                return CommandOutput(text + (OtherSessionRuns.note(ws, sessionHasResults: !t.rows.isEmpty).map { "\n" + $0 } ?? ""))
            },
        ]
    }

    /// The invocation's training settings as canonical `key=value` text, through the one
    /// option parser: every command that takes settings (trial run/final/set, config
    /// add, searches) accepts the same spellings and gives the same errors.
    static func settingsOptions(_ inv: Invocation) throws -> [String: String] {
        typealias S = TrainingSettings
        var o: [String: String] = [:]
        if let v = try inv.int("epochs", in: S.epochRange) { o["epochs"] = String(v) }
        if let v = try inv.int("batch", in: S.batchRange) { o["batch"] = String(v) }
        if inv.string("optimizer") != nil { o["optimizer"] = try inv.choice("optimizer", S.optimizers, default: "adam") }
        if inv.string("schedule") != nil { o["schedule"] = try inv.choice("schedule", S.schedules, default: "constant") }
        if let v = try inv.bool("augment") { o["augment"] = String(v) }
        if let v = try inv.double("lr") {
            guard v > 0 else { throw inv.usageError("option 'lr' expects a number > 0, found '\(inv.string("lr")!)'") }
            o["lr"] = inv.string("lr")
        }
        if let v = try inv.double("momentum") {
            guard v >= 0 && v < 1 else { throw inv.usageError("option 'momentum' expects a number in [0, 1), found '\(inv.string("momentum")!)'") }
            o["momentum"] = inv.string("momentum")
        }
        if try inv.double("wd", in: 0...Double.greatestFiniteMagnitude) != nil { o["wd"] = inv.string("wd") }
        return o
    }

    /// The recorded result line of each epoch: `trial NAME epoch K train_loss X val_acc Y [test_acc Z]`.
    static func epochResults(_ kind: String, _ name: String, _ o: TrialOutcome) -> [String] {
        o.epochs.map { m in
            var r = "\(kind) \(name) epoch \(m.epoch) train_loss \(f6(m.trainLoss))"
            if let v = m.validationAccuracy { r += " val_acc \(f6(v))" }
            if let t = m.testAccuracy { r += " test_acc \(f6(t))" }
            return r
        }
    }

    /// A training method's extra results (nothing at fixed precision, so older sessions
    /// replay as recorded): `trained NAME bops X wbits Y abits Z [bmin B]`, and a dual
    /// network's low mode as `NAME@wWaA`, whose outcome becomes a result of its own.
    static func methodResults(_ c: Configuration, _ o: TrialOutcome, final: Bool, _ ws: Workspace) -> [String] {
        guard c.options.precisionSchedule != nil || c.options.dual != nil else { return [] }
        var lines: [String] = []
        if let t = o.trainedCost {
            lines.append("trained \(c.name) bops \(String(format: "%.0f", t.bopsPerImage)) wbits \(f4(t.weightBits)) abits \(f4(t.activationBits))"
                         + (t.lowBits.map { " bmin \($0)" } ?? ""))
        }
        if let low = c.lowMode, let mode = o.lowMode {
            let lo = mode.outcome(name: low.name, of: o)
            if final { ws.state.results.setFinal(low.name, lo) } else { ws.state.results.setTrial(low.name, lo) }
            lines += epochResults(final ? "final" : "trial", low.name, lo)
        }
        return lines
    }

    static func run(_ inv: Invocation, _ ws: Workspace, final: Bool) throws -> CommandOutput {
        let data = try ws.state.requireData()
        if final { _ = try data.requireTest(for: "trial final") }
        let configs = try ws.state.configs(inv.words)
        var settings = ws.state.settings
        try settings.apply(try settingsOptions(inv))
        let seeds = try inv.int("seeds", default: 1, in: 1...20)
        if seeds > 1 { return try SeedRepeats.run(inv, ws, configs: configs, settings: settings, seeds: seeds, final: final) }
        let replacing = configs.map(\.name).filter { (final ? ws.state.results.finals : ws.state.results.trials)[$0] != nil }
        let jobs = try configs.map { c in
            let trainer = try Trainer(configuration: c, settings: settings, seed: ws.seed)
            return TrialJob(trainer: trainer, epochs: trainer.settings.epochs, evaluateTest: final)
        }
        var driver = RunDriver(ws: ws, kind: final ? .final : .trial, data: final ? try data.finalData(inv, seed: ws.seed) : data.trialData,
                               datasetName: data.dataset.name, fingerprint: data.dataset.fingerprint, classes: data.classes)
        driver.slurm = try SlurmRequest.parse(inv, ws)
        if let slurm = driver.slurm, slurm.dryRun { return try SlurmRun.dryRun(jobs, request: slurm, driver: driver) }
        let t0 = Date()
        let outcomes = try driver.run(jobs, line: inv.lineNumber)
        let seconds = Date().timeIntervalSince(t0)
        var results: [String] = []
        var table = TextTable(header: ["config", "precision", "epochs", "train loss", "val acc", final ? "test acc" : "best val", "img/s", "status"],
                              alignments: [.left, .left, .right, .right, .right, .right, .right, .left])
        for (job, o) in zip(jobs, outcomes) {
            let c = job.trainer.configuration
            if final {
                ws.state.results.setFinal(c.name, o)
                ws.state.results.trainers[c.name] = job.trainer
                ws.state.results.trainedWith[c.name] = data.normalization
            } else {
                ws.state.results.setTrial(c.name, o)
            }
            results += epochResults(final ? "final" : "trial", c.name, o)
            if o.status != .done { results.append("\(c.name) \(o.status.rawValue)" + (o.divergedEpoch.map { " epoch \($0)" } ?? "")) }
            if let trained = o.trained { results.append("trained \(c.name) \(trained)") }
            results += methodResults(c, o, final: final, ws)
            let best = o.epochs.compactMap(\.validationAccuracy).max()
            let ips = o.epochs.map(\.imagesPerSecond).reduce(0, +) / Double(max(o.epochs.count, 1))
            let acc: (Double) -> String = { Quantity.accuracy.format($0) }
            let loss: String = o.last.map { Quantity.loss.format($0.trainLoss) } ?? ""
            let last: String = final ? (o.testAccuracy.map(acc) ?? "") : (best.map(acc) ?? "")
            let status = o.status.rawValue + (o.divergedEpoch.map { " at epoch \($0)" } ?? "")
            table.add([c.name, c.precisionSummary, String(o.epochs.count), loss, o.last?.validationAccuracy.map(acc) ?? "", last,
                       Quantity.throughput.format(ips), status])
        }
        let interrupted = outcomes.contains { $0.status == .interrupted }
        let what = final ? "final runs on \(driver.data.train.count) images, tested on \(data.dataset.test.count)"
                         : "trials on a sample of \(data.sample.count), validated on \(data.validation.count)"
        let place = driver.slurm == nil ? "on \(ws.threads) thread(s)" : "on Slurm"
        var text = table.render() + "\n\(configs.count) configurations, \(what); \(Quantity.seconds.withUnit(seconds)) \(place); stored in \(ws.state.storePath)"
        for (job, o) in zip(jobs, outcomes) { if let trained = o.trained { text += "\ntrained \(job.trainer.configuration.name): \(trained)" } }
        if interrupted { text += "\ninterrupted: finished epochs were kept and stored" }
        if !replacing.isEmpty {
            text += "\nnote: these \(final ? "final" : "trial") results replace earlier ones of \(replacing.joined(separator: ", ")) in later commands; "
                + "trial show lists both (numbered, latest marked), and the store keeps every run"
        }
        return CommandOutput(text: text, results: results)
    }
}
