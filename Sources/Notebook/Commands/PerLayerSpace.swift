import Foundation
import Quantization
import Search
import Trials

/// The per-layer space of `search greedy | evolve` and `sensitivity`: a model, the
/// layers searched, the precisions each may take (most precise first), and the
/// precision of the other layers. Assignments become configurations named
/// `pl-P1_P2_…` (one precision per searched layer).
struct PerLayerSpace {
    let model: ModelDefinition
    let layers: [Int]             // indices into model.layerNames
    let choices: [LayerPrecision] // most precise first
    let base: [LayerPrecision]
    let settings: TrainingSettings

    static let options = ["layers", "choices", "base"]

    init(_ inv: Invocation, _ ws: Workspace, settings: TrainingSettings, choicesKey: String = "choices") throws {
        try inv.expectWords(1...1)
        let model = try ws.state.model(inv.words[0])
        self.model = model
        let patterns = try inv.list("layers") ?? ["*"]
        var picked: [Int] = []
        for p in patterns {
            let hits = model.layerNames.indices.filter { PrecisionAssignment.globMatch(p, model.layerNames[$0]) }
            guard !hits.isEmpty else {
                throw inv.usageError("layers=: '\(p)' matches no weighted layer of \(model.name); layers are \(model.layerNames.joined(separator: ", "))")
            }
            picked += hits.filter { !picked.contains($0) }
        }
        layers = picked.sorted()
        let texts = try inv.list(choicesKey) ?? ["w8a8", "w4a4", "w2a2"]
        let parsed = try texts.map { t -> LayerPrecision in
            guard let p = LayerPrecision(t) else {
                throw inv.usageError("\(choicesKey)=: '\(t)' is not a precision; expected a list like w8a8,w4a4,w2a2 (w: 32, 2…16, t, 1; a: 32, 2…16, 1)")
            }
            return p
        }
        guard Set(parsed).count == parsed.count else { throw inv.usageError("\(choicesKey)=: a precision is listed twice") }
        if let b = inv.string("base") {
            guard let p = LayerPrecision(b) else { throw inv.usageError("base=: '\(b)' is not a precision like w8a8") }
            base = Array(repeating: p, count: model.layerNames.count)
        } else {
            base = model.precisions
        }
        self.settings = settings
        // Most precise first: by weight bits then activation bits, descending (32 = float).
        choices = parsed.enumerated().sorted { a, b in
            let ka = (Self.bits(a.element.weight.token), Self.bits(a.element.activation.token))
            let kb = (Self.bits(b.element.weight.token), Self.bits(b.element.activation.token))
            return ka != kb ? ka > kb : a.offset < b.offset
        }.map(\.element)
    }

    /// Bits of a precision token (`t` counts as 1.58).
    static func bits(_ token: String) -> Double { token == "t" ? 1.58 : Double(token) ?? 32 }

    func precisions(_ assignment: [Int]) -> [LayerPrecision] {
        var p = base
        for (k, l) in layers.enumerated() { p[l] = choices[assignment[k]] }
        return p
    }

    func name(_ assignment: [Int]) -> String {
        "pl-" + assignment.map { choices[$0].description }.joined(separator: "_")
    }

    func configuration(_ precisions: [LayerPrecision], name: String) -> Configuration {
        Configuration(name: name, modelName: model.name, spec: model.spec, inputShape: model.inputShape,
                      layerNames: model.layerNames, precisions: precisions)
    }

    func configuration(_ assignment: [Int]) -> Configuration { configuration(precisions(assignment), name: name(assignment)) }

    /// Cost of a configuration in the unit of `cost=` (memory KiB, bit operations, µJ).
    static func cost(_ c: Configuration, kind: String, _ ws: Workspace) throws -> Double {
        let r = try ws.state.cost(c)
        switch kind {
        case "memory": return Double(r.weightBits) / 8192
        case "bops": return Double(r.bops)
        default: return r.energyPJ / 1e6
        }
    }
}

/// Trains the configurations a per-layer search proposes, through the run driver.
final class PerLayerEvaluator: AssignmentEvaluator {
    let space: PerLayerSpace
    let driver: RunDriver
    let ws: Workspace
    let costKind: String
    let line: Int?
    let scheduleEpochs: Int
    private(set) var configs: [Configuration] = []
    private var index: [[Int]: Int] = [:]
    private var trainers: [Int: Trainer] = [:]
    private(set) var images = 0
    var choiceCounts: [Int] { Array(repeating: space.choices.count, count: space.layers.count) }

    init(space: PerLayerSpace, driver: RunDriver, ws: Workspace, costKind: String, line: Int?, scheduleEpochs: Int) {
        self.space = space; self.driver = driver; self.ws = ws; self.costKind = costKind; self.line = line
        self.scheduleEpochs = scheduleEpochs
    }

    func configuration(for assignment: [Int]) throws -> Int {
        if let i = index[assignment] { return i }
        configs.append(space.configuration(assignment))
        index[assignment] = configs.count - 1
        return configs.count - 1
    }

    func cost(of assignment: [Int]) throws -> Double {
        try PerLayerSpace.cost(space.configuration(assignment), kind: costKind, ws)
    }

    func advance(config: Int, toEpochs epochs: Int) throws -> Double? { try advance(configs: [config], toEpochs: epochs)[0] }

    func advance(configs ids: [Int], toEpochs epochs: Int) throws -> [Double?] {
        let jobs = try ids.map { i -> TrialJob in
            if trainers[i] == nil {
                trainers[i] = try Trainer(configuration: configs[i], settings: space.settings, seed: ws.seed, scheduleEpochs: scheduleEpochs)
            }
            images += max(0, epochs - trainers[i]!.epochsDone) * driver.data.train.count
            return TrialJob(trainer: trainers[i]!, epochs: epochs, evaluateTest: false)
        }
        let outcomes = try driver.run(jobs, line: line)
        if outcomes.contains(where: { $0.status == .interrupted }) { throw QuantlabError.interrupted }
        return outcomes.map { o in o.status == .diverged ? nil : o.last?.validationAccuracy }
    }
}
