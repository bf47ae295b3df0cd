import Foundation
import Testing
import Tensors
import Datasets
import Networks
import Quantization
@testable import Trials

/// The packed engine (`PackedModel`: int8, XNOR-popcount and float kernels on the
/// stored codes) against the fake-quantized float forward of the same `.qlm` model
/// (the `Sequential` it describes, integer forward off), on the whole Fashion-MNIST
/// test set: identical argmax on all 10,000 images, and logits within 1e-5 · max|logit|
/// of their batch on at least 99.9% of the images (measured: ≤ 2e-7 on all of them).
/// Integer sums are exact; the float path rounds its sums, which moves a pre-activation
/// by a few ulps and so, rarely, an activation code by one step at a rounding tie: the
/// logits of that image then differ by that step's effect (7% of the scale seen once
/// at w4a4), the reason for the 0.1% allowance. Models: a small CNN (two convs, two
/// dense) trained for one short epoch on 1,000 training images, so activation clips
/// and weight scales are those of a trained model.
@Suite(.serialized, .enabled(if: FileManager.default.fileExists(atPath: DatasetLoader.fashionMNISTPath + "/t10k-labels-idx1-ubyte.gz"),
                             "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"))
struct PackedModelTests {
    init() { BLAS.setThreads(1) }

    static let data: Dataset? = try? DatasetLoader.load("fashion-mnist")
    static let spec = "conv 4 k3 | relu | maxpool 2 | conv 8 k3 | relu | maxpool 2 | dense 16 | relu | dense 10"

    /// Trains `precision` briefly (integer forward on where layers qualify); returns the
    /// model and the sample's normalization.
    static func trainedModel(_ precision: String, spec: String = spec) throws -> (Sequential, Normalization) {
        let d = try #require(data)
        let model = try ModelSpec(parsing: spec)
        var rng = SplitMix64(seed: 1)
        let names = try Sequential(spec: model, inputShape: [1, 28, 28], rng: &rng).weightedLayers.map(\.name)
        let config = Configuration(name: precision, modelName: "small", spec: model, inputShape: [1, 28, 28], layerNames: names,
                                   precisions: names.map { _ in LayerPrecision(precision)! })
        var s = TrainingSettings()
        s.epochs = 1; s.batchSize = 32; s.learningRate = 0.01
        let trainer = try Trainer(configuration: config, settings: s, seed: 5)
        let sample = stratifiedSample(d.train, count: 1000, classes: 10, seed: 7)
        let norm = Normalization.compute(sample)
        _ = trainer.trainEpoch(on: sample, normalization: norm)
        return (trainer.model, norm)
    }

    /// Trains `precision` briefly and returns the container `export` writes, decoded again.
    static func trainedContainer(_ precision: String, spec: String = spec) throws -> (QLMContainer, Normalization) {
        let (model, norm) = try trainedModel(precision, spec: spec)
        let c = try ModelArchive.container(model: model, normalization: .init(mean: norm.mean, std: norm.std))
        return (try QLMContainer.decode(c.encode(), file: "\(precision).qlm"), norm)
    }

    /// Two forward passes over the whole test split in batches of 500: images whose argmax
    /// agree, whose first argmax is the label, whose logits differ by more than 1e-5 of
    /// the second's batch maximum |logit|, and the largest such relative difference.
    struct Agreement { var agree = 0, correct = 0, loose = 0, worst: Float = 0 }

    /// `forward(which, fill)`: model `which` (0, 1) fills its input through `fill` and
    /// returns its logits.
    static func compareOnTestSet(_ d: Dataset, normalization norm: Normalization,
                                 _ forward: (Int, (inout Tensor) -> Void) -> Tensor) -> Agreement {
        var labels: [Int32] = [], rng = SplitMix64(seed: 0), r = Agreement()
        let batch = 500
        for lo in stride(from: 0, to: d.test.count, by: batch) {
            let idx = Array(lo..<min(d.test.count, lo + batch))
            let fill = { (x: inout Tensor) in
                fillBatch(d.test, indices: idx[...], normalization: norm, augmentation: nil, rng: &rng, x: &x, labels: &labels)
            }
            let a = forward(0, fill), b = forward(1, fill)
            #expect(a.shape == b.shape)
            let scale = b.data.reduce(Float(0)) { max($0, abs($1)) }
            for i in 0..<idx.count {
                let ra = a.data[(i * 10)..<(i * 10 + 10)], rb = b.data[(i * 10)..<(i * 10 + 10)]
                let am = ra.indices.max { ra[$0] < ra[$1] }!, bm = rb.indices.max { rb[$0] < rb[$1] }!
                if am == bm { r.agree += 1 }
                if am - i * 10 == Int(labels[i]) { r.correct += 1 }
                let d = zip(ra, rb).reduce(Float(0)) { max($0, abs($1.0 - $1.1) / max(scale, 1e-6)) }
                r.worst = max(r.worst, d)
                if d > 1e-5 { r.loose += 1 }
            }
        }
        return r
    }

    /// Which kernel each weighted layer runs on, from the plan.
    static func kernels(_ p: PackedModel) -> [String] {
        p.plan.filter { $0.hasPrefix("conv") || $0.hasPrefix("dense") }.map { line in
            line.contains("XNOR") ? "binary" : line.contains("int8") ? "int8" : "float"
        }
    }

    @Test(arguments: [("w8a8", ["float", "int8", "int8", "int8"]), ("w4a4", ["float", "int8", "int8", "int8"]),
                      ("w2a2", ["float", "int8", "int8", "int8"]), ("wta8", ["float", "int8", "int8", "int8"]),
                      ("w1a8", ["float", "int8", "int8", "int8"]), ("w1a1", ["float", "binary", "binary", "binary"])])
    func packedEqualsFakeQuantizedOnTheTestSet(_ precision: String, _ expectedKernels: [String]) throws {
        try Self.expectPackedEqualsFakeQuantized(precision, expectedKernels: expectedKernels)
    }

    /// Models whose layers take the packed engine's float paths: a dense first layer on the
    /// float image (its bias added by the GEMM, the epilogue given none), float activations
    /// after it (w8a32), and layers above 8 bits (w16a16). An empty bias once read past its
    /// array there: `evaluate` gave accuracy 0.1000 and loss NaN on such models.
    @Test(arguments: [("w8a32", "dense 16 | relu | dense 10"), ("w8a8", "dense 16 | relu | dense 10"),
                      ("w4a4", "conv 4 k3 | relu | avgpool 2 | dense 10"), ("w16a16", PackedModelTests.spec)])
    func floatPathsEqualFakeQuantized(_ precision: String, _ spec: String) throws {
        try Self.expectPackedEqualsFakeQuantized(precision, spec: spec)
    }

    /// The packed engine on `precision` × `spec` (trained briefly) against the float forward
    /// of the model it was loaded from, on the whole test split; `expectedKernels`, when
    /// given, is each weighted layer's kernel kind.
    static func expectPackedEqualsFakeQuantized(_ precision: String, spec: String = spec, expectedKernels: [String]? = nil) throws {
        let d = try #require(Self.data)
        let (container, norm) = try Self.trainedContainer(precision, spec: spec)
        let (packed, loaded) = try PackedModel.load(container, file: "\(precision).qlm")
        let reference = loaded.model
        for l in reference.weightedLayers { (l as? Conv2D)?.integerForward = false; (l as? Dense)?.integerForward = false }
        if let expectedKernels, CPUDispatch.hasVNNI || precision != "w8a8" && precision != "w1a8" && precision != "wta8" {
            #expect(Self.kernels(packed) == expectedKernels, "\(packed.plan)")
        }
        let r = Self.compareOnTestSet(d, normalization: norm) { which, fill in
            if which == 0 { packed.withInput(fill); return packed.forward() }
            reference.withInput(fill)
            return reference.forward(training: false)
        }
        let (agree, correct, loose, worst) = (r.agree, r.correct, r.loose, r.worst)
        #expect(agree == d.test.count, "\(precision): argmax agrees on \(agree) of \(d.test.count)")
        #expect(loose <= d.test.count / 1000, "\(precision): \(loose) images with logits over 1e-5 of their scale apart (largest \(worst))")
        // Better than chance (0.1): a model that predicts one class would make agreement trivial.
        #expect(Double(correct) / Double(d.test.count) > 0.15, "\(precision): trained model accuracy \(correct) of \(d.test.count)")
        print("packed \(precision): argmax \(agree)/\(d.test.count), max |Δlogit|/scale \(worst), over 1e-5: \(loose), accuracy \(correct)")
    }
}
