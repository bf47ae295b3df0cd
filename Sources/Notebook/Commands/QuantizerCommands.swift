import Foundation
import Formatting
import Tensors
import Networks
import Quantization
import Trials
import Datasets
import QONNX
import Analysis

/// `quantizer levels | histogram`, `export`, `evaluate`.
enum QuantizerCommands {
    static var specs: [CommandSpec] {
        [
            CommandSpec(
                group: "quantizer", verb: "levels", synopsis: "quantizer levels CONFIG|wWaA [layer=LAYER] [config=NAME|model=NAME] [perchannel=yes]",
                abstract: "The values a layer's weight and activation quantizers can produce, on your model's weights (teaching view).",
                discussion: """
                CONFIG: that configuration's precision of layer= (default: its first quantized layer), on its
                weights after trial final, else its initial weights. wWaA: that precision on layer= of config= or
                model= (or of the session's only model); with no model defined yet, on a He-initialised 16×1×3×3
                conv tensor from the session seed. Per channel (perchannel=yes, and binary weights) every output
                channel has its own scale and its own levels, listed per channel. Activation levels need the clip
                c, known once the configuration has trained. A line under each view says how the levels arise.
                """,
                options: ["config", "model", "layer", "perchannel"], completes: [.named(teachingWord)],
                optionValues: ["config": .config, "model": .model, "layer": .layer]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let v = try teachingTarget(inv, ws)
                let l = levels(v.weightQuantizer, weights: v.weights, channels: v.channels)
                let name = QuantizerExplanation.name(v.precision.weight, weights: true, binaryConnect: v.options.binaryConnect)
                var text = "weights of \(v.source): \(name)\n\(l.description)\n"
                text += QuantizerExplanation.weights(l, binaryConnect: v.options.binaryConnect) + "\n"
                text += QuantizerExplanation.activations(v.activationQuantizer, learnedClip: v.options.pact)
                return CommandOutput(text: text, results: ["levels \(v.precision.weight.token) count \(l.count.map(String.init) ?? "?")"])
            },
            CommandSpec(
                group: "quantizer", verb: "histogram",
                synopsis: "quantizer histogram CONFIG|wWaA [of=weights|activations] [layer=LAYER] [config=NAME|model=NAME] [perchannel=yes] [channel=K] [bins=N] [images=N] " + PlotOutput.synopsis,
                abstract: "Histograms of a layer's weights, or of the activations entering its quantizer, before and after quantization (teaching view).",
                discussion: """
                The weights are chosen as for quantizer levels. By default every level sits at the centre of a bin
                (several bins per level step when there are few levels, several levels per bin when there are many),
                so the quantized values show as one spike per level; bins=N gives N equal bins instead. With
                perchannel=yes, channel=K (default 1) shows one output channel with its own scale.
                of=activations runs the model (CONFIG's, trained after trial final, else initial; wWaA: that precision
                on layer=, or on every layer, of config= or model=) in evaluation mode on the first images=N (128)
                validation images and shows, for layer= or every quantized activation, the values entering the
                quantizer and after it, with the share clipped above c and below 0. svg=, png=, pdf= draw the same
                histograms as bars (one panel per layer).
                """,
                options: ["config", "model", "layer", "perchannel", "channel", "bins", "of", "images"] + PlotOutput.options,
                completes: [.named(teachingWord)],
                optionValues: ["config": .config, "model": .model, "layer": .layer, "of": .choice(["weights", "activations"])]
                    .merging(PlotOutput.optionValues) { a, _ in a }
            ) { inv, ws in
                try inv.expectWords(1...1)
                let bins = try inv.int("bins", in: 2...64)
                if try inv.choice("of", ["weights", "activations"], default: "weights") == "activations" {
                    if inv.string("channel") != nil { throw inv.usageError("channel= applies to weights; activations have no per-channel scale") }
                    return try ActivationProbe.run(inv, ws, bins: bins)
                }
                if inv.string("images") != nil { throw inv.usageError("images= applies to of=activations") }
                let v = try teachingTarget(inv, ws)
                let perChannel = v.options.perChannel || v.precision.weight == .binary
                var weights = v.weights, source = v.source, channels = v.channels
                if perChannel && v.channels > 1 {
                    let k = try inv.int("channel", default: 1, in: 1...v.channels)
                    let rows = v.weights.count / v.channels
                    weights = Array(v.weights[(k - 1) * rows..<k * rows])
                    source += ", output channel \(k) of \(v.channels) (its own scale)"
                    channels = 1
                } else if inv.string("channel") != nil {
                    throw inv.usageError("channel= needs per-channel scales (perchannel=yes, or binary weights)")
                }
                // One channel quantized alone gets the scale it has within the tensor: scales are per row.
                let h = weightHistogram(name: source, weights: weights, channels: channels, quantizer: v.weightQuantizer, bins: bins)
                let l = levels(v.weightQuantizer, weights: weights, channels: channels)
                let (width, height) = try PlotOutput.size(inv)
                let svg = SVGPlot.histogram(edges: h.edges, before: h.before, after: h.after,
                                            title: "\(source.prefix { $0 != "," }) weights (w\(v.precision.weight.token)) before and after quantization",
                                            xLabel: "weight value", names: ("float weights", "quantized"), width: width, height: height)
                let wrote = try PlotOutput.write(svg, inv, ws)
                return CommandOutput(h.description + "\n" + QuantizerExplanation.weights(l, binaryConnect: v.options.binaryConnect)
                                     + (wrote.isEmpty ? "" : "\n" + wrote))
            },
            CommandSpec(
                verb: "export", synopsis: "export CONFIG FILE.qlm | FILE.onnx [reference=N]",
                abstract: "Save a configuration trained by trial final: .qlm (weights packed at their bit width, checksummed) or .onnx (QONNX).",
                discussion: """
                FILE.onnx writes QONNX (ONNX IR 8, opset 13): Quant nodes (qonnx.custom_op.general) with scale,
                zero point and bit width on weights and activations, BipolarQuant for binary, ternary as a 2-bit
                narrow-range Quant; BatchNorm and pooling as standard ONNX ops. Its input is the raw values as
                stored, float32 N×C×H×W with N = 1 (pixels 0…255), normalised by the graph's first nodes.
                reference=N also writes FILE.reference.npz: the first N test images as the graph takes them (x,
                float32), their labels (y) and quantlab's logits for them (logits), to check a deployment against.
                """,
                options: ["reference"], completes: [.config, .path]
            ) { inv, ws in
                try inv.expectWords(2...2)
                let name = inv.words[0], file = inv.words[1].lowercased()
                guard let trainer = ws.state.results.trainers[name] else {
                    _ = try ws.state.config(name)   // an unknown name says so, with the known ones
                    throw QuantlabError.runtime("configuration '\(name)' has no trained model in this session; run: trial final \(name)")
                }
                guard let norm = ws.state.results.trainedWith[name] ?? ws.state.data?.normalization else {
                    throw QuantlabError.runtime("configuration '\(name)' has no record of its training data; run: trial final \(name)")
                }
                if let why = TrainingMethodOptionsParser.exportRefusal(trainer.configuration, trained: ws.state.results.finals[name]?.trained) {
                    throw QuantlabError.runtime(why)
                }
                let target = try ws.outputPath(inv.words[1])
                // A .qlm written under another name (out/k4.txt) was not recognisable by its name.
                guard file.hasSuffix(".qlm") || file.hasSuffix(".onnx") else {
                    throw inv.usageError("expects FILE.qlm or FILE.onnx, found '\(QuantlabError.clip(inv.words[1]))'")
                }
                if file.hasSuffix(".onnx") {
                    return try exportQONNX(name, trainer, norm, target, inv, ws)
                }
                let wrote = try target.write { path in
                    do { try ModelArchive.write(model: trainer.model, normalization: .init(mean: norm.mean, std: norm.std),
                                                options: trainer.configuration.options,
                                                classNames: ws.state.data?.dataset.classNames, to: path) }
                    catch { throw QuantlabError.runtime("\(inv.words[1]): \(error)") }
                }
                let size = (try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? Int) ?? 0
                let cost = try trainer.configuration.costReport()
                let packed = (cost.weightBits + 7) / 8
                return CommandOutput(text: "\(wrote): \(size) bytes (packed weights, biases and scales: \(packed) bytes; float would be \(cost.parameters * 4))",
                                     results: ["export \(name) bytes \(size)"])
            },
            CommandSpec(
                verb: "evaluate", synopsis: "evaluate FILE.qlm [split=test|validation]",
                abstract: "Load an exported model and measure its accuracy on the loaded dataset.",
                discussion: """
                The input is normalised with the statistics stored in the file (those of the data the
                model was trained on), so the result does not depend on how the dataset was split.
                The dataset must match the model: same sample shape, classes within its outputs.
                The model runs on the packed engine (int8 and XNOR-popcount kernels on the stored
                codes); the same model's float forward runs beside it, and both speeds are shown
                in images per CPU-second of one thread, with the kernel of each layer.
                """,
                options: ["split"], completes: [.path]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let data = try ws.state.requireData()
                let which = inv.string("split", default: "test")
                guard which == "test" || which == "validation" || which == "val" else {
                    throw inv.usageError("option 'split' expects test or validation, found '\(which)'")
                }
                let file = try ws.inputPath(inv.words[0])
                let packed: PackedModel, loaded: ModelArchive.Loaded
                do { (packed, loaded) = try PackedModel.read(from: file) }
                catch { throw QuantlabError.runtime("\(error)") }
                let split: Split
                if which == "test" {
                    split = try data.requireTest(for: "evaluate")
                } else {
                    guard data.validation.count > 0 else {
                        throw QuantlabError.runtime("evaluate split=validation needs a validation split; the dataset was loaded with val=0")
                    }
                    split = data.validation
                }
                guard loaded.model.inputShape == data.dataset.sampleShape else {
                    throw QuantlabError.runtime("\(inv.words[0]) expects samples of \(loaded.model.inputShape.map(String.init).joined(separator: "×")), the loaded dataset '\(data.dataset.name)' has \(data.dataset.sampleShape.map(String.init).joined(separator: "×"))")
                }
                let outputs = loaded.model.outputShape.reduce(1, *)
                guard data.classes <= outputs else {
                    throw QuantlabError.runtime("\(inv.words[0]) has \(outputs) outputs, the loaded dataset '\(data.dataset.name)' has \(data.classes) classes")
                }
                let e = PackedEvaluation(packed: packed, float: loaded.model, split: split, normalization: loaded.header.normalization)
                return CommandOutput(text: "\(inv.words[0]): \(loaded.model.spec.text)\naccuracy \(Quantity.accuracy.prose(e.packed.accuracy)), loss \(Quantity.loss.prose(e.packed.loss)) on \(split.count) images (\(which == "test" ? "test" : "validation") split, normalised as in training)\n" + e.report,
                                     results: ["evaluate \(inv.words[0]) acc \(f6(e.packed.accuracy))"])
            },
        ]
    }

    /// `export CONFIG FILE.onnx`: the QONNX graph of the trained model.
    static func exportQONNX(_ name: String, _ trainer: Trainer, _ norm: Normalization, _ target: OutputTarget,
                            _ inv: Invocation, _ ws: Workspace) throws -> CommandOutput {
        let bytes = ws.state.data.map { $0.train.storage.typeName == "uint8" } ?? true
        let wrote = try target.write { path in
            do {
                try QONNXExporter.write(trainer.model, input: .init(mean: norm.mean, std: norm.std, bytes: bytes),
                                        classNames: ws.state.data?.dataset.classNames, to: path)
            } catch { throw QuantlabError.runtime("\(inv.words[1]): \(error)") }
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? Int) ?? 0
        var also = ""
        let count = try inv.int("reference", default: 0, in: 0...100_000)
        if count > 0 {
            let data = try ws.state.requireData()
            let test = try data.requireTest(for: "export reference=")
            guard trainer.model.inputShape == data.dataset.sampleShape else {
                throw QuantlabError.runtime("\(name) takes samples of \(shapeText(trainer.model.inputShape)), the loaded dataset has \(shapeText(data.dataset.sampleShape))")
            }
            let subset = test.subset(Array(0..<min(count, test.count)))
            let logits = referenceLogits(trainer.model, subset, norm)
            let shape = [subset.count] + subset.sampleShape
            let npz = NPYWriter.npz([
                ("x", NPYWriter.npy(.float32((0..<subset.storage.valueCount).map { subset.storage.value(at: $0) }), shape: shape)),
                ("y", NPYWriter.npy(.int64(subset.labels.map(Int64.init)), shape: [subset.count])),
                ("logits", NPYWriter.npy(.float32(logits), shape: [subset.count, logits.count / max(subset.count, 1)])),
            ])
            let typed = inv.words[1].dropLast(5) + ".reference.npz"
            let reference = try ws.outputPath(String(typed))
            let wroteReference = try reference.write { path in
                do { try Data(npz).write(to: URL(fileURLWithPath: path)) } catch { throw QuantlabError.runtime("\(typed): \(error.localizedDescription)") }
            }
            also = "\n\(wroteReference): the first \(subset.count) test images (x), labels (y) and quantlab's logits"
        }
        return CommandOutput(text: "\(wrote): \(size) bytes, QONNX (ONNX IR \(QONNXExporter.irVersion), opset \(QONNXExporter.opsetVersion), \(QONNXExporter.qonnxDomain) v1); input float32 1×\(shapeText(trainer.model.inputShape)), raw values\(bytes ? " 0…255" : "") as stored" + also,
                             results: ["export \(name) onnx bytes \(size)"])
    }

    /// The model's logits for every sample of `split` (evaluation mode, normalised as in training).
    static func referenceLogits(_ model: Sequential, _ split: Split, _ norm: Normalization) -> [Float] {
        var out: [Float] = []
        var labels: [Int32] = []
        var rng = SplitMix64(seed: 0)
        var lo = 0
        while lo < split.count {
            let hi = min(split.count, lo + 250)
            model.withInput { x in
                fillBatch(split, indices: Array(lo..<hi)[...], normalization: norm, augmentation: nil, rng: &rng, x: &x, labels: &labels)
            }
            out += model.forward(training: false).data
            lo = hi
        }
        return out
    }

    /// Completion of the first word of the teaching views: configuration names and common precisions.
    static let teachingWord = "config-or-precision"
    static let teachingPrecisions = ["w1a32", "wta32", "w2a32", "w4a32", "w8a32", "w4a4", "w8a8"]

    /// What a teaching view shows: one layer's weights (trained or initial), its quantizers and where they came from.
    struct TeachingTarget {
        var precision: LayerPrecision
        var options: QuantizerOptions
        var weights: [Float]
        var channels: Int
        var source: String
        var weightQuantizer: WeightQuantizer
        var activationQuantizer: ActivationQuantizer
    }

    /// Resolves CONFIG|wWaA, layer=, config=, model= and perchannel= (see `quantizer levels`).
    static func teachingTarget(_ inv: Invocation, _ ws: Workspace) throws -> TeachingTarget {
        let word = inv.words[0]
        var config: Configuration?
        var precision = LayerPrecision(word)
        if precision == nil {
            guard let c = ws.state.configs.first(where: { $0.name == word }) else {
                throw inv.usageError("expects a configuration or a precision like w4a8, found '\(word)'")
            }
            config = c
        } else if let name = inv.string("config") {
            config = try ws.state.config(name)
        }
        var options = config?.options ?? QuantizerOptions()
        if let pc = try inv.bool("perchannel") { options.perChannel = pc }
        let model: Sequential?, modelName: String?, layerNames: [String], layerPrecisions: [LayerPrecision]
        var trained = false
        if let c = config {
            if let t = ws.state.results.trainers[c.name] { model = t.model; trained = true } else { model = try c.buildModel(seed: ws.seed) }
            modelName = c.name; layerNames = c.layerNames; layerPrecisions = c.precisions
        } else if let m = try inv.string("model").map({ try ws.state.model($0) }) ?? (ws.state.models.count == 1 ? ws.state.models.first!.value : nil) {
            let c = Configuration(name: m.name, modelName: m.name, spec: m.spec, inputShape: m.inputShape,
                                  layerNames: m.layerNames, precisions: m.precisions)
            model = try c.buildModel(seed: ws.seed)
            modelName = m.name; layerNames = m.layerNames; layerPrecisions = m.precisions
        } else {
            model = nil; modelName = nil; layerNames = []; layerPrecisions = []
        }
        guard let model, let modelName else {
            if inv.string("layer") != nil { throw inv.usageError("layer= needs a model: define one (model define / model preset), or give config=NAME") }
            var rng = SplitMix64(seed: ws.seed)
            let t = Initializer.heNormal(shape: [16, 1, 3, 3], fanIn: 9, rng: &rng)
            let p = precision!
            return TeachingTarget(precision: p, options: options, weights: t.data, channels: 16,
                                  source: "a He-initialised 16×1×3×3 conv (seed \(ws.seed); define a model to see its own)",
                                  weightQuantizer: makeWeightQuantizer(p.weight, options: options),
                                  activationQuantizer: makeActivationQuantizer(p.activation, options: options))
        }
        let defaultLayer = config.flatMap { c in zip(c.layerNames, c.precisions).first { $0.1.weight != .float }?.0 } ?? layerNames[0]
        let lname = inv.string("layer", default: defaultLayer)
        guard let i = layerNames.firstIndex(of: lname), let layer = model.layer(named: lname) as? WeightedLayer else {
            throw inv.usageError("no weighted layer '\(lname)' in \(modelName); its layers are \(layerNames.joined(separator: ", "))")
        }
        if precision == nil { precision = layerPrecisions[i] }
        let p = precision!
        // The trained activation quantizer carries the clip learned in training when its precision is the one asked for.
        let trainedActivation = trained && layer.activationQuantizer.precision == p.activation ? layer.activationQuantizer : nil
        let what = trained ? "trained weights (trial final)" : "initial weights (seed \(ws.seed))"
        return TeachingTarget(precision: p, options: options, weights: layer.weight.value.data, channels: layer.outputChannels,
                              source: "\(modelName).\(lname), \(what), \(Quantity.grouped(layer.weight.value.data.count)) values",
                              weightQuantizer: makeWeightQuantizer(p.weight, options: options),
                              activationQuantizer: trainedActivation ?? makeActivationQuantizer(p.activation, options: options))
    }
}
