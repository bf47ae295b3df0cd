/// A dataset described in a few lines: name, shape, classes, counts per split with
/// their class histograms' extremes, files and fingerprint.
///
/// ```
/// dataset fashion-mnist: 10 classes, samples 1×28×28 uint8
///   train 60000 (6000–6000 per class)
///   test 10000 (1000–1000 per class)
///   classes: T-shirt/top, Trouser, Pullover, …
///   files: /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz, …
///   fingerprint fnv1a64 0123456789abcdef
/// ```
public func summary(_ d: Dataset) -> String {
    var out = "dataset \(d.name): \(d.classCount) classes, samples \(shapeText(d.sampleShape)) \(d.train.storage.typeName)\n"
    var splits = [("train", d.train)]
    if let v = d.validation { splits.append(("validation", v)) }
    splits.append(("test", d.test))
    for (name, s) in splits {
        let h = s.classHistogram(classes: d.classCount)
        let range = h.isEmpty ? "" : " (\(h.min() ?? 0)–\(h.max() ?? 0) per class)"
        out += "  \(name) \(s.count)\(range)\n"
    }
    let shown = d.classNames.prefix(20).joined(separator: ", ")
    out += "  classes: \(shown)\(d.classNames.count > 20 ? ", … (\(d.classNames.count))" : "")\n"
    out += "  files: \(d.files.joined(separator: ", "))\n"
    out += "  fingerprint fnv1a64 \(d.fingerprint)\n"
    return out
}

/// A sample's class histogram as text, with its size: what `data sample` shows.
public func sampleReport(_ sample: Split, classNames: [String]) -> String {
    "sample of \(sample.count), per class:\n" + renderHistogram(sample.classHistogram(classes: classNames.count), classNames: classNames)
}
