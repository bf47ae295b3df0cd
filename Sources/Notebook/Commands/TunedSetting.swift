import Trials

/// A training hyper-parameter that joins a search's space beside the per-layer
/// precisions (budget-limited NAS + HPO): `tune-lr=0.001,0.002,0.005`,
/// `tune-batch=32,64`, `tune-optimizer=adam,sgd`, `tune-augment=no,yes`. Each value
/// becomes the configuration's override of that training setting, so it is part of
/// the configuration's definition (store rows, `config show`) and of its name
/// (`…_lr0.005_b32_sgd_aug`).
struct TunedSetting: Equatable {
    /// The training setting (`TrainingSettings.apply` key).
    let key: String
    /// The values, as overrides, in the order given.
    let values: [String]

    /// Option key → setting key, in the order a name lists them.
    static let options: [(option: String, setting: String)] = [
        ("tune-lr", "lr"), ("tune-batch", "batch"), ("tune-optimizer", "optimizer"), ("tune-augment", "augment"),
    ]
    static var optionKeys: [String] { options.map(\.option) }

    /// The tuned settings the command gives (none when it gives no tune-… option).
    static func parse(_ inv: Invocation) throws -> [TunedSetting] {
        try options.compactMap { option, key in
            guard let texts = try inv.list(option) else { return nil }
            let values = try texts.map { text -> String in
                let value = key == "augment" ? Invocation.yesNo(text).map { String($0) } ?? text : text
                var probe = TrainingSettings()
                do { try probe.apply([key: value]) } catch let e as TrialError {
                    throw inv.usageError("\(option)=: '\(text)': \(e.message)")
                }
                return value
            }
            guard Set(values).count == values.count else { throw inv.usageError("\(option)=: a value is listed twice") }
            return TunedSetting(key: key, values: values)
        }
    }

    /// The value's part of a configuration name: `lr0.005`, `b32`, `sgd`, `aug` / `noaug`.
    func label(_ index: Int) -> String {
        let v = values[index]
        switch key {
        case "lr": return "lr" + v
        case "batch": return "b" + v
        case "augment": return v == "true" ? "aug" : "noaug"
        default: return v
        }
    }
}

extension TunedSetting {
    /// Every configuration with every combination of the tuned values as overrides
    /// (first setting slowest), named `NAME_lr0.005_b32`: the candidates of a search
    /// over configurations × hyper-parameters. Without tuned settings, `configs` unchanged.
    static func expand(_ configs: [Configuration], _ tuned: [TunedSetting]) -> [Configuration] {
        guard !tuned.isEmpty else { return configs }
        let combinations = tuned.reduce([[Int]]([[]])) { partial, t in partial.flatMap { p in t.values.indices.map { p + [$0] } } }
        return configs.flatMap { c in
            combinations.map { combination in
                var variant = c
                for (t, i) in zip(tuned, combination) { variant.overrides[t.key] = t.values[i] }
                variant.name = ([c.name] + zip(tuned, combination).map { $0.label($1) }).joined(separator: "_")
                return variant
            }
        }
    }
}
