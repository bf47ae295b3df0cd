import Foundation
import Formatting
import Quantization
import Trials
import Analysis

/// `sensitivity MODEL`: which layers lose the least accuracy per bit saved when
/// lowered, by short trials, next to a proxy that needs no extra training.
enum SensitivityCommands {
    static var specs: [CommandSpec] {
        [
            CommandSpec(
                verb: "sensitivity",
                synopsis: "sensitivity MODEL [layers=LIST] [precisions=LIST] [base=wWaA] [cost=memory|bops] [hessian=yes] [epochs=N] [SETTING=VALUE …]",
                abstract: "Per-layer sensitivity: lower one layer at a time in short trials, rank layers by accuracy lost per bit saved.",
                discussion: """
                Trains, side by side on the trial sample, the base configuration (every layer at base=, default the
                model's precision) and one configuration per layer (layers=, default all) and precision (precisions=,
                default w4a4,w2a2) with only that layer lowered. A layer's sensitivity is its mean validation
                accuracy lost (points) per KiB of weight memory saved (cost=memory) or per million bit operations
                saved (cost=bops); the recorded results keep per kbit and per million. Next to it, two proxies with no training of their own, on the base run's trained
                model: the relative weight quantization error ‖q(w) − w‖²/‖w‖² at each precision, and the validation
                loss increase when only that layer's weights are quantized after training (post-training, weights
                only); and the spearman ρ between each proxy's layer ranking (per unit saved, like the measurement) and the
                measured one. hessian=yes adds HAWQ's proxy: a Hutchinson estimate of each layer's Hessian trace
                (8 Rademacher probes, Hessian-vector products by central differences of gradients on 256 samples)
                times ‖q(w) − w‖² per weight. The ranking (least sensitive first) guides search greedy order=sensitivity.
                """,
                options: ["layers", "precisions", "base", "cost", "hessian"] + TrainingSettings.keys, completes: [.model]
            ) { inv, ws in try run(inv, ws) },
        ]
    }

    static func run(_ inv: Invocation, _ ws: Workspace) throws -> CommandOutput {
        var settings = ws.state.settings
        try settings.apply(try TrialCommands.settingsOptions(inv))
        let space = try PerLayerSpace(inv, ws, settings: settings, choicesKey: "precisions")
        let costKind = try inv.choice("cost", ["memory", "bops"], default: "memory")
        let hessian = try inv.bool("hessian", default: false)
        let data = try ws.state.requireData()
        let base = space.configuration(space.base, name: "sens-base")
        var configs = [base]
        var variant: [(layer: Int, precision: LayerPrecision)] = []
        for l in space.layers {
            for p in inv.string("precisions") == nil ? [LayerPrecision("w4a4")!, LayerPrecision("w2a2")!] : space.choices where p != space.base[l] {
                var ps = space.base
                ps[l] = p
                configs.append(space.configuration(ps, name: "sens-\(space.model.layerNames[l])-\(p)"))
                variant.append((l, p))
            }
        }
        guard !variant.isEmpty else { throw inv.usageError("every precision listed equals the base; nothing to lower") }
        let jobs = try configs.map { c in
            TrialJob(trainer: try Trainer(configuration: c, settings: settings, seed: ws.seed), epochs: settings.epochs, evaluateTest: false)
        }
        let driver = RunDriver(ws: ws, kind: .trial, data: data.trialData, datasetName: data.dataset.name,
                               fingerprint: data.dataset.fingerprint, classes: data.classes)
        let outcomes = try driver.run(jobs, line: inv.lineNumber)
        if outcomes.contains(where: { $0.status == .interrupted }) { throw QuantlabError.interrupted }
        guard let baseAcc = outcomes[0].last?.validationAccuracy, outcomes[0].status == .done else {
            throw QuantlabError.runtime("the base configuration \(base.precisionSummary) did not train (\(outcomes[0].status.rawValue)); try a higher base= or lr=")
        }
        func saved(_ c: Configuration) throws -> Double {
            let b = try ws.state.cost(base), v = try ws.state.cost(c)
            return costKind == "memory" ? Double(b.weightBits - v.weightBits) / 1000 : Double(b.bops - v.bops) / 1e6
        }
        // Records keep points per kbit or per M bit ops (what sessions verify); tables show the shared units.
        let shown: Quantity = costKind == "memory" ? .memory : .bops
        let perUnit = shown.rateUnit
        let trained = jobs[0].trainer.model.weightedLayers
        var table = TextTable(header: ["layer", "precision", "val acc", "lost (points)", "saved " + shown.header, "points per \(perUnit.name)", "weight q-error", "PTQ Δloss"],
                              alignments: [.left, .left, .right, .right, .right, .right, .right, .right])
        let model = jobs[0].trainer.model
        let evalSplit = data.validation.count > 0 ? data.validation : data.sample
        let baseLoss = evaluateModel(model, on: evalSplit, normalization: data.normalization).loss
        var results: [String] = []
        var score: [Int: [Double]] = [:], proxy: [Int: [Double]] = [:], ptq: [Int: [Double]] = [:]
        var squaredErrors: [(layer: Int, error: Double, saved: Double)] = []
        for (k, v) in variant.enumerated() {
            let c = configs[k + 1], o = outcomes[k + 1]
            let acc = o.status == .done ? o.last?.validationAccuracy : nil
            let lost = acc.map { 100 * (baseAcc - $0) } ?? 100 * baseAcc
            let s = try saved(c)
            let perBit = s > 0 ? lost / s : .nan
            let layer = trained[v.layer]
            let w = layer.weight.value.data
            let q = makeWeightQuantizer(v.precision.weight).quantized(w, channels: layer.outputChannels)
            let num = zip(q, w).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            let den = w.reduce(0.0) { $0 + Double($1) * Double($1) }
            let qerr = den > 0 ? num / den : 0
            // Post-training: only this layer's weights quantized, the trained model otherwise as is.
            var target = layer
            let kept = target.weightQuantizer
            target.weightQuantizer = makeWeightQuantizer(v.precision.weight)
            let dloss = evaluateModel(model, on: evalSplit, normalization: data.normalization).loss - baseLoss
            target.weightQuantizer = kept
            // Proxies are ranked per unit saved, as the measurement is.
            if s > 0 { ptq[v.layer, default: []].append(dloss / s) }
            if s > 0 { score[v.layer, default: []].append(perBit) }
            if s > 0 { proxy[v.layer, default: []].append(qerr / s) }
            squaredErrors.append((v.layer, num, s))
            let name = space.model.layerNames[v.layer]
            // s is in kbit or millions of bit operations; the table shows bits as KiB, BOPs as counts.
            let savedInput = costKind == "memory" ? s * 1000 : s * 1e6
            table.add([name, v.precision.description, acc.map(Quantity.accuracy.format) ?? o.status.rawValue, Quantity.points.format(lost / 100),
                       shown.format(savedInput), savedInput > 0 ? Quantity.rate(lost / (savedInput / perUnit.divisor)) : "—",
                       Quantity.ratio.format(qerr), Quantity.loss.format(dloss)])
            results.append("sensitivity \(name) \(v.precision) val_acc \(acc.map(f6) ?? "diverged") lost \(f4(lost)) per_\(costKind) \(perBit.isNaN ? "none" : f6(perBit)) qerr \(f6(qerr)) ptq_dloss \(f6(dloss))")
        }
        func mean(_ v: [Double]?) -> Double { guard let v, !v.isEmpty else { return .infinity }; return v.reduce(0, +) / Double(v.count) }
        let ranked = space.layers.sorted { a, b in
            let sa = mean(score[a]), sb = mean(score[b])
            return sa != sb ? sa < sb : a < b
        }
        ws.state.results.layerOrder[space.model.name] = ranked.map { space.model.layerNames[$0] }
        var out = table.render() + "\n"
        out += "base \(base.precisionSummary): val acc \(Quantity.accuracy.format(baseAcc)) after \(settings.epochs) epochs on the sample (\(data.sample.count))\n"
        // score is points per kbit or per M bit ops; shown per KiB (8.192 kbit) or per M BOPs.
        let toShown = costKind == "memory" ? 8.192 : 1.0
        out += "least sensitive first (mean points lost per \(perUnit.name) saved): "
            + ranked.map { "\(space.model.layerNames[$0]) \(mean(score[$0]).isFinite ? Quantity.rate(mean(score[$0]) * toShown) : "—")" }.joined(separator: ", ") + "\n"
        results.append("sensitivity order " + ranked.map { space.model.layerNames[$0] }.joined(separator: ","))
        var proxies = [("weight quantization error", "qerr", proxy), ("post-training loss increase", "ptq_dloss", ptq)]
        if hessian {
            // Last: its training-mode forwards move batch-norm statistics and activation clips.
            let traces = hessianTraces(model: model, split: evalSplit, normalization: data.normalization, seed: ws.seed)
            var hawq: [Int: [Double]] = [:]
            for e in squaredErrors where e.saved > 0 {
                hawq[e.layer, default: []].append(traces[e.layer] / Double(trained[e.layer].weight.value.count) * e.error / e.saved)
            }
            out += "Hessian trace (Hutchinson, 8 probes): "
                + space.layers.map { "\(space.model.layerNames[$0]) \(Quantity.ratio.format(traces[$0]))" }.joined(separator: ", ") + "\n"
            for l in space.layers { results.append("sensitivity hessian \(space.model.layerNames[l]) trace \(String(format: "%.6g", traces[l]))") }
            proxies.append(("Hessian trace × ‖q(w) − w‖² per weight", "hawq", hawq))
        }
        let measured = space.layers.map { mean(score[$0]) }
        for (label, key, values) in proxies {
            let proxied = space.layers.map { mean(values[$0]) }
            if measured.allSatisfy(\.isFinite), case .success(let rho) = Statistics.spearman(proxied, measured) {
                out += "proxy (\(label)) vs measured, spearman ρ over \(space.layers.count) layers: \(Quantity.coefficient.format(rho.r))"
                    + (space.layers.count < 8 ? " (few layers: indicative only)" : "") + "\n"
                results.append("sensitivity proxy \(key) spearman \(f6(rho.r))")
            } else {
                out += "proxy (\(label)) vs measured: undefined (fewer than 2 layers, or a ranking that is constant)\n"
            }
        }
        return CommandOutput(text: out, results: results)
    }
}
