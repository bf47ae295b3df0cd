import Quantization
import Trials

/// `weights=prox[:RHO0:GROWTH]`, `stq=LAMBDA[:MU]`, `prune=dmp:TARGET[:filter]` and
/// `method=conntra`: the training methods of issue 16 (second half) as configuration options.
enum TrainingMethodOptionsParser {
    static let keys = ["weights", "stq", "prune", "method"]

    static func apply(_ inv: Invocation, to o: inout QuantizerOptions) throws {
        func take<T>(_ r: Result<T, MethodOptionError>) throws -> T {
            switch r {
            case .success(let v): return v
            case .failure(let e): throw inv.usageError(e.message)
            }
        }
        if let text = inv.string("weights") { o.prox = try take(ProxSchedule.parse(text)) }
        if let text = inv.string("stq") { o.stq = try take(STQSettings.parse(text)) }
        if let text = inv.string("prune") { o.prune = try take(PruneSettings.parse(text)) }
        if let text = inv.string("method") {
            guard let m = TrainingMethod(rawValue: text) else {
                throw inv.usageError("option 'method' expects conntra (coordinate descent on ternary weights), found '\(text)'")
            }
            o.method = m
        }
        if o.prox != nil && o.stq != nil {
            throw inv.usageError("weights=prox and stq= both choose how binary/ternary weights train; give one")
        }
        if o.method == .conntra && (o.prox != nil || o.stq != nil || o.prune != nil) {
            throw inv.usageError("method=conntra trains ternary weights by coordinate descent alone; it does not combine with weights=, stq= or prune=")
        }
        if o.prox != nil && o.binaryConnect {
            throw inv.usageError("weights=prox generalises binary=connect (its limit); give one")
        }
    }
}

extension TrainingMethodOptionsParser {
    /// Refuses configurations whose training methods cannot train their model, before any
    /// is added (``Configuration/checkTrainingMethods(model:)``: the layer and the limit);
    /// a grid names every configuration it would refuse. Configurations without a method
    /// are not built.
    static func check(_ made: [Configuration]) throws {
        var refused: [String] = []
        for c in made {
            let o = c.options
            guard o.prox != nil || o.stq != nil || o.prune != nil || o.method != nil || o.precisionSchedule != nil || o.dual != nil else { continue }
            do { try c.checkTrainingMethods(model: try c.buildModel(seed: 0)) }
            catch let e as TrialError { refused.append(e.message) }
        }
        guard !refused.isEmpty else { return }
        if made.count == 1 { throw QuantlabError.runtime(refused[0]) }
        let shown = refused.prefix(4).joined(separator: "\n")
        let more = refused.count > 4 ? "\n… and \(refused.count - 4) more for the same kinds of reason" : ""
        throw QuantlabError.runtime("\(refused.count) of the \(made.count) configurations are refused, so none was added:\n\(shown)\(more)")
    }
}

extension TrainingMethodOptionsParser {
    /// Why `export` refuses a configuration trained with weights=, stq=, prune= or method=,
    /// and what to do instead; nil when it exports. `trained` is the run's ``TrialOutcome/trained``
    /// line (for STQ, the depths to fix in a configuration of their own).
    static func exportRefusal(_ c: Configuration, trained: String?) -> String? {
        let o = c.options
        var why: [String] = []
        if let p = o.prune {
            why.append("prune=\(p.text): its learned masks (a score per \(p.granularity == .filter ? "filter" : "weight")) are not in a .qlm or QONNX file, "
                       + "so the model read back would not be the one evaluated")
        }
        var fixed: String?
        if o.stq != nil {
            why.append("stq=: the depth each layer learned (binary or ternary, the `depth` of trial show's trained line) is not in a .qlm or QONNX file")
            // The depths it ended with, as a configuration of their own.
            let depth = trained?.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("depth ") }
            var precisions = c.precisions
            for pair in depth?.dropFirst(6).split(separator: " ") ?? [] {
                let kv = pair.split(separator: "=")
                guard kv.count == 2, let i = c.layerNames.firstIndex(of: String(kv[0])), let w = Precision(token: String(kv[1]), weights: true) else { continue }
                precisions[i].weight = w
            }
            if depth != nil {
                fixed = "config add \(c.name)-fixed \(c.modelName) " + zip(c.layerNames, precisions).map { "\($0)=\($1)" }.joined(separator: " ")
            }
        }
        if o.prox != nil || o.method == .conntra {
            why.append("\(o.prox != nil ? "weights=prox" : "method=conntra"): its weights are plain \(o.prox != nil ? "binary or ternary" : "ternary") codes, "
                       + "but reading such a file back into this training method is not implemented yet")
        }
        guard !why.isEmpty else { return nil }
        return "export: configuration '\(c.name)' cannot be exported yet. " + why.joined(separator: "; ") + ". Its cost is in cost and compare. "
            + "To deploy a model, train a configuration without these options (trial final NAME) and export that"
            + (fixed.map { ", e.g. with the depths it ended with: \($0)" } ?? "")
    }
}
