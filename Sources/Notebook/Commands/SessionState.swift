import Foundation
import Tensors
import Datasets
import Networks
import Quantization
import Store
import Trials
import Cluster

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
    /// The dataset and its validation hold-out as results name them (``DataProvenance/dataset``).
    var heldOut = ""
    /// The seed the trial sample was drawn with (`data sample`).
    var sampleSeed: UInt64 = 0
    var classes: Int { dataset.classNames.count }
    /// How the dataset was loaded, and which of its training samples make `train`,
    /// `validation` and (indices into `train`) `sample`: what a Slurm plan records so
    /// that workers rebuild the same splits.
    var source = DataSource()
    var trainIndices: [Int] = []
    var validationIndices: [Int] = []
    var sampleIndices: [Int] = []
}

/// The `data load` call that made a dataset.
struct DataSource {
    var loader = ""
    var path: String?
    var options: [String: String] = [:]
}

/// The results of the session's runs, by configuration name.
struct RunResults {
    var trials: [String: TrialOutcome] = [:]
    var finals: [String: TrialOutcome] = [:]
    var trainers: [String: Trainer] = [:]     // final-run models, for export
    var trainedWith: [String: Normalization] = [:]   // the input normalisation each was trained with
    /// Per-seed outcomes of `trial run|final seeds=K` (K ≥ 2); `trials`/`finals` then hold their means.
    var seedTrials: [String: [TrialOutcome]] = [:]
    var seedFinals: [String: [TrialOutcome]] = [:]
    /// Differences in accuracy (fraction) below this are not resolvable: from the last seeds=K run.
    var noiseFloor: Double?
    /// Weighted layers of a model, least sensitive first, from its last `sensitivity` run.
    var layerOrder: [String: [String]] = [:]
    /// Every search of the session, in order (for `search compare`).
    var searches: [SearchSummary] = []
    /// Earlier outcomes a later run of the same configuration replaced, oldest first:
    /// `trial show` lists them (the store keeps every run as its own row anyway).
    var earlierTrials: [String: [TrialOutcome]] = [:]
    var earlierFinals: [String: [TrialOutcome]] = [:]

    /// Sets the shown trial outcome of `name`, keeping the one it replaces. Per-seed outcomes
    /// of an earlier `seeds=K` run go: they belong to the outcome replaced (`compare` showed
    /// their mean ± sd beside a later single run).
    mutating func setTrial(_ name: String, _ o: TrialOutcome) {
        if let old = trials[name] { earlierTrials[name, default: []].append(old) }
        trials[name] = o
        seedTrials[name] = nil
    }

    /// Sets the shown final outcome of `name`, keeping the one it replaces (see ``setTrial(_:_:)``).
    mutating func setFinal(_ name: String, _ o: TrialOutcome) {
        if let old = finals[name] { earlierFinals[name, default: []].append(old) }
        finals[name] = o
        seedFinals[name] = nil
    }

    /// Moves every result of configuration `old` to `new` (`config rename`); `new` == nil
    /// forgets them (`config remove`).
    mutating func move(_ old: String, to new: String?) {
        func rekey<V>(_ d: inout [String: V]) {
            let value = d.removeValue(forKey: old)
            if let new { d[new] = value }
        }
        rekey(&trials); rekey(&finals); rekey(&trainers); rekey(&trainedWith)
        rekey(&seedTrials); rekey(&seedFinals); rekey(&earlierTrials); rekey(&earlierFinals)
    }
}

/// Domain state of a notebook session: datasets, models, configurations, results.
public final class SessionState {
    var data: DataState?
    var models: [String: ModelDefinition] = [:]
    var configs: [Configuration] = []
    var results = RunResults()
    var settings = TrainingSettings()
    /// Defaults of `on=slurm` runs (`trial set partition=… time=…`).
    var slurm = SlurmOptions()
    var storePath = "quantlab.db"
    var sessionName: String?
    /// Ids of the runs this session began, by results-store file (resolved path): what
    /// `trial show` tells apart from other sessions' runs in the same file.
    var ownRuns: [String: Set<Int64>] = [:]
    private var openStore: ResultsStore?
    /// Cost reports by configuration definition: computed once per definition.
    private var costs: [String: CostReport] = [:]
    /// Row ids in the open store by configuration definition (see ``recordConfiguration(_:in:)``).
    private var recorded: [String: Int64] = [:]

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
        let unknown = words.filter { w in !configs.contains { $0.name == w } }.uniqued()
        if unknown.count > 1 {
            let known = configs.map(\.name)
            throw QuantlabError.runtime("no configurations named \(unknown.map { "'\($0)'" }.joined(separator: ", ")) (configurations: \(known.isEmpty ? "none; try: config add" : known.joined(separator: ", ")))")
        }
        return try words.uniqued().map { try config($0) }
    }

    /// The names a configuration's session results are kept under: its own, and a
    /// dual-precision network's low mode (`NAME@w2a2`).
    private static func resultNames(_ c: Configuration) -> [String] {
        [c.name] + (c.lowMode.map { [$0.name] } ?? [])
    }

    /// Renames a configuration and moves its session results with it.
    func rename(configuration old: String, to new: String) {
        guard old != new, let i = configs.firstIndex(where: { $0.name == old }) else { return }
        let before = Self.resultNames(configs[i])
        configs[i].name = new
        for (o, n) in zip(before, Self.resultNames(configs[i])) { results.move(o, to: n) }
    }

    /// Removes configurations and their session results: a name added again later may
    /// stand for another definition, and must not inherit these results (they stay in
    /// the results store, with the configuration they trained).
    func remove(configurations names: Set<String>) {
        let removed = configs.filter { names.contains($0.name) }
        configs.removeAll { names.contains($0.name) }
        for n in removed.flatMap(Self.resultNames) { results.move(n, to: nil) }
    }

    /// Refuses an analysis over results of different data. `trials` and `finals` name the
    /// configurations whose trial and final results `command` reads: the trials must share one
    /// sample, the finals one training set, and both one dataset and validation hold-out (a
    /// `data load` or `data sample` between runs changes them). Results of unknown data pass.
    /// Returns their dataset and hold-out (``DataProvenance/dataset``), nil when none is known.
    @discardableResult
    func requireOneData(_ command: String, trials: [String], finals: [String]) throws -> String? {
        let t = try oneData(command, "trial", trials, results.trials, current: data?.trialData.provenance)
        let f = try oneData(command, "final", finals, results.finals, current: data?.finalData.provenance)
        if let t, let f, t.dataset != f.dataset {
            throw QuantlabError.runtime("""
                \(command) would pair trial results on \(t.dataset) with final results on \(f.dataset); \
                run both on one dataset (trial run …, trial final …), or remove the configurations you do not want (config remove …)
                """)
        }
        return (t ?? f)?.dataset
    }

    /// The one data of the named configurations' `kind` results (nil: none known), or the
    /// error naming each data and whose results it holds. The error suggests running again
    /// the results not on `current` (what the same command would train on now), else those
    /// outside the largest group.
    private func oneData(_ command: String, _ kind: String, _ names: [String], _ runs: [String: TrialOutcome],
                         current: DataProvenance?) throws -> DataProvenance? {
        var groups: [(data: DataProvenance, names: [String])] = []
        for n in names {
            guard let d = runs[n]?.data else { continue }
            if let i = groups.firstIndex(where: { $0.data == d }) { groups[i].names.append(n) } else { groups.append((d, [n])) }
        }
        guard groups.count > 1 else { return groups.first?.data }
        func list(_ names: [String]) -> String {
            names.prefix(5).joined(separator: ", ") + (names.count > 5 ? " and \(names.count - 5) more" : "")
        }
        let kept = groups.firstIndex { $0.data == current } ?? groups.indices.max { groups[$0].names.count < groups[$1].names.count }!
        let others = groups.indices.filter { $0 != kept }.flatMap { groups[$0].names }
        // Commands to type: names separated by spaces (a comma list would not parse).
        let words = others.prefix(8).joined(separator: " ") + (others.count > 8 ? " …" : "")
        let each = groups.map { "\(list($0.names)) on \($0.data.description)" }.joined(separator: "; ")
        throw QuantlabError.runtime("""
            \(command) would mix \(kind) results of different data: \(each); run them again on the same data \
            (\(kind == "final" ? "trial final" : "trial run") \(words)), or remove those you do not want (config remove \(words))
            """)
    }

    /// Configurations built on the model named `name`.
    func configurations(using model: String) -> [Configuration] {
        configs.filter { $0.modelName == model }
    }

    /// The cost report of a configuration: from a trainer's model when one was built,
    /// else from a model built once for the purpose; cached by definition, so a search
    /// does not rebuild a model per rung to learn what it already knows.
    func cost(_ c: Configuration, trainer: Trainer? = nil) throws -> CostReport {
        if let known = costs[c.definition] { return known }
        let r = try trainer.map { $0.cost } ?? c.costReport()
        costs[c.definition] = r
        return r
    }

    /// The store row of the trainer's configuration: the existing row with this name
    /// and definition, or a new version of the name. Rows are never rewritten, so a
    /// run keeps the model, precision and cost it actually trained.
    func recordConfiguration(_ trainer: Trainer, in store: ResultsStore) throws -> Int64 {
        try recordConfiguration(trainer.configuration, trainer: trainer, in: store)
    }

    /// The store row of `c` (a trainer's configuration, or a dual network's low mode).
    func recordConfiguration(_ c: Configuration, trainer: Trainer?, in store: ResultsStore) throws -> Int64 {
        let key = store.path + "\u{0}" + c.name + "\u{0}" + c.definition
        if let id = recorded[key] { return id }
        let r = try cost(c, trainer: trainer)
        let id = try store.recordConfiguration(ConfigurationRecord(
            name: c.name, model: c.modelName, definition: c.definition, spec: c.canonicalText, precision: c.precisionText,
            params: r.parameters, weightBits: r.weightBits, macs: r.macs, bops: r.bops, energyPJ: r.energyPJ))
        recorded[key] = id
        return id
    }

    /// The configurations analysis treats as points (correlate, pareto, plots, compare):
    /// every configuration, and after each dual-precision network that has results its
    /// low mode (`NAME@w2a2`).
    var analysisConfigs: [Configuration] {
        configs.flatMap { c -> [Configuration] in
            guard let low = c.lowMode, results.trials[low.name] != nil || results.finals[low.name] != nil else { return [c] }
            return [c, low]
        }
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
        case .config: return configs.map(\.name)
        case .configs: return ["all"] + configs.map(\.name)
        case .named(QuantizerCommands.teachingWord): return configs.map(\.name) + QuantizerCommands.teachingPrecisions
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
