import Foundation
import Tensors
import Networks
import Quantization
import Trials
import Datasets
import QONNX

/// `quantizer levels | histogram`, `export`, `evaluate`.
enum QuantizerCommands {
    static var specs: [CommandSpec] {
        [
            CommandSpec(
                group: "quantizer", verb: "levels", synopsis: "quantizer levels wWaA [config=NAME layer=LAYER] [perchannel=yes]",
                abstract: "Show the values a weight quantizer can produce for a layer's weights (teaching view).",
                discussion: "Without config=, uses a fresh He-initialised conv 16×1×3×3 tensor from the session seed.",
                options: ["config", "layer", "perchannel"], completes: [.choice(["w1a32", "wta32", "w2a32", "w4a32", "w8a32"])]
            ) { inv, ws in
                try inv.expectWords(1...1)
                guard let p = LayerPrecision(inv.words[0]) else { throw inv.usageError("expects a precision like w4a8, found '\(inv.words[0])'") }
                var o = QuantizerOptions()
                o.perChannel = try inv.bool("perchannel", default: false)
                let (weights, channels, source) = try layerWeights(inv, ws)
                let q = makeWeightQuantizer(p.weight, options: o)
                let l = levels(q, weights: weights, channels: channels)
                return CommandOutput(text: "weights of \(source), \(p.weight.family) \(p.weight.token)-bit:\n\(l.description)",
                                     results: ["levels \(p.weight.token) count \(l.count.map(String.init) ?? "?")"])
            },
            CommandSpec(
                group: "quantizer", verb: "histogram", synopsis: "quantizer histogram wWaA [config=NAME layer=LAYER] [bins=N]",
                abstract: "Text histograms of a layer's weights before and after quantization (teaching view).",
                options: ["config", "layer", "bins"]
            ) { inv, ws in
                try inv.expectWords(1...1)
                guard let p = LayerPrecision(inv.words[0]) else { throw inv.usageError("expects a precision like w4a8, found '\(inv.words[0])'") }
                let bins = try inv.int("bins", default: 16, in: 2...64)
                let (weights, channels, source) = try layerWeights(inv, ws)
                let q = makeWeightQuantizer(p.weight, options: QuantizerOptions())
                var out = [Float](repeating: 0, count: weights.count)
                weights.withUnsafeBufferPointer { w in out.withUnsafeMutableBufferPointer { o in
                    q.quantize(w.baseAddress!, into: o.baseAddress!, count: weights.count, channels: channels)
                } }
                return CommandOutput(WeightHistogram(title: "\(source): float vs \(p.weight.token)-bit", before: weights, after: out, bins: bins).description)
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
                let name = inv.words[0]
                guard let trainer = ws.state.results.trainers[name] else {
                    throw QuantlabError.runtime("configuration '\(name)' has no trained model in this session; run: trial final \(name)")
                }
                guard let norm = ws.state.results.trainedWith[name] ?? ws.state.data?.normalization else {
                    throw QuantlabError.runtime("configuration '\(name)' has no record of its training data; run: trial final \(name)")
                }
                let target = try ws.outputPath(inv.words[1])
                if inv.words[1].lowercased().hasSuffix(".onnx") {
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
                let packed: PackedModel, loaded: ModelArchive.Loaded
                do { (packed, loaded) = try PackedModel.read(from: ws.resolve(path: inv.words[0])) }
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
                return CommandOutput(text: "\(inv.words[0]): \(loaded.model.spec.text)\naccuracy \(f4(e.packed.accuracy)), loss \(f4(e.packed.loss)) on \(split.count) images (\(which == "test" ? "test" : "validation") split, normalised as in training)\n" + e.report,
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

    /// Weights of `layer=` in `config=`'s final-run model, else a fresh He-initialised conv tensor.
    static func layerWeights(_ inv: Invocation, _ ws: Workspace) throws -> ([Float], Int, String) {
        if let cname = inv.string("config") {
            let c = try ws.state.config(cname)
            let model = try ws.state.results.trainers[cname]?.model ?? c.buildModel(seed: ws.seed)
            let lname = inv.string("layer", default: c.layerNames[0])
            guard let layer = model.layer(named: lname) as? WeightedLayer else {
                throw inv.usageError("no weighted layer '\(lname)' in \(cname); layers are \(c.layerNames.joined(separator: ", "))")
            }
            return (layer.weight.value.data, layer.outputChannels, "\(cname).\(lname)")
        }
        var rng = SplitMix64(seed: ws.seed)
        let t = Initializer.heNormal(shape: [16, 1, 3, 3], fanIn: 9, rng: &rng)
        return (t.data, 16, "a He-initialised 16×1×3×3 conv")
    }
}
