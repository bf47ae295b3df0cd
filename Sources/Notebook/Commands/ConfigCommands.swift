import Foundation
import Networks
import Quantization
import Tensors
import Trials
import Analysis

/// `config add | grid | random | list | show | remove` and `cost`.
enum ConfigCommands {
    static let quantizerOptions = ["perchannel", "binary", "stochastic", "pact"]

    static var specs: [CommandSpec] {
        [
            CommandSpec(
                group: "config", verb: "add", synopsis: "config add NAME MODEL [wWaA] [LAYER|PATTERN=wWaA …] [perchannel=yes] [binary=xnor|connect] [pact=yes] [stochastic=yes] [SETTING=VALUE …]",
                abstract: "Add a configuration: a model, per-layer precisions, quantizer options and setting overrides.",
                discussion: """
                A bare wWaA applies to every weighted layer; then LAYER=wWaA pairs refine it (see help precision).
                Without either, the model's default precision is used. Settings (epochs, batch, optimizer, lr,
                momentum, wd, schedule, augment) given here override the run's for this configuration only.
                """,
                completes: [.named("new"), .model], freeForm: true
            ) { inv, ws in
                try inv.expectWords(2...3)
                let name = inv.words[0]
                let m = try ws.state.model(inv.words[1])
                var base = m.precisions
                if inv.words.count == 3 {
                    guard let p = LayerPrecision(inv.words[2]) else {
                        throw inv.usageError("expects a precision like w4a4, found '\(inv.words[2])'")
                    }
                    base = Array(repeating: p, count: m.layerNames.count)
                }
                var layerPairs: [(String, String)] = [], overrides: [String: String] = [:]
                var options = QuantizerOptions()
                for (k, v) in inv.orderedOptions {
                    if quantizerOptions.contains(k) { try applyOption(k, v, &options, inv) }
                    else if TrainingSettings.keys.contains(k) { overrides[k] = v }
                    else { layerPairs.append((k, v)) }
                }
                var check = TrainingSettings()
                try check.apply(overrides)
                let precisions = try PrecisionAssignment.resolve(layerPairs, layers: m.layerNames, base: base)
                let c = Configuration(name: name, modelName: m.name, spec: m.spec, inputShape: m.inputShape,
                                      layerNames: m.layerNames, precisions: precisions, options: options, overrides: overrides)
                return try add([c], ws)
            },
            CommandSpec(
                group: "config", verb: "grid", synopsis: "config grid MODEL w=LIST a=LIST [layers=PATTERN] [ends=8|32] [prefix=TEXT] [perchannel=yes] [binary=xnor|connect]",
                abstract: "Add one configuration per weight × activation precision pair (e.g. w=1,t,2,4,8,32 a=2,4,8,32).",
                discussion: """
                The pair applies to the layers matching layers= (names or patterns, comma-separated; default *);
                others keep the model's default.
                ends=8 or ends=32 keeps the first and last weighted layers at w8a8 or w32a32 (the common
                convention). Names are wWaA, prefixed by prefix= when given.
                """,
                options: ["w", "a", "layers", "ends", "prefix"] + quantizerOptions, completes: [.model]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let m = try ws.state.model(inv.words[0])
                let ws_ = try inv.list("w") ?? { throw inv.usageError("missing option w=LIST, e.g. w=1,t,2,4,8,32") }()
                let as_ = inv.list("a") ?? ["32"]
                let patterns = inv.list("layers") ?? ["*"]
                let ends = inv.string("ends")
                var options = QuantizerOptions()
                for k in quantizerOptions { if let v = inv.string(k) { try applyOption(k, v, &options, inv) } }
                let prefix = inv.string("prefix", default: "")
                var made: [Configuration] = []
                for w in ws_ {
                    for a in as_ {
                        let text = "w\(w)a\(a)"
                        guard LayerPrecision(text) != nil else {
                            throw inv.usageError("'\(w)' × '\(a)' is not a precision: w takes 32, 2…16, t, 1 and a takes 32, 2…16, 1")
                        }
                        var pairs = patterns.map { ($0, text) }
                        if let ends {
                            guard ends == "8" || ends == "32" else { throw inv.usageError("option 'ends' expects 8 or 32, found '\(ends)'") }
                            pairs += [("first", "w\(ends)a\(ends)"), ("last", "w\(ends)a\(ends)")]
                        }
                        let ps = try PrecisionAssignment.resolve(pairs, layers: m.layerNames, base: m.precisions)
                        made.append(Configuration(name: prefix + text, modelName: m.name, spec: m.spec, inputShape: m.inputShape,
                                                  layerNames: m.layerNames, precisions: ps, options: options))
                    }
                }
                return try add(made, ws)
            },
            CommandSpec(
                group: "config", verb: "random", synopsis: "config random MODEL n=N [w=LIST] [a=LIST] [prefix=TEXT]",
                abstract: "Add N configurations with random mixed per-layer precisions, drawn from the session seed.",
                options: ["n", "w", "a", "prefix"], completes: [.model]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let m = try ws.state.model(inv.words[0])
                let n = try inv.int("n", default: 8, in: 1...1000)
                let wl = inv.list("w") ?? ["1", "t", "2", "4", "8", "32"]
                let al = inv.list("a") ?? ["2", "4", "8", "32"]
                let wp = try wl.map { t in try Precision(token: t, weights: true) ?? { throw inv.usageError("w: '\(t)' is not a weight precision") }() }
                let ap = try al.map { t in try Precision(token: t, weights: false) ?? { throw inv.usageError("a: '\(t)' is not an activation precision") }() }
                var rng = SplitMix64(seed: ws.seed).fork(0x5EED)
                let prefix = inv.string("prefix", default: "r")
                let made = (1...n).map { i -> Configuration in
                    let ps = m.layerNames.map { _ in LayerPrecision(weight: wp[rng.nextInt(below: wp.count)], activation: ap[rng.nextInt(below: ap.count)]) }
                    return Configuration(name: "\(prefix)\(i)", modelName: m.name, spec: m.spec, inputShape: m.inputShape,
                                         layerNames: m.layerNames, precisions: ps)
                }
                return try add(made, ws)
            },
            CommandSpec(
                group: "config", verb: "list", synopsis: "config list [csv=FILE]",
                abstract: "List the configurations with their cost per inference.",
                options: ["csv"], optionValues: ["csv": .path]
            ) { inv, ws in
                try inv.expectWords(0...0)
                let table = try costTable(ws.state.configs)
                let wrote = try inv.string("csv").map { "\n" + (try ws.writeFile(table.csv(), to: $0)) } ?? ""
                return CommandOutput(table.render() + "\n" + footer + wrote)
            },
            CommandSpec(
                group: "config", verb: "show", synopsis: "config show NAME",
                abstract: "Show a configuration in canonical form, with its per-layer cost report.",
                completes: [.config]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let c = try ws.state.config(inv.words[0])
                return CommandOutput("\(c.name): \(c.canonicalText)\n" + (try c.costReport()).render())
            },
            CommandSpec(
                group: "config", verb: "remove", synopsis: "config remove NAME… | all",
                abstract: "Remove configurations from the set.",
                completes: [.config]
            ) { inv, ws in
                try inv.expectWords(1...Int.max)
                let gone = Set(try ws.state.configs(inv.words).map(\.name))
                ws.state.configs.removeAll { gone.contains($0.name) }
                return CommandOutput(text: "removed \(gone.count); \(ws.state.configs.count) left", results: ["configs \(ws.state.configs.count)"])
            },
            CommandSpec(
                verb: "cost", synopsis: "cost CONFIG… | all",
                abstract: "Cost per inference: parameters, packed weight memory, MACs, bit operations, estimated energy.",
                discussion: "One configuration: the per-layer report. Several: one line each.\n" + footer,
                completes: [.config]
            ) { inv, ws in
                let cs = try ws.state.configs(inv.words)
                if cs.count == 1 {
                    let r = try cs[0].costReport()
                    return CommandOutput(text: "\(cs[0].name): \(cs[0].precisionText)\n" + r.render(),
                                         results: ["cost \(cs[0].name) params \(r.parameters) bits \(r.weightBits) macs \(r.macs) bops \(r.bops) energy_pj \(f4(r.energyPJ))"])
                }
                return CommandOutput(try costTable(cs).render() + "\n" + footer)
            },
        ]
    }

    static let footer = "Energy: an estimate per inference, " + EnergyModel.source + "."

    static func applyOption(_ k: String, _ v: String, _ o: inout QuantizerOptions, _ inv: Invocation) throws {
        func yes() throws -> Bool {
            switch v.lowercased() { case "yes", "true", "1", "on": return true; case "no", "false", "0", "off": return false
            default: throw inv.usageError("option '\(k)' expects yes or no, found '\(v)'") }
        }
        switch k {
        case "perchannel": o.perChannel = try yes()
        case "stochastic": o.stochastic = try yes()
        case "pact": o.pact = try yes()
        case "binary":
            guard v == "xnor" || v == "connect" else { throw inv.usageError("option 'binary' expects xnor or connect, found '\(v)'") }
            o.binaryConnect = v == "connect"
        default: break
        }
    }

    static func add(_ made: [Configuration], _ ws: Workspace) throws -> CommandOutput {
        for c in made where ws.state.configs.contains(where: { $0.name == c.name }) {
            throw QuantlabError.runtime("a configuration named '\(c.name)' exists already; remove it first (config remove \(c.name)) or choose another name")
        }
        ws.state.configs += made
        let table = try costTable(made)
        return CommandOutput(text: table.render(),
                             results: made.map { "config \($0.name) \($0.canonicalText)" })
    }

    static func costTable(_ cs: [Configuration]) throws -> TextTable {
        var t = TextTable(header: ["config", "precision", "params", "weights KiB", "compression", "MACs", "BOPs", "energy µJ"],
                          alignments: [.left, .left, .right, .right, .right, .right, .right, .right])
        for c in cs {
            let r = try c.costReport()
            t.add([c.name, c.precisionSummary, String(r.parameters), String(format: "%.1f", Double(r.weightBits) / 8192),
                   String(format: "%.1f×", r.compression), String(r.macs), String(r.bops), String(format: "%.3f", r.energyPJ / 1e6)])
        }
        return t
    }
}
