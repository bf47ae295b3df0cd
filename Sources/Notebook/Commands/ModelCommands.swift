import Foundation
import Networks
import Quantization
import Tensors
import Trials

/// `model define | preset | show | list` and `precision`.
enum ModelCommands {
    static var specs: [CommandSpec] {
        [
            CommandSpec(
                group: "model", verb: "define", synopsis: "model define NAME = LAYER | LAYER | … [input=CxHxW]",
                abstract: "Define a network from layers separated by '|'.",
                discussion: """
                Layers: conv F kK [sS] [pP] [nobias] (padding defaults to K/2), dense N [nobias], bn, relu,
                htanh, maxpool W [sS], avgpool W [sS], gap (global average pooling, C×H×W → C), flatten,
                dropout P. Flattening before dense is implicit.
                Residual blocks: res(LAYERS) adds the block input to the output of LAYERS (identity
                shortcut); res(LAYERS ; SHORTCUT) adds SHORTCUT's output instead, e.g. a projection
                'conv 32 k1 s2 nobias | bn', or 'pad 32 s2' (every 2nd row and column, zero channels
                up to 32: He et al.'s option A). Both paths must give the same shape; blocks do not nest.
                The input shape defaults to the loaded dataset's. Conv and dense layers are named conv1,
                conv2, dense1, …, those of shortcuts shortcut1, shortcut2, …; each carries a weight and an
                activation precision (float by default). The last layer of a block's main path has its
                activation quantized after the add and the layers that follow the block (res(…) | relu);
                a shortcut's output is added unquantized.
                Example: model define net = conv 16 k3 | relu | maxpool 2 | dense 10
                Example: model define res = conv 16 k3 | bn | relu | res(conv 16 k3 | bn | relu | conv 16 k3 | bn) | relu | gap | dense 10
                """,
                freeForm: true
            ) { inv, ws in
                let rest = inv.rest
                guard let eq = rest.firstIndex(of: "=") else {
                    throw inv.usageError("expects NAME = LAYERS, e.g. model define net = conv 16 k3 | relu | dense 10")
                }
                let name = rest[..<eq].trimmingCharacters(in: .whitespaces)
                var body = String(rest[rest.index(after: eq)...])
                var input: [Int]? = nil
                if let r = body.range(of: #"\s+input=(\S+)\s*$"#, options: .regularExpression) {
                    let text = body[r].trimmingCharacters(in: .whitespaces).dropFirst("input=".count)
                    let dims = text.split(separator: "x").compactMap { Int($0) }
                    guard dims.count == text.split(separator: "x").count, !dims.isEmpty, dims.allSatisfy({ $0 > 0 }) else {
                        throw inv.usageError("input= expects dimensions like 1x28x28 or 784, found '\(text)'")
                    }
                    input = dims
                    body.removeSubrange(r)
                }
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw inv.usageError("NAME must be letters, digits, '_' or '-', found '\(name)'")
                }
                let spec = try ModelSpec(parsing: body.trimmingCharacters(in: .whitespaces))
                return try define(name: name, spec: spec, input: input, ws)
            },
            CommandSpec(
                group: "model", verb: "preset", synopsis: "model preset NAME [as=NEWNAME]",
                abstract: "Define a reference network: " + Presets.all.map(\.name).joined(separator: ", ") + ".",
                discussion: Presets.all.map { "\($0.name): \($0.about)\n  " + ($0.spec.count <= 240 ? $0.spec : "(model show lists its layers)") }
                    .joined(separator: "\n"),
                options: ["as"], completes: [.choice(Presets.all.map(\.name))]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let preset = inv.words[0]
                guard let spec = Presets.spec(preset), let shape = Presets.inputShape(preset) else {
                    throw inv.usageError("unknown preset '\(preset)'; presets are \(Presets.all.map(\.name).joined(separator: ", "))")
                }
                if let d = ws.state.data?.dataset, d.sampleShape != shape {
                    throw QuantlabError.runtime("preset \(preset) takes \(shapeText(shape)) inputs but \(d.name) has \(shapeText(d.sampleShape)); use model define with your own layers")
                }
                return try define(name: inv.string("as", default: preset), spec: spec, input: shape, ws)
            },
            CommandSpec(
                group: "model", verb: "show", synopsis: "model show NAME",
                abstract: "Show a model's layers, output shapes, parameters and layer precisions.",
                completes: [.model]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let m = try ws.state.model(inv.words[0])
                var rng = SplitMix64(seed: 0)
                let built = try Sequential(spec: m.spec, inputShape: m.inputShape,
                                           precision: { n in m.layerNames.firstIndex(of: n).map { m.precisions[$0] } ?? .float }, rng: &rng)
                let prec = zip(m.layerNames, m.precisions).map { "\($0)=\($1)" }.joined(separator: " ")
                return CommandOutput("model \(m.name): \(m.spec.text)\n" + built.summary() + "\nprecision: \(prec)")
            },
            CommandSpec(
                group: "model", verb: "list", synopsis: "model list",
                abstract: "List the models defined in this session."
            ) { inv, ws in
                try inv.expectWords(0...0)
                let lines = ws.state.models.keys.sorted().map { n -> String in
                    let m = ws.state.models[n]!
                    return "\(n)  input \(shapeText(m.inputShape))  \(m.spec.text)"
                }
                return CommandOutput(lines.isEmpty ? "no models; try: model preset fmnist2" : lines.joined(separator: "\n"))
            },
            CommandSpec(
                verb: "precision", synopsis: "precision MODEL [LAYER|PATTERN|first|last=wWaA …]",
                abstract: "Show or set the default per-layer precision of a model (e.g. conv1=w8a8 conv*=w4a4).",
                discussion: """
                W is the weight precision: 32 (float), 2…16 (k-bit uniform, symmetric), t (ternary, TWN) or
                1 (binary). A is the precision of the activation after the layer's nonlinearity: 32, 2…16
                (unsigned, clipped) or 1 (sign; replaces the ReLU, as in BinaryNet). Keys are layer names,
                patterns (conv*, *), or first/last (the common convention keeps them at 8 or 32 bits).
                An exact name beats first/last, which beat patterns; among patterns the later one wins.
                The activation precision of the last layer (the logits) is not applied, nor that of a
                residual shortcut's layers (shortcut1, …: their output is added unquantized).
                """,
                completes: [.model, .layer], freeForm: true
            ) { inv, ws in
                try inv.expectWords(1...1)
                var m = try ws.state.model(inv.words[0])
                if !inv.orderedOptions.isEmpty {
                    m.precisions = try PrecisionAssignment.resolve(inv.orderedOptions.map { ($0.key, $0.value) },
                                                                   layers: m.layerNames, base: m.precisions)
                    ws.state.models[m.name] = m
                }
                let text = zip(m.layerNames, m.precisions).map { "\($0)=\($1)" }.joined(separator: " ")
                return CommandOutput(text: "\(m.name): \(text)", results: ["precision \(m.name) \(text)"])
            },
        ]
    }

    static func define(name: String, spec: ModelSpec, input: [Int]?, _ ws: Workspace) throws -> CommandOutput {
        guard let shape = input ?? ws.state.data?.dataset.sampleShape else {
            throw QuantlabError.runtime("no input shape: load a dataset first, or add input=1x28x28")
        }
        if let old = ws.state.models[name], old.spec != spec || old.inputShape != shape {
            let users = ws.state.configurations(using: name).map(\.name)
            if !users.isEmpty {
                throw QuantlabError.runtime("""
                    model \(name) is used by configuration\(users.count == 1 ? "" : "s") \(users.joined(separator: ", ")) \
                    (defined as \(old.spec.text), input \(shapeText(old.inputShape))); \
                    redefining it would change what they mean: choose another name, or remove them first (config remove \(users.joined(separator: " ")))
                    """)
            }
        }
        var rng = SplitMix64(seed: 0)
        let built = try Sequential(spec: spec, inputShape: shape, rng: &rng)
        if let classes = ws.state.data?.classes, built.outputShape != [classes] {
            throw QuantlabError.runtime("model \(name) ends in \(shapeText(built.outputShape)) outputs but the dataset has \(classes) classes: end with dense \(classes)")
        }
        let names = built.weightedLayers.map(\.name)
        ws.state.models[name] = ModelDefinition(name: name, spec: spec, inputShape: shape, layerNames: names,
                                                precisions: Array(repeating: .float, count: names.count))
        let params = built.parameters.reduce(0) { $0 + $1.value.count }
        return CommandOutput(text: "model \(name): \(spec.text)\n" + built.summary(),
                             results: ["model \(name) layers \(names.joined(separator: ",")) params \(params)"])
    }
}
