import Foundation
import Tensors
import Quantization

/// Saves a trained configuration as a `.qlm` file and loads it back ready for
/// evaluation. The byte layout is `QLMContainer`'s; this type maps a `Sequential`
/// to and from its records:
///
///     <layer>.weight         packed codes at the layer's bit width (Float32 for w32)
///     <layer>.bias           Float32
///     <layer>.act.clip       Float32 [1], the activation clip (k-bit activations, once known)
///     <bn>.gamma, <bn>.beta, <bn>.running_mean, <bn>.running_var     Float32
///     other parameters       Float32, under their parameter names
///
/// The header records the input normalisation the model was trained with, so
/// `evaluate` prepares any dataset's images exactly as training did.
///
/// A quantized layer is loaded with latent weights Q(w) rebuilt from the codes;
/// quantizers are idempotent, so the loaded model computes what the saved one did.
/// Before any layer is built, the spec and input shape are checked against the
/// records' shapes (`checkShapes`), so a damaged header cannot make the reader
/// allocate more than the file holds.
public enum ModelArchive {
    /// What `read` returns.
    public struct Loaded {
        public var model: Sequential
        public var header: ModelArchiveHeader
        public var classNames: [String]? { header.classNames }
    }

    /// The container for `model`. `options` default to what the model's quantizers say.
    public static func container(model: Sequential, normalization: ModelArchiveHeader.InputNormalization,
                                 options: QuantizerOptions? = nil, classNames: [String]? = nil,
                                 file: String = "model") throws(ArchiveError) -> QLMContainer {
        let header = ModelArchiveHeader(
            spec: model.spec.text, inputShape: model.inputShape,
            layers: model.weightedLayers.map {
                .init(name: $0.name, precision: LayerPrecision(weight: $0.weightQuantizer.precision,
                                                               activation: $0.activationQuantizer.precision).description)
            },
            options: options ?? inferredOptions(model), classNames: classNames, normalization: normalization)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json: [UInt8]
        do { json = Array(try encoder.encode(header)) } catch {    // only non-finite option values can fail
            throw ArchiveError(.malformed, file: file, offset: nil, expected: "a header JSON can hold", found: "\(error)")
        }
        var records: [ArchiveRecord] = []
        for layer in model.allLayers {
            if let w = layer as? WeightedLayer {
                let value = w.weight.value
                let codes = value.data.withUnsafeBufferPointer {
                    w.weightQuantizer.codes($0.baseAddress!, count: value.count, channels: w.outputChannels)
                }
                records.append(ArchiveRecord(name: w.name + ".weight", shape: value.shape,
                                             payload: codes.map { .packed(PackedTensor($0)) } ?? .float(value.data)))
                if let b = w.bias { records.append(ArchiveRecord(name: w.name + ".bias", shape: b.value.shape, values: b.value.data)) }
                if let c = w.activationQuantizer.clip { records.append(ArchiveRecord(name: w.name + ".act.clip", shape: [1], values: [c])) }
            } else if let bn = layer as? BatchNorm {
                for p in bn.parameters { records.append(ArchiveRecord(name: p.name, shape: p.value.shape, values: p.value.data)) }
                records.append(ArchiveRecord(name: bn.name + ".running_mean", shape: [bn.features], values: bn.runningMean))
                records.append(ArchiveRecord(name: bn.name + ".running_var", shape: [bn.features], values: bn.runningVar))
            } else if let p = layer as? ParameterizedLayer {
                for q in p.parameters { records.append(ArchiveRecord(name: q.name, shape: q.value.shape, values: q.value.data)) }
            }
        }
        return QLMContainer(header: json, records: records)
    }

    /// Writes `model` to `path` (atomically).
    public static func write(model: Sequential, normalization: ModelArchiveHeader.InputNormalization,
                             options: QuantizerOptions? = nil, classNames: [String]? = nil,
                             to path: String) throws(ArchiveError) {
        let bytes = try container(model: model, normalization: normalization, options: options,
                                  classNames: classNames, file: path).encode()
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ArchiveError(.io, file: path, offset: nil, expected: "a writable file", found: "\(error.localizedDescription)")
        }
    }

    /// Reads the model in `path`, ready for `forward(training: false)`.
    public static func read(from path: String) throws(ArchiveError) -> Loaded {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ArchiveError(.io, file: path, offset: nil, expected: "a readable file", found: "none (missing or unreadable)")
        }
        return try load(QLMContainer.decode(Array(data), file: path), file: path)
    }

    /// Rebuilds the model from a decoded container; `file` names it in errors.
    public static func load(_ c: QLMContainer, file: String) throws(ArchiveError) -> Loaded {
        func bad(_ expected: String, _ found: String) -> ArchiveError {
            ArchiveError(.malformed, file: file, offset: nil, expected: expected, found: found)
        }
        let header = try ModelArchiveHeader.decode(c.header, file: file)
        guard header.format == "quantlab model" else { throw bad("header format \"quantlab model\"", "\"\(header.format)\"") }
        guard let precisions = header.precisions() else {
            throw bad("layer precisions like w4a8", header.layers.map(\.precision).joined(separator: ", "))
        }
        let spec: ModelSpec
        do { spec = try ModelSpec(parsing: header.spec) } catch {
            throw bad("a model spec in the header", "\"\(header.spec)\": \(error)")
        }
        try checkShapes(spec: spec, inputShape: header.inputShape, container: c, file: file)
        let n = header.normalization
        let channels = header.inputShape.count == 3 ? header.inputShape[0] : header.inputShape.reduce(1, *)
        guard n.mean.count == channels, n.std.count == channels,
              n.mean.allSatisfy(\.isFinite), n.std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw bad("an input normalisation of \(channels) finite means and positive standard deviations",
                      "\(n.mean.count) means, \(n.std.count) standard deviations")
        }
        let model: Sequential
        do {
            var rng = SplitMix64(seed: 0)                    // weights are overwritten below
            model = try Sequential(spec: spec, inputShape: header.inputShape,
                                   precision: { precisions[$0] ?? .float }, options: header.options, rng: &rng)
        } catch {
            throw bad("a model spec that builds for input \(shapeText(header.inputShape))", "\"\(header.spec)\": \(error)")
        }
        guard model.weightedLayers.map(\.name) == header.layers.map(\.name) else {
            throw bad("weighted layers \(model.weightedLayers.map(\.name)) for this spec", "\(header.layers.map(\.name))")
        }
        var used = Set<String>()
        func values(_ name: String, _ shape: [Int], _ valid: (Float) -> Bool = { $0.isFinite },
                    _ what: String = "finite values") throws(ArchiveError) -> [Float] {
            guard let r = c.record(name) else { throw bad("a record \(name)", "none") }
            guard r.shape == shape else { throw bad("\(name) of shape \(shapeText(shape))", "shape \(shapeText(r.shape))") }
            used.insert(name)
            let v: [Float]
            do { v = try r.values() } catch { throw bad("valid codes in \(name)", error.description) }
            if let i = v.firstIndex(where: { !valid($0) }) { throw bad("\(what) in \(name)", "\(v[i]) at index \(i)") }
            return v
        }
        for layer in model.allLayers {
            if let w = layer as? WeightedLayer {
                w.weight.value.data = try values(w.name + ".weight", w.weight.value.shape)
                try checkCodes(w, c.record(w.name + ".weight")!, precision: header.layers.first { $0.name == w.name }?.precision ?? "", file: file)
                if let b = w.bias { b.value.data = try values(w.name + ".bias", b.value.shape) }
                if c.record(w.name + ".act.clip") != nil {
                    w.activationQuantizer.clip = try values(w.name + ".act.clip", [1], { $0.isFinite && $0 >= 0 }, "a clip ≥ 0")[0]
                }
            } else if let bn = layer as? BatchNorm {
                for p in bn.parameters { p.value.data = try values(p.name, p.value.shape) }
                bn.runningMean = try values(bn.name + ".running_mean", [bn.features])
                bn.runningVar = try values(bn.name + ".running_var", [bn.features], { $0.isFinite && $0 >= 0 }, "variances ≥ 0")
            } else if let p = layer as? ParameterizedLayer {
                for q in p.parameters { q.value.data = try values(q.name, q.value.shape) }
            }
        }
        // Every record must belong to the model: a renamed or duplicated record (or a
        // clip of an activation the header no longer quantizes) is damage, not extra data.
        if let extra = c.records.first(where: { !used.contains($0.name) }) {
            throw bad("only records of this model's layers (\(header.spec))", "a record '\(extra.name)' it does not use")
        }
        // A duplicate name: c.record(name) finds the first, the second is never read.
        var seen = Set<String>()
        if let dup = c.records.first(where: { !seen.insert($0.name).inserted }) {
            throw bad("one record per name", "two records '\(dup.name)'")
        }
        return Loaded(model: model, header: header)
    }

    /// The weight record must hold what the header's precision and options produce:
    /// Float32 for w32, else codes that the layer's quantizer gives back unchanged from
    /// the dequantized weights (quantizers are idempotent). So a header edited to say
    /// w8 over 4-bit codes, or per-channel over one scale, is refused, not loaded as a
    /// different model.
    static func checkCodes(_ w: WeightedLayer, _ r: ArchiveRecord, precision: String, file: String) throws(ArchiveError) {
        let stored: WeightCodes?
        switch r.payload {
        case .float: stored = nil
        case .packed(let p): stored = try? p.codes()
        }
        let value = w.weight.value
        let again = value.data.withUnsafeBufferPointer {
            w.weightQuantizer.codes($0.baseAddress!, count: value.count, channels: w.outputChannels)
        }
        let same: Bool
        switch (stored, again) {
        case (nil, nil): same = true
        case let (a?, b?):
            same = a.scheme == b.scheme && a.codes == b.codes && a.scales.count == b.scales.count
                && zip(a.scales, b.scales).allSatisfy { abs($0 - $1) <= 1e-6 * max(abs($0), abs($1)) }
        default: same = false
        }
        guard same else {
            let what: String
            switch r.payload {
            case .float: what = "Float32 values"
            case .packed(let p): what = "\(p.bits)-bit codes with \(p.scales.count) scale\(p.scales.count == 1 ? "" : "s")"
            }
            throw ArchiveError(.malformed, file: file, offset: nil,
                               expected: "\(w.name).weight as the header's \(precision) (and its options) store it", found: what + " that do not match")
        }
    }

    /// Largest per-sample input and activation a file may describe (values).
    static let maxSampleValues = 1 << 24

    /// Walks the spec over the input shape without building anything, checking that
    /// every conv and dense layer's weight record has the shape the spec implies and
    /// that no activation is absurdly large. Errors name the layer and the record.
    static func checkShapes(spec: ModelSpec, inputShape: [Int], container c: QLMContainer, file: String) throws(ArchiveError) {
        func bad(_ expected: String, _ found: String) -> ArchiveError {
            ArchiveError(.malformed, file: file, offset: nil, expected: expected, found: found)
        }
        func size(_ s: [Int]) -> Int? {
            var p = 1
            for d in s {
                let (q, o) = p.multipliedReportingOverflow(by: d)
                if o || q > maxSampleValues { return nil }
                p = q
            }
            return p
        }
        guard inputShape.count == 1 || inputShape.count == 3, inputShape.allSatisfy({ $0 >= 1 }), size(inputShape) != nil else {
            throw bad("an input shape [F] or [C, H, W] of positive sizes (at most \(maxSampleValues) values)", "\(inputShape)")
        }
        var counters: [String: Int] = [:]
        // Names as `ModelBuilder` gives them. Returns nil where `Sequential` will report
        // the problem (shapes that do not fit), the output shape otherwise.
        func walk(_ specs: [LayerSpec], from input: [Int], shortcut: Bool) throws(ArchiveError) -> [Int]? {
            var shape = input
            for s in specs {
                let kind = ModelBuilder.nameKind(s, onShortcut: shortcut)
                counters[kind, default: 0] += 1
                let name = "\(kind)\(counters[kind]!)"
                func weights(_ expected: [Int]) throws(ArchiveError) {
                    guard let r = c.record(name + ".weight") else { throw bad("a record \(name).weight", "none") }
                    guard r.shape == expected else {
                        throw bad("\(name).weight of shape \(shapeText(expected)) (spec \(s.text) on input \(shapeText(shape)))",
                                  "shape \(shapeText(r.shape))")
                    }
                }
                switch s {
                case let .conv(f, k, st, p, _):
                    guard shape.count == 3 else { return nil }         // Sequential reports it
                    let (h, w) = (shape[1], shape[2])
                    try weights([f, shape[0], k, k])                   // bounds f and k by the file
                    guard p <= maxSampleValues, h + 2 * p >= k, w + 2 * p >= k else {
                        throw bad("\(name) (\(s.text)): a kernel and padding that fit its input \(shapeText(shape))", "padding \(p)")
                    }
                    shape = [f, (h + 2 * p - k) / st + 1, (w + 2 * p - k) / st + 1]
                case let .dense(units, _):
                    try weights([units, shape.reduce(1, *)])
                    shape = [units]
                case let .maxPool(w, st), let .avgPool(w, st):
                    guard shape.count == 3, shape[1] >= w, shape[2] >= w else { return nil }
                    shape = [shape[0], (shape[1] - w) / st + 1, (shape[2] - w) / st + 1]
                case .globalAvgPool:
                    guard shape.count == 3 else { return nil }
                    shape = [shape[0]]
                case let .channelPad(f, st):
                    guard shape.count == 3, shape[0] <= f else { return nil }
                    shape = [f, (shape[1] + st - 1) / st, (shape[2] + st - 1) / st]
                case let .residual(main, short):
                    guard let m = try walk(main, from: shape, shortcut: false),
                          try walk(short, from: shape, shortcut: true) != nil else { return nil }
                    shape = m
                case .flatten:
                    shape = [shape.reduce(1, *)]
                case .batchNorm:
                    guard !shape.isEmpty else { return nil }
                case .relu, .hardTanh, .dropout:
                    break
                }
                guard size(shape) != nil else {
                    throw bad("activations of at most \(maxSampleValues) values per sample", "\(name) producing \(shapeText(shape))")
                }
            }
            return shape
        }
        _ = try walk(spec.layers, from: inputShape, shortcut: false)
    }

    /// The options a model's quantizers were built with, as far as they show it.
    public static func inferredOptions(_ model: Sequential) -> QuantizerOptions {
        var o = QuantizerOptions()
        for w in model.weightedLayers {
            switch w.weightQuantizer {
            case let q as UniformWeightQuantizer: o.perChannel = o.perChannel || q.perChannel; o.stochastic = o.stochastic || q.stochastic
            case let q as TernaryWeightQuantizer: o.perChannel = o.perChannel || q.perChannel
            case let q as BinaryWeightQuantizer: o.binaryConnect = o.binaryConnect || q.variant == .binaryConnect
            default: break
            }
            if let a = w.activationQuantizer as? UniformActivationQuantizer {
                o.pact = o.pact || a.clipParameter != nil
                o.clipMomentum = a.momentum
            }
        }
        return o
    }
}
