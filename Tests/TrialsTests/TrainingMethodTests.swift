import Testing
import Foundation
import Tensors
import Datasets
import Networks
import Quantization
@testable import Trials

/// The training methods of issue 16's second half end to end: ProxConnect, smart ternary
/// quantization, differentiable mask pruning and CoNNTrA train on a tiny dataset, resume from
/// a checkpoint bit for bit, show in the notation and cost; CoNNTrA's step on a 2-weight
/// problem solved by hand.
@Suite(.serialized) struct TrainingMethodTests {
    init() { BLAS.setThreads(1) }

    static let spec = "conv 4 k3 | relu | maxpool 2 | dense 8 | relu | dense 3"

    func configuration(_ name: String, _ precision: String, _ edit: (inout QuantizerOptions) -> Void) throws -> Configuration {
        var o = QuantizerOptions()
        edit(&o)
        return Configuration(name: name, modelName: "tiny", spec: try ModelSpec(parsing: Self.spec), inputShape: [1, 8, 8],
                             layerNames: ["conv1", "dense1", "dense2"],
                             precisions: Array(repeating: LayerPrecision(precision)!, count: 3), options: o)
    }

    var methods: [Configuration] {
        get throws {
            [try configuration("prox", "w1a4") { $0.prox = ProxSchedule(rho0: 0, growth: 0.5) },
             try configuration("stq", "wta4") { $0.stq = STQSettings(lambda: 0.5) },
             try configuration("dmp", "w4a4") { $0.prune = PruneSettings(target: 0.5) },
             try configuration("dmpf", "w32a32") { $0.prune = PruneSettings(target: 0.5, granularity: .filter) },
             try configuration("conntra", "wta32") { $0.method = .conntra }]
        }
    }

    /// Notation and family: each method is in the canonical text (so the store's key) and is its own family.
    @Test func notationAndFamily() throws {
        let cs = try methods
        #expect(cs.map(\.family) == ["proxconnect", "stq", "dmp", "dmp", "conntra"])
        #expect(cs[0].canonicalText.hasSuffix("weights=prox:0.0:0.5"))
        #expect(cs[1].canonicalText.hasSuffix("stq=0.5:0.05"))
        #expect(cs[2].canonicalText.hasSuffix("prune=dmp:0.5"))
        #expect(cs[3].canonicalText.hasSuffix("prune=dmp:0.5:filter"))
        #expect(cs[4].canonicalText.hasSuffix("method=conntra"))
    }

    /// Every method learns the synthetic 3-class problem well above chance, and reports what it left.
    @Test func endToEndOnATinyDataset() throws {
        var s = settings(epochs: 6)
        s.learningRate = 0.01
        let data = syntheticData(count: 192)
        for c in try methods {
            let t = try Trainer(configuration: c, settings: s, seed: 7)
            let o = TrialRunner.run([TrialJob(trainer: t, epochs: 6, evaluateTest: true)], data: data, workers: 1)[0]
            let acc = try #require(o.testAccuracy)
            #expect(acc > 0.6, "\(c.name): test accuracy \(acc)")
            let trained = try #require(o.trained)
            #expect(trained.contains("params "), "\(c.name): \(trained)")
            switch c.name {
            case "stq": #expect(trained.hasPrefix("depth conv1="), "\(trained)")
            case "dmp": #expect(trained.hasPrefix("kept 50.0% (conv1 50.0%, dense1 50.0%, dense2 50.0%)"), "\(trained)")
            case "dmpf": #expect(trained.hasPrefix("kept 49.3% (conv1 50.0%, dense1 50.0%, dense2 33.3%)"), "\(trained)")   // 1 of 3 filters
            case "prox": #expect(trained.hasPrefix("rho "), "\(trained)")
            default: #expect(trained.hasPrefix("training state "), "\(trained)")
            }
        }
    }

    /// Resuming from a checkpoint continues bit for bit (scores and β are parameters; ρ and τ
    /// follow the step count).
    @Test func resumedEqualsUninterrupted() throws {
        let data = syntheticData()
        let s = settings(epochs: 4)
        for c in try methods {
            let whole = try Trainer(configuration: c, settings: s, seed: 7)
            let a = TrialRunner.run([TrialJob(trainer: whole, epochs: 4, evaluateTest: true)], data: data, workers: 1)[0]
            let first = try Trainer(configuration: c, settings: s, seed: 7)
            _ = TrialRunner.run([TrialJob(trainer: first, epochs: 2, evaluateTest: false)], data: data, workers: 1)
            let bytes = TrainerCheckpoint.encode(first.checkpointState())
            let resumed = try Trainer(configuration: c, settings: s, seed: 7)
            try resumed.restore(try TrainerCheckpoint.decode(bytes, file: "mem"))
            let b = TrialRunner.run([TrialJob(trainer: resumed, epochs: 4, evaluateTest: true)], data: data, workers: 1)[0]
            #expect(b.epochs.map(\.trainLoss) == Array(a.epochs.map(\.trainLoss).suffix(2)), "\(c.name)")
            #expect(b.testAccuracy == a.testAccuracy, "\(c.name)")
            #expect(resumed.model.parameters.flatMap(\.value.data) == whole.model.parameters.flatMap(\.value.data), "\(c.name)")
            #expect(b.trained == a.trained, "\(c.name)")
        }
    }

    /// The cost counts only kept weights, by hand for w4a4 at 50%: conv1 36 weights → 18 kept,
    /// 4 biases, 1 scale, a 36-bit mask: params 22, bits 18·4 + 5·32 + 36 = 268, MACs 2304/36·18 =
    /// 1152, BOPs 1152·4·8 = 36,864; dense1 512 → 256: params 264, bits 1024 + 9·32 + 512 = 1824,
    /// MACs 256, BOPs 256·4·4 = 4096. Filters: conv1 keeps 2 of 4 filters (18 weights), no mask bits.
    @Test func costCountsOnlyKeptWeights() throws {
        let c = try configuration("dmp", "w4a4") { $0.prune = PruneSettings(target: 0.5) }
        for r in [try c.costReport(), try Trainer(configuration: c, settings: settings(), seed: 7).cost] {
            let conv = r.layers[0], dense = r.layers[1]
            #expect([conv.parameters, conv.memoryBits, conv.macs, conv.bops] as [Int] == [22, 268, 1152, 36_864])
            #expect([dense.parameters, dense.memoryBits, dense.macs, dense.bops] as [Int] == [264, 1824, 256, 4096])
        }
        let f = try configuration("dmpf", "w4a4") { $0.prune = PruneSettings(target: 0.5, granularity: .filter) }
        let conv = try f.costReport().layers[0]
        let filterBits = 18 * 4 + 5 * 32
        #expect([conv.parameters, conv.memoryBits, conv.macs] as [Int] == [22, filterBits, 1152])
        let plain = try configuration("plain", "w4a4") { _ in }.costReport().layers[0]
        let plainBits = 36 * 4 + 5 * 32
        #expect([plain.parameters, plain.memoryBits, plain.macs] as [Int] == [40, plainBits, 2304])
    }

    /// STQ prices each layer at the depth it has: a layer turned ternary costs 2 bits a weight.
    @Test func stqCostFollowsDepth() throws {
        let c = try configuration("stq", "w1a4") { $0.stq = STQSettings(lambda: 0.5) }
        let t = try Trainer(configuration: c, settings: settings(), seed: 7)
        let q = try #require(t.model.weightedLayers[1].weightQuantizer as? SmartTernaryQuantizer)
        #expect(c.costReport(of: t.model).layers[1].weightBits == 1)
        q.beta.value.data[0] = 0.7
        #expect(c.costReport(of: t.model).layers[1].weightBits == 2)
    }

    /// dense 1 → 2 trained by CoNNTrA, its weights set to `weights` (whose largest |w| is the scale).
    func twoWeights(scaleFrom weights: [Float]) throws -> (Sequential, Parameter, ConnTraStep) {
        var o = QuantizerOptions()
        o.method = .conntra
        let c = Configuration(name: "two", modelName: "two", spec: try ModelSpec(parsing: "dense 2"), inputShape: [1],
                              layerNames: ["dense1"], precisions: [LayerPrecision("wta32")!], options: o)
        let model = try c.buildModel(seed: 1)
        let w = model.weightedLayers[0].weight
        w.value.data = weights
        return (model, w, try ConnTraStep(model: model, configurationName: "two"))
    }

    /// CoNNTrA on a 2-weight problem (dense 1 → 2, x = 1, scale s = ½), solved by hand.
    /// Codes (1, 1), label 0: z = (½, ½), loss ln 2, g = (−½, ½). w₀ cannot rise above +1, so
    /// w₁ moves down: codes (1, 0), loss ln(1 + e^−½) < ln 2 (kept); then (1, −1), loss
    /// ln(1 + e^−1); then no coordinate can move against its gradient.
    @Test func conntraStepOnTwoWeights() throws {
        let (model, w, step) = try twoWeights(scaleFrom: [0.5, 0.5])
        #expect(step.blockSize == 1)
        func lossAndStep(labels: [Int32], inputs: [Float]) -> (before: Double, changed: Int, after: Double) {
            model.withInput { x in x = Tensor(shape: [inputs.count, 1], data: inputs) }
            model.zeroGrad()
            let logits = model.forward(training: true)
            let (loss, _) = model.withLogitGradient { g in SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels, gradient: &g) }
            model.backward()
            let changed = step.step(model, labels: labels)
            let after = SoftmaxCrossEntropy.loss(logits: model.forward(training: false), labels: labels).loss
            return (loss, changed, after)
        }
        let r1 = lossAndStep(labels: [0], inputs: [1])
        #expect(abs(r1.before - log(2)) <= 1e-6)
        #expect(r1.changed == 1 && w.value.data == [0.5, 0])
        #expect(abs(r1.after - log(1 + exp(-0.5))) <= 1e-6)
        let r2 = lossAndStep(labels: [0], inputs: [1])
        #expect(r2.changed == 1 && w.value.data == [0.5, -0.5])
        #expect(abs(r2.after - log(1 + exp(-1))) <= 1e-6)
        #expect(lossAndStep(labels: [0], inputs: [1]).changed == 0)
        #expect(w.value.data == [0.5, -0.5])
    }

    /// A move that raises the batch loss is undone: codes (0, 0), scale 5, labels (0, 0, 1):
    /// g₀ = −1/6 picks w₀ → +5, but then the loss is (2·ln(1 + e^−5) + ln(1 + e^5))/3 ≈ 1.673 > ln 2.
    @Test func conntraRejectsAMoveThatRaisesTheLoss() throws {
        let (model, w, step) = try twoWeights(scaleFrom: [5, 0])
        w.value.data = [0, 0]
        model.withInput { x in x = Tensor(shape: [3, 1], data: [1, 1, 1]) }
        model.zeroGrad()
        let logits = model.forward(training: true)
        _ = model.withLogitGradient { g in SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [0, 0, 1], gradient: &g) }
        model.backward()
        #expect(step.step(model, labels: [0, 0, 1]) == 0)
        #expect(w.value.data == [0, 0])
    }

    /// CoNNTrA refuses what its paper does not train, naming the limit.
    @Test func conntraRefusesLargeOrNormalisedModels() throws {
        func make(_ spec: String, _ shape: [Int], _ names: [String]) throws -> Configuration {
            var o = QuantizerOptions(); o.method = .conntra
            return Configuration(name: "big", modelName: "m", spec: try ModelSpec(parsing: spec), inputShape: shape, layerNames: names,
                                 precisions: names.map { _ in LayerPrecision("wta32")! }, options: o)
        }
        let big = try make("dense 1024 | relu | dense 10", [784], ["dense1", "dense2"])
        #expect { try Trainer(configuration: big, settings: settings(), seed: 1) } throws: { e in
            "\(e)".contains("at most 500000 ternary weights") && "\(e)".contains("this model has 813056")
        }
        let bn = try make("dense 8 | bn | relu | dense 3", [64], ["dense1", "dense2"])
        #expect { try Trainer(configuration: bn, settings: settings(), seed: 1) } throws: { e in "\(e)".contains("BatchNorm") }
    }
}
