import Foundation
import Quantization
import Search
import Trials

/// The per-layer space of `search greedy | evolve | tpe`, `config perlayer` and
/// `sensitivity`: a model, the layers searched, the precisions each may take (most
/// precise first), the precision of the other layers and, for tpe, evolve and config
/// perlayer, training hyper-parameters tuned beside them (``TunedSetting``). An
/// assignment has one index per searched layer, then one per tuned setting; it becomes
/// a configuration named `pl-P1_P2_…` (one precision per searched layer, then the
/// tuned values: `pl-w8a8_w4a4_lr0.005`).
struct PerLayerSpace {
    let model: ModelDefinition
    let layers: [Int]             // indices into model.layerNames
    let choices: [LayerPrecision] // most precise first
    let base: [LayerPrecision]
    let settings: TrainingSettings
    /// Hyper-parameters searched beside the precisions (tune-lr=…, …).
    let tuned: [TunedSetting]

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
        tuned = try TunedSetting.parse(inv)
        // Most precise first: by weight bits then activation bits, descending (32 = float).
        choices = parsed.enumerated().sorted { a, b in
            let ka = (Self.bits(a.element.weight.token), Self.bits(a.element.activation.token))
            let kb = (Self.bits(b.element.weight.token), Self.bits(b.element.activation.token))
            return ka != kb ? ka > kb : a.offset < b.offset
        }.map(\.element)
    }

    /// Bits of a precision token (`t` counts as 1.58).
    static func bits(_ token: String) -> Double { token == "t" ? 1.58 : Double(token) ?? 32 }

    /// Choices per dimension: each searched layer's precisions, then each tuned setting's values.
    var choiceCounts: [Int] { Array(repeating: choices.count, count: layers.count) + tuned.map(\.values.count) }

    /// The number of assignments (a Double: a large space overflows an Int).
    var size: Double { choiceCounts.reduce(1.0) { $0 * Double($1) } }

    func precisions(_ assignment: [Int]) -> [LayerPrecision] {
        var p = base
        for (k, l) in layers.enumerated() { p[l] = choices[assignment[k]] }
        return p
    }

    /// The tuned settings' values as the configuration's training overrides.
    func overrides(_ assignment: [Int]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: tuned.enumerated().map { k, t in (t.key, t.values[assignment[layers.count + k]]) })
    }

    func name(_ assignment: [Int]) -> String {
        "pl-" + (layers.indices.map { choices[assignment[$0]].description }
                 + tuned.enumerated().map { k, t in t.label(assignment[layers.count + k]) }).joined(separator: "_")
    }

    /// `conv1=w8a8 conv2=w4a4 lr=0.005`: the assignment for a table.
    func describe(_ assignment: [Int]) -> String {
        (layers.enumerated().map { k, l in "\(model.layerNames[l])=\(choices[assignment[k]])" }
         + tuned.enumerated().map { k, t in "\(t.key)=\(t.values[assignment[layers.count + k]])" }).joined(separator: " ")
    }

    func configuration(_ precisions: [LayerPrecision], name: String, overrides: [String: String] = [:]) -> Configuration {
        Configuration(name: name, modelName: model.name, spec: model.spec, inputShape: model.inputShape,
                      layerNames: model.layerNames, precisions: precisions, overrides: overrides)
    }

    /// The assignment's configuration, named `name` (default its `pl-` name).
    func configuration(_ assignment: [Int], name: String? = nil) -> Configuration {
        configuration(precisions(assignment), name: name ?? self.name(assignment), overrides: overrides(assignment))
    }

    /// Every assignment, first dimension slowest (`pl-` names, as the searches make them).
    func allAssignments() -> [[Int]] {
        choiceCounts.reduce([[]]) { partial, n in partial.flatMap { p in (0..<n).map { p + [$0] } } }
    }

    /// The largest space `config perlayer` enumerates.
    static let enumerationLimit = 4096

    /// `config perlayer MODEL …`: the whole per-layer space as configurations, for an
    /// exhaustive ground truth (`search compare`).
    static var configSpec: CommandSpec {
        CommandSpec(
            group: "config", verb: "perlayer",
            synopsis: "config perlayer MODEL [layers=LIST] [choices=LIST] [base=wWaA] [tune-lr=LIST] [tune-batch=LIST] [tune-optimizer=LIST] [tune-augment=LIST]",
            abstract: "Add every per-layer assignment of a small space (named pl-P1_P2_… as the per-layer searches name them).",
            discussion: """
            The space is the one of search greedy | evolve | tpe: the layers matching layers= each take one of
            choices= (default w8a8,w4a4,w2a2), the others base=; tune-lr=, tune-batch=, tune-optimizer= and
            tune-augment= add training hyper-parameters as further dimensions (each value a training override of the
            configuration, e.g. pl-w8a8_w4a4_lr0.005). At most \(enumerationLimit) assignments: it is for a ground
            truth that search compare measures the searches against.
            """,
            options: options + TunedSetting.optionKeys, completes: [.model]
        ) { inv, ws in
            let space = try PerLayerSpace(inv, ws, settings: ws.state.settings)
            let size = space.size
            guard size <= Double(enumerationLimit) else {
                throw inv.usageError("the space has \(Invocation.number(size)) assignments; config perlayer enumerates at most \(enumerationLimit) (use fewer layers= or choices=, or a search)")
            }
            return try ConfigCommands.add(space.allAssignments().map { space.configuration($0) }, ws)
        }
    }

}

/// Trains the configurations a per-layer search proposes, through the run driver,
/// and counts what it spent: epochs, images and CPU seconds of training.
///
/// With cost=time an assignment's cost is its measured training time, so pricing an
/// assignment that never trained trains it first (min epochs, counted as the
/// search's compute); only `search greedy` accepts it (it prices what it trains).
final class PerLayerEvaluator: AssignmentEvaluator {
    let space: PerLayerSpace
    let driver: RunDriver
    let ws: Workspace
    let costKind: CostKind
    let line: Int?
    let scheduleEpochs: Int
    let minEpochs: Int
    private(set) var configs: [Configuration] = []
    private var index: [[Int]: Int] = [:]
    private var trainers: [Int: Trainer] = [:]
    private var lastMetric: [Int: Double?] = [:]
    private(set) var images = 0
    private(set) var epochs = 0
    private(set) var cpuSeconds = 0.0
    /// budget=SECONDSs: rungs start while the measured CPU seconds allow.
    var timeBudget: TimeBudget?
    var choiceCounts: [Int] { space.choiceCounts }

    init(space: PerLayerSpace, driver: RunDriver, ws: Workspace, costKind: CostKind, line: Int?, scheduleEpochs: Int,
         minEpochs: Int = 1) {
        self.space = space; self.driver = driver; self.ws = ws; self.costKind = costKind; self.line = line
        self.scheduleEpochs = scheduleEpochs; self.minEpochs = minEpochs
    }

    func configuration(for assignment: [Int]) throws -> Int {
        if let i = index[assignment] { return i }
        configs.append(space.configuration(assignment))
        index[assignment] = configs.count - 1
        return configs.count - 1
    }

    func cost(of assignment: [Int]) throws -> Double {
        let c = space.configuration(assignment)
        if costKind == .time, try ws.state.trainingMilliseconds(c, ws) == nil {
            let id = try configuration(for: assignment)
            _ = try advance(configs: [id], toEpochs: max(minEpochs, trainers[id]?.epochsDone ?? 0))
        }
        return try ws.state.cost(c, costKind, ws)
    }

    func advance(config: Int, toEpochs epochs: Int) throws -> Double? { try advance(configs: [config], toEpochs: epochs)[0] }

    func admitsRung(epochs: Int) -> Bool {
        timeBudget?.admits(epochs: epochs, imagesPerEpoch: driver.data.train.count, spentSeconds: cpuSeconds, spentImages: images) ?? true
    }

    func advance(configs ids: [Int], toEpochs target: Int) throws -> [Double?] {
        let jobs = try ids.map { i -> TrialJob in
            if trainers[i] == nil {
                trainers[i] = try Trainer(configuration: configs[i], settings: space.settings, seed: ws.seed, scheduleEpochs: scheduleEpochs)
            }
            let extra = max(0, target - trainers[i]!.epochsDone)
            images += extra * driver.data.train.count
            epochs += extra
            return TrialJob(trainer: trainers[i]!, epochs: target, evaluateTest: false)
        }
        let outcomes = try driver.run(jobs, line: line)
        if outcomes.contains(where: { $0.status == .interrupted }) { throw QuantlabError.interrupted }
        return zip(ids, outcomes).map { i, o in
            cpuSeconds += o.epochs.reduce(0) { $0 + $1.cpuSeconds }
            // No new epoch (trained that far already, e.g. to measure its time): the last metric stands.
            if o.status == .diverged { lastMetric[i] = .some(nil) }
            else if let m = o.last?.validationAccuracy { lastMetric[i] = m }
            return lastMetric[i] ?? nil
        }
    }
}
