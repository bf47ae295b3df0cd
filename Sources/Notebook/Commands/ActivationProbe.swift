import Foundation
import Analysis
import Datasets
import Formatting
import Networks
import Quantization
import Tensors
import Trials

/// `quantizer histogram … of=activations`: the values entering each activation quantizer
/// of the user's model on a batch of real images, and what the quantizer made of them.
enum ActivationProbe {
    /// One probed quantizer: its layer, precision and what went in and came out.
    struct Probe {
        var layer: String
        var quantizer: ActivationQuantizer
        var inputs: [Float] = []
        var outputs: [Float] = []
    }

    /// Runs the configuration's model (trained after `trial final`, else initial) in
    /// evaluation mode on the first `images` validation images (training images when
    /// there is no validation split), normalised as in training, and returns the text
    /// histograms, the recorded results and the SVG panels.
    static func run(_ inv: Invocation, _ ws: Workspace, bins: Int?) throws -> CommandOutput {
        let data = try ws.state.requireData()
        let (config, model, what) = try target(inv, ws)
        guard model.inputShape == data.dataset.sampleShape else {
            throw QuantlabError.runtime("\(config.name) takes samples of \(shapeText(model.inputShape)), the loaded dataset has \(shapeText(data.dataset.sampleShape))")
        }
        let nodes = model.allLayers.compactMap { $0 as? QuantizeActivation }
        let layer = inv.string("layer")
        let chosen = nodes.filter { layer == nil || $0.owner.name == layer }
        guard !chosen.isEmpty else {
            let quantized = nodes.map(\.owner.name)
            throw inv.usageError("\(config.name) quantizes no activation\(layer.map { " of \($0)" } ?? "") "
                + "(a32 activations and the logits layer's are not quantized); "
                + (quantized.isEmpty ? "give a precision with quantized activations, e.g. w8a4 config=\(config.name)"
                                     : "its quantized activations: \(quantized.joined(separator: ", "))"))
        }
        let split = data.validation.count > 0 ? data.validation : data.train
        let n = min(try inv.int("images", default: 128, in: 1...2000), split.count)
        guard n > 0 else { throw QuantlabError.runtime("the loaded dataset has no images to run through \(config.name)") }
        let norm = ws.state.results.trainedWith[config.name] ?? data.normalization
        var probes = chosen.map { Probe(layer: $0.owner.name, quantizer: $0.owner.activationQuantizer) }
        for (k, node) in chosen.enumerated() {
            node.probe = { x, y in probes[k].inputs += x; probes[k].outputs += y }
        }
        defer { for node in chosen { node.probe = nil } }
        var labels: [Int32] = []
        var rng = SplitMix64(seed: 0)
        model.withInput { x in
            fillBatch(split, indices: Array(0..<n)[...], normalization: norm, augmentation: nil, rng: &rng, x: &x, labels: &labels)
        }
        model.forward(training: false)

        let splitName = data.validation.count > 0 ? "validation" : "training"
        let (width, height) = try PlotOutput.size(inv)
        var text: [String] = [], results: [String] = [], svgs: [String] = []
        for p in probes {
            let clip = (p.quantizer as? UniformActivationQuantizer).map { $0.clip ?? $0.lastClip }
            let h = ActivationHistogram(name: "\(config.modelName).\(p.layer) activation, \(what), first \(n) \(splitName) images",
                                        inputs: p.inputs, outputs: p.outputs, precision: p.quantizer.precision, clip: clip, bins: bins)
            text.append(h.description + "\n" + explanation(p.quantizer, clip: clip, learnedClip: config.options.pact))
            results.append("activations \(config.name) \(p.layer) a\(p.quantizer.precision.token) values \(h.count) clip \(clip.map { f4(Double($0)) } ?? "-") "
                           + "above \(f6(h.clippedAbove)) below \(f6(h.clippedBelow))")
            let marks = clip.map { [(x: Double($0), label: "c = " + Quantity.value.format(Double($0)))] } ?? []
            svgs.append(SVGPlot.histogram(edges: h.histogram.edges, before: h.histogram.before, after: h.histogram.after,
                                          title: "\(config.name) \(p.layer) activations (a\(p.quantizer.precision.token)), \(n) \(splitName) images",
                                          xLabel: "activation value", names: ("entering the quantizer", "after quantization"),
                                          marks: marks, width: width, height: height))
        }
        let wrote = try PlotOutput.write(svgs.count == 1 ? svgs[0] : SVGPlot.panels(svgs, columns: 2), inv, ws)
        return CommandOutput(text: text.joined(separator: "\n\n") + (wrote.isEmpty ? "" : "\n" + wrote), results: results)
    }

    /// How the levels arise, with the clip this run used: an untrained k-bit quantizer
    /// has no clip of its own, and evaluation takes the batch maximum.
    static func explanation(_ q: ActivationQuantizer, clip: Float?, learnedClip: Bool) -> String {
        guard let u = q as? UniformActivationQuantizer, u.clip == nil, let clip else {
            return QuantizerExplanation.activations(q, learnedClip: learnedClip)
        }
        let used = UniformActivationQuantizer(bits: u.bits, learnedClip: learnedClip)
        used.clip = clip
        return QuantizerExplanation.activations(used, learnedClip: learnedClip) + "\n(untrained, so evaluation used the batch maximum as c)"
    }

    /// The configuration whose model runs, the model, and what its weights are. CONFIG:
    /// that configuration. wWaA: that precision on layer= (every weighted layer when
    /// layer= is absent) of config= or model= (or the session's only model); its trained
    /// model when training left exactly these precisions, else the initial weights.
    static func target(_ inv: Invocation, _ ws: Workspace) throws -> (Configuration, Sequential, String) {
        let word = inv.words[0]
        var config: Configuration
        if let p = LayerPrecision(word) {
            if let name = inv.string("config") {
                config = try ws.state.config(name)
            } else if let m = try inv.string("model").map({ try ws.state.model($0) }) ?? (ws.state.models.count == 1 ? ws.state.models.first!.value : nil) {
                config = Configuration(name: m.name, modelName: m.name, spec: m.spec, inputShape: m.inputShape,
                                       layerNames: m.layerNames, precisions: m.precisions)
            } else {
                throw inv.usageError("of=activations needs a model: define one (model define / model preset), or give config=NAME")
            }
            if let layer = inv.string("layer") {
                guard let i = config.layerNames.firstIndex(of: layer) else {
                    throw inv.usageError("no weighted layer '\(layer)' in \(config.modelName); its layers are \(config.layerNames.joined(separator: ", "))")
                }
                config.precisions[i] = p
            } else {
                config.precisions = config.precisions.map { _ in p }
            }
        } else {
            guard let c = ws.state.configs.first(where: { $0.name == word }) else {
                throw inv.usageError("expects a configuration or a precision like w4a8, found '\(word)'")
            }
            config = c
        }
        if let pc = try inv.bool("perchannel") { config.options.perChannel = pc }
        if let t = ws.state.results.trainers[config.name], t.configuration.precisions == config.precisions,
           t.configuration.options == config.options {
            return (config, t.model, "trained weights (trial final)")
        }
        return (config, try config.buildModel(seed: ws.seed), "initial weights (seed \(ws.seed))")
    }
}
