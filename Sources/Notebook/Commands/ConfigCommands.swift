import Foundation
import Networks
import Quantization
import Tensors
import Trials
import Analysis
import Formatting

/// `config add | grid | random | list | show | remove` and `cost`.
enum ConfigCommands {
    static let quantizerOptionKeys = ["perchannel", "binary", "stochastic", "pact"] + TrainingMethodOptionsParser.keys

    static var specs: [CommandSpec] {
        [
            CommandSpec(
                group: "config", verb: "add", synopsis: "config add NAME MODEL [wWaA] [LAYER|PATTERN=wWaA …] [perchannel=yes] [binary=xnor|connect] [pact=yes] [stochastic=yes] [weights=prox[:RHO0:GROWTH]] [stq=LAMBDA[:MU]] [prune=dmp:TARGET[:filter]] [method=conntra] [schedule=cpt:LOW-HIGH[:CYCLES]|wWaA@E,…] [dual=wWaA[@E]] [SETTING=VALUE …]",
                abstract: "Add a configuration: a model, per-layer precisions, quantizer options and setting overrides.",
                discussion: """
                A bare wWaA applies to every weighted layer; then LAYER=wWaA pairs refine it (see help precision).
                Without either, the model's default precision is used. Settings (epochs, batch, optimizer, lr,
                momentum, wd, schedule, augment) given here override the run's for this configuration only.
                A name stands for one definition: adding it again with another is an error (config remove, config
                rename); the same definition again changes nothing. Stored runs keep the definition they trained.
                Training methods: weights=prox (ProxConnect: binary/ternary weights through a proximal map whose
                ρ grows by GROWTH per step, BinaryConnect in the limit), stq=LAMBDA (smart ternary quantization:
                each binary/ternary layer picks its depth, MU prices ternary), prune=dmp:TARGET (differentiable
                mask pruning of TARGET of each layer's weights, or filters with :filter; costs count kept weights),
                method=conntra (ternary weights by coordinate descent, no latent floats; small models only).
                Training methods (they drive the layers with k-bit weights, and their k-bit activations; evaluation,
                export and the inference cost use the configuration's own precision):
                schedule=cpt:3-8 cyclic precision training: bits follow 32 cosine cycles from 3 to 8 over the run's
                iterations (cpt:3-8:16 for 16 cycles; cpt:auto-8 picks the lower bound by the precision range test);
                gradients of the driven layers are 8-bit (g8, added to their precision);
                schedule=w8a8@1,w4a4@3 progressive precision: each stage from its (1-based) epoch on;
                dual=w2a2 a dual-precision network: the configuration's precision is the high mode, w2a2 the low one;
                the first half of the epochs trains the high mode, the rest both (dual=w2a2@3: both from epoch 3); runs
                report the low mode as configuration NAME@w2a2 too (correlate, pareto, compare, the store).
                schedule=constant|cosine|step remains the learning-rate schedule setting.
                """,
                completes: [.named("new"), .model], freeForm: true
            ) { rawInv, ws in
                let (inv, schedule) = try precisionSchedule(rawInv)
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
                var options = try quantizerOptions(inv)
                options.precisionSchedule = schedule
                if let d = inv.string("dual") {
                    do { options.dual = try DualPrecision(parsing: d) } catch let e as QuantizationNotationError { throw inv.usageError(e.message) }
                }
                let overrides = try TrialCommands.settingsOptions(inv)
                let layerPairs = inv.orderedOptions.filter { !quantizerOptionKeys.contains($0.key) && !TrainingSettings.keys.contains($0.key) && $0.key != "dual" }
                    .map { ($0.key, $0.value) }
                var check = TrainingSettings()
                try check.apply(overrides)
                let resolved = try PrecisionAssignment.resolve(layerPairs, layers: m.layerNames, base: base)
                var precisions = resolved
                if case .cyclic? = schedule {
                    // CPT keeps gradients at a fixed 8 bits (g8) in the layers it drives.
                    precisions = precisions.map { p in
                        guard case .bits = p.weight, p.gradient == .float else { return p }
                        var q = p
                        q.gradient = .int8
                        return q
                    }
                }
                let c = Configuration(name: name, modelName: m.name, spec: m.spec, inputShape: m.inputShape,
                                      layerNames: m.layerNames, precisions: precisions, options: options, overrides: overrides)
                if (schedule != nil || options.dual != nil) && !precisions.contains(where: { if case .bits = $0.weight { return true } else { return false } }) {
                    throw inv.usageError("schedule= and dual= drive layers with k-bit weights; \(c.precisionSummary) has none")
                }
                var output = try add([c], ws)
                // A bare wWaA replaces every layer, also those the model's precision set (first=/last=): say so.
                // Compared before CPT's g8 gradients, which a bare w8a8 over first=w8a8 does not replace.
                let replaced = m.layerNames.indices.filter { i in
                    inv.words.count == 3 && m.precisions[i] != .float && resolved[i] != m.precisions[i]
                        && !layerPairs.contains { $0.0 == m.layerNames[i] || ($0.0 == "first" && i == 0) || ($0.0 == "last" && i == m.layerNames.count - 1) }
                }
                if !replaced.isEmpty {
                    let was = replaced.map { "\(m.layerNames[$0])=\(m.precisions[$0])" }.joined(separator: " ")
                    let keep = replaced.map { "\(m.layerNames[$0])=\(m.precisions[$0])" }.joined(separator: " ")
                    output.text += "\nnote: \(inv.words[2]) replaces the precision model \(m.name) gives \(was); to keep it: config add \(name)-kept \(m.name) \(inv.words[2]) \(keep)"
                }
                return output
            },
            CommandSpec(
                group: "config", verb: "grid", synopsis: "config grid MODEL w=LIST a=LIST [layers=PATTERN] [ends=8|32] [prefix=TEXT] [perchannel=yes] [binary=xnor|connect]",
                abstract: "Add one configuration per weight × activation precision pair (e.g. w=1,t,2,4,8,32 a=2,4,8,32).",
                discussion: """
                The pair applies to the layers matching layers= (names or patterns, comma-separated; default *);
                others keep the model's default.
                ends=8 or ends=32 keeps the first and last weighted layers at w8a8 or w32a32 (the common
                convention). Names are wWaA, prefixed by prefix= when given; with ends= they end in -ends8 or
                -ends32 (w1a4-ends8), so a name never claims a precision some of its layers do not have.
                """,
                options: ["w", "a", "layers", "ends", "prefix"] + quantizerOptionKeys, completes: [.model]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let m = try ws.state.model(inv.words[0])
                let ws_ = try inv.list("w") ?? { throw inv.usageError("missing option w=LIST, e.g. w=1,t,2,4,8,32") }()
                let as_ = try inv.list("a") ?? ["32"]
                let patterns = try inv.list("layers") ?? ["*"]
                let ends = try inv.string("ends").map { _ in try inv.choice("ends", ["8", "32"], default: "8") }
                let options = try quantizerOptions(inv)
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
                            pairs += [("first", "w\(ends)a\(ends)"), ("last", "w\(ends)a\(ends)")]
                        }
                        let ps = try PrecisionAssignment.resolve(pairs, layers: m.layerNames, base: m.precisions)
                        made.append(Configuration(name: prefix + text + (ends.map { "-ends\($0)" } ?? ""), modelName: m.name, spec: m.spec, inputShape: m.inputShape,
                                                  layerNames: m.layerNames, precisions: ps, options: options))
                    }
                }
                var output = try add(made, ws)
                if let ends, m.layerNames.count > 1 {
                    // The names give the varied layers' pair and the ends: say what each part means.
                    output.text += "\nnote: wWaA in a name is the precision of the layers matching \(patterns.joined(separator: ",")); "
                        + "-ends\(ends): \(m.layerNames.first!) and \(m.layerNames.last!) are w\(ends)a\(ends) (see the precision column)"
                }
                return output
            },
            CommandSpec(
                group: "config", verb: "random", synopsis: "config random MODEL n=N [w=LIST] [a=LIST] [prefix=TEXT]",
                abstract: "Add N configurations with random mixed per-layer precisions, drawn from the session seed.",
                options: ["n", "w", "a", "prefix"], completes: [.model]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let m = try ws.state.model(inv.words[0])
                let n = try inv.int("n", default: 8, in: 1...1000)
                let wl = try inv.list("w") ?? ["1", "t", "2", "4", "8", "32"]
                let al = try inv.list("a") ?? ["2", "4", "8", "32"]
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
                discussion: """
                csv=FILE also writes the table for programs: columns config, precision, params, weights_kib, compression,
                macs, bops, compute_uj, memory_uj, energy_uj; numbers in full precision without grouping or units.
                """,
                options: ["csv"], optionValues: ["csv": .path]
            ) { inv, ws in
                try inv.expectWords(0...0)
                // Each configuration's cost once (4,096 per-layer configurations take seconds), both tables from it.
                let rows = try costRows(ws.state.configs, ws)
                let wrote = try inv.string("csv").map { "\n" + (try ws.writeFile(costTable(rows, plain: true).csv(), to: $0)) } ?? ""
                return CommandOutput(costTable(rows).render() + "\n" + footer + wrote)
            },
            CommandSpec(
                group: "config", verb: "show", synopsis: "config show NAME",
                abstract: "Show a configuration in canonical form, with its per-layer cost report.",
                completes: [.config]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let c = try ws.state.config(inv.words[0])
                return CommandOutput("\(c.name): \(c.canonicalText)\n" + (try ws.state.cost(c)).render())
            },
            CommandSpec(
                group: "config", verb: "remove", synopsis: "config remove NAME… | all",
                abstract: "Remove configurations from the set (their stored runs stay in the results database).",
                completes: [.configs]
            ) { inv, ws in
                try inv.expectWords(1...Int.max)
                let gone = Set(try ws.state.configs(inv.words).map(\.name))
                ws.state.remove(configurations: gone)
                return CommandOutput(text: "removed \(gone.count); \(ws.state.configs.count) left", results: ["configs \(ws.state.configs.count)"])
            },
            CommandSpec(
                group: "config", verb: "rename", synopsis: "config rename OLD NEW",
                abstract: "Rename a configuration; its results in this session move with it.",
                discussion: """
                Runs already stored keep the name they were trained under; later runs are stored under NEW.
                """,
                completes: [.config]
            ) { inv, ws in
                try inv.expectWords(2...2)
                let (old, new) = (inv.words[0], inv.words[1])
                let c = try ws.state.config(old)
                guard isName(new) else { throw inv.usageError("NEW must be letters, digits, '_', '-' or '.', found '\(new)'") }
                if new != old, let other = ws.state.configs.first(where: { $0.name == new }) {
                    throw QuantlabError.runtime("a configuration named '\(new)' exists already (\(other.canonicalText)); remove it first (config remove \(new)) or choose another name")
                }
                ws.state.rename(configuration: c.name, to: new)
                return CommandOutput(text: "renamed \(old) to \(new)", results: ["config rename \(old) \(new)"])
            },
            CommandSpec(
                verb: "cost", synopsis: "cost CONFIG… | all",
                abstract: "Cost per inference: parameters, packed weight memory, MACs, bit operations, estimated energy (compute and memory); measured training time.",
                discussion: """
                One configuration: the per-layer report. Several: one line each.
                Training time is the CPU time per training image measured on this machine in the runs themselves
                (every recorded epoch of the configuration's definition in the results store); — before any run.
                It is a measurement, so it is shown but not part of the recorded result.
                """ + "\n" + footer,
                completes: [.configs]
            ) { inv, ws in
                let cs = try ws.state.configs(inv.words)
                if cs.count == 1 {
                    let r = try ws.state.cost(cs[0])
                    let time = try ws.state.trainingMilliseconds(cs[0], ws)
                    return CommandOutput(text: "\(cs[0].name): \(cs[0].precisionText)\n" + r.render()
                                         + "\ntraining time (measured, CPU): " + (time.map(Quantity.trainingTime.withUnit) ?? "— (not trained yet)"),
                                         results: ["cost \(cs[0].name) params \(r.parameters) bits \(r.weightBits) macs \(r.macs) bops \(r.bops) energy_pj \(f4(r.energyPJ)) compute_pj \(f4(r.computePJ)) memory_pj \(f4(r.memoryPJ))"])
                }
                return CommandOutput(try costTable(cs, ws, time: true).render() + "\n" + footer)
            },
        ]
    }

    static let footer = "Energy: an estimate per inference, compute (binary and ternary weights as XOR/multiplexer gates) plus memory (weights from DRAM, activations through SRAM at their bit widths), " + EnergyModel.source + ".\n" + CostReport.parametersNote

    /// Adds configurations to the set. A name already in the set is an error unless
    /// the definition is the same (then nothing changes): a name stands for one
    /// definition, so results recorded under it never change meaning.
    static func add(_ made: [Configuration], _ ws: Workspace) throws -> CommandOutput {
        var seen: [String: Configuration] = [:]
        for c in made where !isName(c.name) {
            throw QuantlabError.runtime("'\(c.name)' cannot name a configuration: use letters, digits, '_', '-' or '.', and not 'all' (which means every configuration)")
        }
        for c in made {
            if let twin = seen[c.name], twin.definition != c.definition {
                throw QuantlabError.runtime("the command makes two different configurations named '\(c.name)'; use prefix= or other names")
            }
            seen[c.name] = c
            guard let old = ws.state.configs.first(where: { $0.name == c.name }), old.definition != c.definition else { continue }
            throw QuantlabError.runtime("""
                a configuration named '\(c.name)' exists already with another definition: \(old.canonicalText) \
                (model \(old.modelName) = \(old.spec.text), input \(shapeText(old.inputShape))); \
                remove it first (config remove \(c.name)), rename it (config rename \(c.name) NEWNAME), or choose another name
                """)
        }
        try TrainingMethodOptionsParser.check(made)
        var added: [Configuration] = []
        for c in made where !ws.state.configs.contains(where: { $0.name == c.name }) && !added.contains(where: { $0.name == c.name }) {
            added.append(c)
        }
        // The table first: a Ctrl-C while it is computed fails the command, which must then leave the set as it was.
        let table = try costTable(made.filter { c in added.contains { $0.name == c.name } }, ws)
        ws.state.configs += added
        let unchanged = made.count - added.count
        var text = added.isEmpty ? "" : table.render()
        if unchanged > 0 { text += (text.isEmpty ? "" : "\n") + "\(unchanged) already defined identically, unchanged" }
        return CommandOutput(text: text, results: made.map { "config \($0.name) \($0.canonicalText)" })
    }

    /// Quantizer options of config add and grid: `perchannel=`, `stochastic=`, `pact=`
    /// (yes/no) and `binary=xnor|connect`.
    static func quantizerOptions(_ inv: Invocation) throws -> QuantizerOptions {
        var o = QuantizerOptions()
        o.perChannel = try inv.bool("perchannel", default: false)
        o.stochastic = try inv.bool("stochastic", default: false)
        o.pact = try inv.bool("pact", default: false)
        o.binaryConnect = try inv.choice("binary", ["xnor", "connect"], default: "xnor") == "connect"
        try TrainingMethodOptionsParser.apply(inv, to: &o)
        return o
    }

    /// Splits a precision schedule (`schedule=cpt:…`, `schedule=wWaA@E,…`) off the
    /// invocation; `schedule=constant|cosine|step` stays, as the learning-rate setting.
    static func precisionSchedule(_ inv: Invocation) throws -> (Invocation, PrecisionSchedule?) {
        guard let text = inv.string("schedule"), text.hasPrefix("cpt:") || text.contains("@") else { return (inv, nil) }
        var rest = inv
        rest.options["schedule"] = nil
        rest.optionOrder.removeAll { $0 == "schedule" }
        do { return (rest, try PrecisionSchedule(parsing: text)) } catch let e as QuantizationNotationError { throw inv.usageError(e.message) }
    }

    /// Configuration names: letters, digits, `_`, `-`, `.`.
    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s != "all" && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }

    /// A configuration's cost and its measured training time (nil when not asked for or not trained yet).
    struct CostRow { let config: Configuration; let cost: CostReport; let time: Double? }

    /// The costs of `cs` (and with `time` their measured training times, from the results store).
    static func costRows(_ cs: [Configuration], _ ws: Workspace, time: Bool = false) throws -> [CostRow] {
        try cs.map { c in
            try ws.checkInterrupted()     // 4,096 per-layer configurations take seconds
            return CostRow(config: c, cost: try ws.state.cost(c), time: time ? try ws.state.trainingMilliseconds(c, ws) : nil)
        }
    }

    /// The cost table of `cs` (and measured training time with `time`).
    static func costTable(_ cs: [Configuration], _ ws: Workspace, time: Bool = false) throws -> TextTable {
        costTable(try costRows(cs, ws, time: time), time: time)
    }

    /// One line per configuration; with `time` a column of measured training time. `plain`: for a CSV,
    /// read by programs: snake_case headers with their units (`weights_kib`, `energy_uj`) and
    /// numbers in full precision without grouping (`Quantity.plain`), as `compare format=csv`.
    static func costTable(_ rows: [CostRow], time: Bool = false, plain: Bool = false) -> TextTable {
        let q: [Quantity] = [.parameters, .memory, .compression, .macs, .bops]
        let header = plain ? ["params", "weights_kib", "compression", "macs", "bops", "compute_uj", "memory_uj", "energy_uj"]
                           : q.map(\.header) + ["compute µJ", "memory µJ", Quantity.energy.header]
        var t = TextTable(header: ["config", "precision"] + header
                                  + (time ? [plain ? "train_ms_per_img" : Quantity.trainingTime.header] : []),
                          alignments: [.left, .left] + Array(repeating: .right, count: time ? 9 : 8))
        for row in rows {
            let (c, r) = (row.config, row.cost)
            let v = [Double(r.parameters), Double(r.weightBits), r.compression, Double(r.macs), Double(r.bops)]
            var cells = [c.name, c.precisionSummary] + zip(q, v).map { plain ? $0.plain($1) : $0.format($1) }
                + [r.computePJ, r.memoryPJ, r.energyPJ].map { plain ? Quantity.energy.plain($0) : Quantity.energy.format($0) }
            if time {
                cells.append(row.time.map { plain ? Quantity.trainingTime.plain($0) : Quantity.trainingTime.format($0) } ?? (plain ? "" : "—"))
            }
            t.add(cells)
        }
        return t
    }
}
