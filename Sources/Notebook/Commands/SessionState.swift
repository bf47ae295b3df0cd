import Foundation
import Tensors
import Datasets
import Networks
import Quantization
import Store
import Trials

/// A model defined in the session: its spec, input shape and the default
/// precision of each weighted layer (set with `precision`).
struct ModelDefinition {
    var name: String
    var spec: ModelSpec
    var inputShape: [Int]
    var layerNames: [String]
    var precisions: [LayerPrecision]
}

/// The data a session trains on, derived from the loaded dataset by `data split`
/// and `data sample`.
struct DataState {
    var dataset: Dataset
    var train: Split          // training split minus the validation hold-out
    var validation: Split
    var sample: Split         // the representative trial sample (train by default)
    var sampleText: String
    var normalization: Normalization
    var classes: Int { dataset.classNames.count }
}

/// The results of the session's runs, by configuration name.
struct RunResults {
    var trials: [String: TrialOutcome] = [:]
    var finals: [String: TrialOutcome] = [:]
    var trainers: [String: Trainer] = [:]     // final-run models, for export
    var trainedWith: [String: Normalization] = [:]   // the input normalisation each was trained with
}

/// Domain state of a notebook session: datasets, models, configurations, results.
public final class SessionState {
    var data: DataState?
    var models: [String: ModelDefinition] = [:]
    var configs: [Configuration] = []
    var results = RunResults()
    var settings = TrainingSettings()
    var storePath = "quantlab.db"
    var sessionName: String?
    private var openStore: ResultsStore?

    init() {}

    func requireData() throws -> DataState {
        guard let data else { throw QuantlabError.runtime("no dataset loaded; try: data load fashion-mnist") }
        return data
    }

    func model(_ name: String) throws -> ModelDefinition {
        guard let m = models[name] else {
            let known = models.keys.sorted()
            let hint = EditDistance.nearest(to: name, in: known).map { "; did you mean '\($0)'?" } ?? ""
            throw QuantlabError.runtime("no model named '\(name)'\(hint) (models: \(known.isEmpty ? "none; try: model preset fmnist2" : known.joined(separator: ", ")))")
        }
        return m
    }

    func config(_ name: String) throws -> Configuration {
        guard let c = configs.first(where: { $0.name == name }) else {
            let known = configs.map(\.name)
            let hint = EditDistance.nearest(to: name, in: known).map { "; did you mean '\($0)'?" } ?? ""
            throw QuantlabError.runtime("no configuration named '\(name)'\(hint) (configurations: \(known.isEmpty ? "none; try: config add" : known.joined(separator: ", ")))")
        }
        return c
    }

    /// Configurations named by the words (`all` for every one), in set order.
    func configs(_ words: [String]) throws -> [Configuration] {
        if words.isEmpty || words == ["all"] {
            guard !configs.isEmpty else { throw QuantlabError.runtime("no configurations yet; try: config grid MODEL w=2,4,8,32 a=32") }
            return configs
        }
        return try words.map { try config($0) }
    }

    /// The results database, opened on first use.
    func store(_ ws: Workspace) throws -> ResultsStore {
        if let openStore { return openStore }
        let s = try ResultsStore(path: ws.resolve(path: storePath))
        _ = try s.markInterrupted()
        openStore = s
        return s
    }

    func openStore(path: String, _ ws: Workspace) throws -> ResultsStore {
        openStore = nil
        storePath = path
        return try store(ws)
    }

    func names(_ kind: ArgKind) -> [String] {
        switch kind {
        case .model: return models.keys.sorted()
        case .config: return ["all"] + configs.map(\.name)
        case .dataset: return DatasetLoader.builtinNames
        case .layer: return models.values.flatMap(\.layerNames).uniqued()
        default: return []
        }
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

/// Fixed-precision number formatting for results (deterministic text).
func f4(_ x: Double) -> String { String(format: "%.4f", x) }
func f6(_ x: Double) -> String { String(format: "%.6f", x) }
func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
