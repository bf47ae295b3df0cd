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
            try ModelArchive.write(model: model, classNames: ["a", "b", "c"], to: path)
            let loaded = try ModelArchive.read(from: path)
            #expect(loaded.classNames == ["a", "b", "c"])
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
        let c = try ModelArchive.container(model: model)
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
        try ModelArchive.write(model: model, to: path)
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

    @Test func costReportOfAModel() throws {
        let model = try Self.trainedModel(["conv1": "w4a2", "conv2": "w32a32"])
        let r = CostReport(model: model)
        #expect(r.layers.map(\.name) == ["conv1", "conv2", "dense1", "dense2", "dense3"])
        #expect(r.layers.map(\.input.inputBits) == [8, 2, 32, 32, 32])
        #expect(r.layers[0].input.macs == 4 * 9 * 64 && r.layers[0].input.fanIn == 9 && r.layers[0].input.scales == 1)
        #expect(r.parameters == model.weightedLayers.reduce(0) { $0 + $1.parameters.reduce(0) { $0 + $1.value.count } })
    }
}
