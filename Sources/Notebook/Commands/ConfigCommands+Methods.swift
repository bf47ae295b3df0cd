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
