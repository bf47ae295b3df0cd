import Foundation
import Datasets
import Tensors

/// `data load | split | sample | info | show`.
enum DataCommands {
    static var specs: [CommandSpec] {
        [
            CommandSpec(
                group: "data", verb: "load", synopsis: "data load NAME [PATH] [labels=fine|coarse] [label=COLUMN] [x=… y=… x_test=… y_test=… layout=nchw|nhwc] [val=N]",
                abstract: "Load a dataset: fashion-mnist (default, installed), mnist, cifar10, cifar100, svhn, csv or npy from PATH.",
                discussion: """
                fashion-mnist reads /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
                The others read the files as distributed: IDX (.gz or not), CIFAR binary batches,
                SVHN .mat (v5), or a CSV file with a header and a label column (label=COLUMN).
                npy reads NumPy arrays from an .npz (numpy.savez or savez_compressed) or a directory of .npy
                files: x_train, y_train and optionally x_test, y_test (other names with x=, y=, x_test=,
                y_test=); images uint8 or float32, N×C×H×W or N×H×W×C (layout=, guessed when clear) or N×H×W;
                integer labels.
                A stratified validation set of val=N images (default 5000, 10% for small sets) is held
                out of the training split, seeded. Normalisation statistics come from the training split.
                """,
                options: ["labels", "label", "val", "x", "y", "x_train", "y_train", "x_test", "y_test", "layout"], completes: [.dataset, .path]
            ) { inv, ws in
                try inv.expectWords(0...2)
                let name = inv.words.first ?? "fashion-mnist"
                if DatasetLoader.canonicalName(name) == nil {
                    let hint = EditDistance.nearest(to: name, in: DatasetLoader.acceptedNames)
                        .map { "did you mean '\(DatasetLoader.canonicalName($0) ?? $0)'? " } ?? ""
                    throw inv.usageError("unknown dataset '\(name)'; \(hint)(datasets: \(DatasetLoader.builtinNames.joined(separator: ", ")))")
                }
                let path = try inv.words.count > 1 ? ws.inputPath(inv.words[1], installed: DatasetLoader.installedPath(of: name)) : nil
                var options: [String: String] = [:]
                if let l = inv.string("labels") { options["labels"] = l }
                if let l = inv.string("label") { options["label"] = l }
                for key in NumPyLoader.optionNames.sorted() { if let v = inv.string(key) { options[key] = v } }
                // Ctrl-C stops the load (see LoadCheck); the data loaded before stays in use.
                let check = LoadCheck(ws.checkInterrupted)
                let d: Dataset, loaded: DataState
                do {
                    d = try DatasetLoader.load(name, path: path, options: options, check: check)
                    let defaultVal = min(5000, d.train.count / 10)
                    let val = try inv.int("val", default: defaultVal, in: 0...max(0, d.train.count - d.classNames.count))
                    loaded = try makeDataState(d, holdOut: val, seed: ws.seed, check: check)
                } catch QuantlabError.interrupted {
                    throw loadInterrupted(inv.words.dropFirst().first ?? name, previous: ws.state.data)
                }
                ws.state.data = loaded
                ws.state.data?.source = DataSource(loader: name, path: path, options: options)
                let s = ws.state.data!
                return CommandOutput(text: summary(d) + "validation: \(s.validation.count) held out of train (stratified, seed \(ws.seed)); training on \(s.train.count)",
                                     results: ["dataset \(d.name) fingerprint \(d.fingerprint) train \(s.train.count) val \(s.validation.count) test \(d.test.count)"])
            },
            CommandSpec(
                group: "data", verb: "sample", synopsis: "data sample N | P% | all",
                abstract: "Choose the representative trial sample: N images or P% of the training split, stratified by class, seeded.",
                discussion: """
                The sample holds at least one image per class: N (or P% of the training split, rounded)
                must be from the number of classes to the size of the training split.
                """,
                completes: [.choice(["all", "10%"])]
            ) { inv, ws in
                try inv.expectWords(1...1)
                guard var s = ws.state.data else { throw QuantlabError.runtime("no dataset loaded; try: data load fashion-mnist") }
                let text = inv.words[0]
                let total = s.train.count, minimum = min(s.classes, total)
                if text == "all" {
                    s.sample = s.train; s.sampleText = "all"; s.sampleIndices = Array(0..<s.train.count)
                } else {
                    let n: Int
                    if text.hasSuffix("%") {
                        guard let p = Double(text.dropLast()), p > 0, p <= 100 else {
                            throw inv.usageError("expects a percentage in (0, 100], found '\(text)'")
                        }
                        n = sampleCount(fraction: p / 100, of: total)
                        guard n >= minimum else {
                            throw inv.usageError("\(text) of the \(total) training images is \(n); the sample needs at least one image per class (\(minimum)); use at least \(percentText(minimum, of: total))")
                        }
                    } else {
                        guard let v = Int(text), v >= minimum, v <= total else {
                            throw inv.usageError("expects a count from \(minimum) (one image per class) to \(total), a percentage like 10%, or all; found '\(text)'")
                        }
                        n = v
                    }
                    s.sampleIndices = stratifiedIndices(s.train, count: n, classes: s.classes, seed: ws.seed).chosen
                    s.sample = s.train.subset(s.sampleIndices)
                    s.sampleText = text
                    s.sampleSeed = ws.seed
                }
                ws.state.data = s
                let h = s.sample.classHistogram(classes: s.classes)
                return CommandOutput(text: sampleReport(s.sample, classNames: s.dataset.classNames),
                                     results: ["sample \(s.sample.count) per-class \(h.map(String.init).joined(separator: ","))"])
            },
            CommandSpec(
                group: "data", verb: "info", synopsis: "data info",
                abstract: "Summarise the loaded dataset: splits, classes, shape, files and fingerprint."
            ) { inv, ws in
                try inv.expectWords(0...0)
                let s = try ws.state.requireData()
                let norm = s.normalization.mean.indices.map { "\(f4(Double(s.normalization.mean[$0])))±\(f4(Double(s.normalization.std[$0])))" }
                return CommandOutput(summary(s.dataset) + """
                  in use: train \(s.train.count), validation \(s.validation.count), test \(s.dataset.test.count), trial sample \(s.sample.count) (\(s.sampleText))
                  normalisation (train split, per channel): \(norm.joined(separator: ", "))
                """)
            },
            CommandSpec(
                group: "data", verb: "show", synopsis: "data show INDEX [split=train|test|sample]",
                abstract: "Draw one image as text, with its label.",
                options: ["split"]
            ) { inv, ws in
                try inv.expectWords(1...1)
                let s = try ws.state.requireData()
                let which = inv.string("split", default: "train")
                let split: Split
                switch which {
                case "train": split = s.train
                case "test": split = s.dataset.test
                case "sample": split = s.sample
                case "validation", "val": split = s.validation
                default: throw inv.usageError("option 'split' expects train, test, sample or validation, found '\(which)'")
                }
                let i = try inv.intWord(0, "INDEX", in: 0...max(0, split.count - 1))
                return CommandOutput(renderImage(split, index: i, classNames: s.dataset.classNames))
            },
        ]
    }

    /// The smallest percentage (two decimals, rounded up) of `total` that gives at least `n`.
    static func percentText(_ n: Int, of total: Int) -> String {
        var p = (Double(n) / Double(max(total, 1)) * 10_000).rounded(.up) / 100
        while sampleCount(fraction: p / 100, of: total) < n && p < 100 { p += 0.01 }
        return String(format: "%g%%", p)
    }

    /// The error of a `data load` stopped by Ctrl-C: none of the new data was kept, and
    /// the dataset loaded before (if any) is still the one in use.
    static func loadInterrupted(_ what: String, previous: DataState?) -> QuantlabError {
        let kept = previous.map { s in
            "the previous dataset, \(s.dataset.name)\(s.source.path.map { " from \($0)" } ?? "") (fingerprint \(s.dataset.fingerprint)), is still loaded and in use"
        }
        return .runtime("data load interrupted (Ctrl-C): nothing of \(what) was kept; \(kept ?? "no dataset is loaded")")
    }

    static func makeDataState(_ d: Dataset, holdOut: Int, seed: UInt64, check: LoadCheck) throws -> DataState {
        let classes = d.classNames.count
        // stratifiedSplit's indices, kept for Slurm plans.
        let (val, rest) = holdOut > 0
            ? stratifiedIndices(d.train, count: holdOut, classes: classes, seed: seed)
            : ([], Array(0..<d.train.count))
        let train = holdOut > 0 ? d.train.subset(rest) : d.train
        return DataState(dataset: d, train: train, validation: holdOut > 0 ? d.train.subset(val) : Split.empty(sampleShape: d.sampleShape),
                         sample: train, sampleText: "all", normalization: try Normalization.compute(train, check: check),
                         heldOut: "\(d.name) \(d.fingerprint), validation \(holdOut) (seed \(seed))",
                         trainIndices: rest, validationIndices: val, sampleIndices: Array(rest.indices))
    }
}

extension DataState {
    /// The test split, or an error saying why a test-time command cannot run.
    func requireTest(for command: String) throws -> Split {
        guard dataset.test.count > 0 else {
            throw QuantlabError.runtime("\(command) needs test data, and the loaded dataset '\(dataset.name)' has 0 test samples; load a dataset with test data, or hold some out (csv: test=20%)")
        }
        return dataset.test
    }
}
