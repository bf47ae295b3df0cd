import Foundation
import Testing
import Tensors
import Quantization
import Networks

@Suite struct ModelArchiveTests {
    static let spec = "conv 4 k3 | bn | relu | maxpool 2 | conv 6 k3 | relu | dense 8 | relu | dense 5 | relu | dense 3"

    /// A small model trained a few Adam steps on random data, so weights, BN statistics and clips all moved.
    static func trainedModel(_ precisions: [String: String], options: QuantizerOptions = QuantizerOptions()) throws -> Sequential {
        var rng = SplitMix64(seed: 7)
        let model = try Sequential(spec: ModelSpec(parsing: spec), inputShape: [1, 8, 8],
                                   precision: { LayerPrecision(precisions[$0] ?? "w32a32")! }, options: options, rng: &rng)
        let adam = Adam()
        for _ in 0..<5 {
            model.withInput { x in
                x.reshapeForOverwrite([6, 1, 8, 8])
                for i in 0..<x.count { x.data[i] = rng.nextFloat() }
            }
            let logits = model.forward(training: true)
            model.zeroGrad()
            model.withLogitGradient { g in
                _ = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [0, 1, 2, 0, 1, 2], gradient: &g)
            }
            model.backward()
            adam.step(model.parameters, learningRate: 0.01)
        }
        return model
    }

    static func evaluate(_ model: Sequential) -> [Float] {
        var rng = SplitMix64(seed: 99)
        model.withInput { x in
            x.reshapeForOverwrite([4, 1, 8, 8])
            for i in 0..<x.count { x.data[i] = rng.nextFloat() }
        }
        return model.forward(training: false).data
    }

    /// Per-channel statistics of a 1-channel input, as `data load` computes them.
    static let norm = ModelArchiveHeader.InputNormalization(mean: [0.2860402], std: [0.35302424])

    func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("qlm-\(UUID().uuidString)-\(name)").path
    }

    @Test(arguments: [
        ["conv1": "w4a4", "conv2": "w2a8", "dense1": "wta2", "dense2": "w1a1", "dense3": "w8a32"],
        ["conv1": "w8a8", "conv2": "w16a16", "dense1": "w3a5", "dense2": "w32a32", "dense3": "w32a32"],
        ["conv1": "w1a4", "conv2": "w5a2", "dense1": "w12a8", "dense2": "w6a3", "dense3": "w2a32"],
    ])
    func roundTripEvaluatesIdentically(_ precisions: [String: String]) throws {
        for perChannel in [false, true] {
            var o = QuantizerOptions()
            o.perChannel = perChannel
            o.pact = perChannel
            let model = try Self.trainedModel(precisions, options: o)
            let expected = Self.evaluate(model)
            #expect(Set(expected).count >= 3 && expected.count == 12, "distinct logits: \(expected)")
            let path = tempPath("m.qlm")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try ModelArchive.write(model: model, normalization: Self.norm, classNames: ["a", "b", "c"], to: path)
            let loaded = try ModelArchive.read(from: path)
            #expect(loaded.classNames == ["a", "b", "c"])
            #expect(loaded.header.normalization == Self.norm)
            #expect(loaded.header.options == o)
            for w in loaded.model.weightedLayers {
                #expect(LayerPrecision(weight: w.weightQuantizer.precision, activation: w.activationQuantizer.precision).description
                        == (precisions[w.name] ?? "w32a32"))
            }
            #expect(Self.evaluate(loaded.model) == expected, "perChannel \(perChannel)")
        }
    }

    @Test func packedSizeIsSmall() throws {
        let model = try Self.trainedModel(["conv1": "w1a4", "conv2": "w1a4", "dense1": "w1a4", "dense2": "w1a4", "dense3": "w1a32"])
        let c = try ModelArchive.container(model: model, normalization: Self.norm)
        let weights = c.records.filter { $0.name.hasSuffix(".weight") }
        // 1 bit per weight plus one float scale per output channel (XNOR).
        #expect(c.record("conv2.weight")!.dataBytes == (6 * 4 * 9 + 7) / 8 + 4 * 6)
        #expect(weights.allSatisfy { if case .packed(let p) = $0.payload { return p.bits == 1 } else { return false } })
        #expect(c.record("conv1.act.clip") != nil && c.record("dense3.act.clip") == nil)
        #expect(c.record("bn1.running_var")?.count == 4)
    }

    @Test func damagedFileNamesItself() throws {
        let model = try Self.trainedModel(["conv1": "w4a4"])
        let path = tempPath("bad.qlm")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelArchive.write(model: model, normalization: Self.norm, to: path)
        var bytes = Array(FileManager.default.contents(atPath: path)!)
        bytes[100] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { try ModelArchive.read(from: path) } throws: { e in
            (e as? ArchiveError)?.kind == .checksumMismatch && "\(e)".hasPrefix(path + ": at byte ")
        }
        try Data(bytes.prefix(50)).write(to: URL(fileURLWithPath: path))
        #expect { try ModelArchive.read(from: path) } throws: { e in (e as? ArchiveError)?.kind == .truncated }
        #expect { try ModelArchive.read(from: path + ".missing") } throws: { e in (e as? ArchiveError)?.kind == .io }
    }

    /// The file size follows by formula from the layer shapes and bit widths: a k-bit
    /// weight costs k bits (w3 is not stored as w4, w5…w7 not as w8), as `cost` counts.
    @Test func exactFileSizeFromShapesAndBits() throws {
        let precisions = ["conv1": "w3a2", "conv2": "w5a4", "dense1": "w7a8", "dense2": "wta2", "dense3": "w1a32"]
        let model = try Self.trainedModel(precisions)
        let c = try ModelArchive.container(model: model, normalization: Self.norm)
        let bytes = c.encode()
        func record(_ name: String, _ shape: [Int]) -> Int { 2 + name.utf8.count + 1 + 4 * shape.count + 1 }
        // Weights [K, C, 3, 3] / [N, in]; per-tensor scale (XNOR binary: one per output channel).
        let weights: [(String, [Int], Int, Int)] = [
            ("conv1", [4, 1, 3, 3], 3, 1), ("conv2", [6, 4, 3, 3], 5, 1), ("dense1", [8, 6 * 4 * 4], 7, 1),
            ("dense2", [5, 8], 2, 1), ("dense3", [3, 5], 1, 3),
        ]
        var expected = 4 + 4 + 8 + 4 + c.header.count + 4 + 4
        for (name, shape, k, scales) in weights {
            let n = shape.reduce(1, *)
            expected += record(name + ".weight", shape) + 2 + 4 + 4 * scales + (n * k + 7) / 8
            expected += record(name + ".bias", [shape[0]]) + 4 * shape[0]
        }
        for name in ["conv1", "conv2", "dense1", "dense2"] { expected += record(name + ".act.clip", [1]) + 4 }
        for name in ["bn1.gamma", "bn1.beta", "bn1.running_mean", "bn1.running_var"] { expected += record(name, [4]) + 16 }
        #expect(bytes.count == expected)
        // conv2: 216 weights at 5 bits = 135 bytes (in 8-bit fields it was 216).
        #expect(c.record("conv2.weight")!.dataBytes == 135 + 4)
    }

    /// Header problems are named by field and offset, not as Swift's DecodingError.
    @Test func headerErrorsNameTheField() throws {
        let model = try Self.trainedModel(["conv1": "w4a4"])
        let good = try ModelArchive.container(model: model, normalization: Self.norm)
        func error(_ header: String) -> String {
            do { _ = try ModelArchive.load(QLMContainer(header: Array(header.utf8), records: good.records), file: "m.qlm"); return "loaded" }
            catch { return "\(error)" }
        }
        let json = String(decoding: good.header, as: UTF8.self)
        #expect(error(json) == "loaded")
        let noNorm = json.replacingOccurrences(of: #""normalization""#, with: #""normalisation""#)
        #expect(error(noNorm) == "m.qlm: at byte 20: expected a field 'normalization' in the JSON model header (\(noNorm.utf8.count) bytes from byte 20), found none")
        let badLayer = json.replacingOccurrences(of: #""precision":"w4a4""#, with: #""precision":4"#)
        #expect(error(badLayer) == "m.qlm: at byte 20: expected field 'layers[0].precision' of the JSON model header to be text, found the number 4")
        #expect(error("{\"spec\": ") == "m.qlm: at byte 20: expected a JSON model header (9 bytes from byte 20), found text that is not valid JSON")
        for e in [noNorm, badLayer, "[]", "{}", "null"].map(error) {
            #expect(!e.contains("DecodingError") && !e.contains("CodingKeys") && e.hasPrefix("m.qlm: at byte 20: expected "), "\(e)")
        }
        // A spec that would allocate far more than the file holds is refused before anything is built.
        let huge = json.replacingOccurrences(of: "dense 8 |", with: "dense 800000 |")
        #expect(error(huge).hasPrefix("m.qlm: expected dense1.weight of shape 800000×96 (spec dense 800000 on input 6×4×4), found shape 8×96"))
        let badNorm = json.replacingOccurrences(of: #""std":[0.35302424]"#, with: #""std":[0]"#)
        #expect(error(badNorm) == "m.qlm: expected an input normalisation of 1 finite means and positive standard deviations, found 1 means, 1 standard deviations")
    }

    /// A header that contradicts its records (a CRC-valid edit) is refused, not loaded as another model.
    @Test func headerContradictingRecordsIsRefused() throws {
        let model = try Self.trainedModel(["conv1": "w4a4", "dense3": "w2a32"])
        let good = try ModelArchive.container(model: model, normalization: Self.norm)
        let json = String(decoding: good.header, as: UTF8.self)
        func error(_ header: String) -> String {
            do { _ = try ModelArchive.load(QLMContainer(header: Array(header.utf8), records: good.records), file: "m.qlm"); return "loaded" }
            catch { return "\(error)" }
        }
        #expect(error(json) == "loaded")
        #expect(error(json.replacingOccurrences(of: #""precision":"w4a4""#, with: #""precision":"w8a4""#))
                == "m.qlm: expected conv1.weight as the header's w8a4 (and its options) store it, found 4-bit codes with 1 scale that do not match")
        #expect(error(json.replacingOccurrences(of: #""precision":"w2a32""#, with: #""precision":"w32a32""#))
                == "m.qlm: expected dense3.weight as the header's w32a32 (and its options) store it, found 2-bit codes with 1 scale that do not match")
        #expect(error(json.replacingOccurrences(of: #""perChannel":false"#, with: #""perChannel":true"#)).hasPrefix("m.qlm: expected conv1.weight as the header's w4a4"))
        // A renamed optional record (the clip) is not silently ignored.
        var renamed = good.records
        let i = renamed.firstIndex { $0.name == "conv1.act.clip" }!
        renamed[i].name = "conv1.act.clap"
        #expect(throws: ArchiveError.self) { try ModelArchive.load(QLMContainer(header: good.header, records: renamed), file: "m.qlm") }
        do { _ = try ModelArchive.load(QLMContainer(header: good.header, records: renamed), file: "m.qlm") } catch {
            #expect("\(error)" == "m.qlm: expected only records of this model's layers (\(Self.spec)), found a record 'conv1.act.clap' it does not use")
        }
        var negative = good.records
        let v = negative.firstIndex { $0.name == "bn1.running_var" }!
        negative[v] = ArchiveRecord(name: "bn1.running_var", shape: [4], values: [1, -2, 1, 1])
        #expect(throws: ArchiveError.self) { try ModelArchive.load(QLMContainer(header: good.header, records: negative), file: "m.qlm") }
    }

    @Test func costReportOfAModel() throws {
        let model = try Self.trainedModel(["conv1": "w4a2", "conv2": "w32a32"])
        let r = CostReport(model: model)
        #expect(r.layers.map(\.name) == ["conv1", "conv2", "dense1", "dense2", "dense3"])
        #expect(r.layers.map(\.input.inputBits) == [8, 2, 32, 32, 32])
        #expect(r.layers[0].input.macs == 4 * 9 * 64 && r.layers[0].input.fanIn == 9 && r.layers[0].input.scales == 1)
        #expect(r.parameters == model.weightedLayers.reduce(0) { $0 + $1.parameters.reduce(0) { $0 + $1.value.count } })
    }
}
