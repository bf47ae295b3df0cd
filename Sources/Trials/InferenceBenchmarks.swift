import Foundation
import Tensors
import Networks
import Quantization
import Datasets

/// `quantlab bench infer`: inference throughput of the packed engine against the float
/// forward of the same model, `infer.NET.PRECISION.{packed,float,speedup}` lines.
///
/// The model of each precision is a preset trained for one batch of random images (so
/// its activation clips are set), exported to a `.qlm` container in memory and
/// compiled; both paths then run the same random batches of 256, in turn, timed in
/// CPU seconds of this thread (one oneDNN thread), forward passes only.
enum InferenceBenchmarks {
    static let precisions = ["w32a32", "w8a8", "w4a4", "wta8", "w1a8", "w1a1"]

    /// All figures, or those of `only` ("NET" or "NET.PRECISION", e.g. cifar3.w1a1).
    static func run(only: String? = nil, quick: Bool, output: (String) -> Void) {
        let parts = only?.split(separator: ".", maxSplits: 1).map(String.init) ?? []
        let nets = ["fmnist2", "cifar3"].filter { parts.isEmpty || $0 == parts[0] }
        let chosen = precisions.filter { parts.count < 2 || $0 == parts[1] || ($0 == "w32a32" && parts[1] == "fp32") }
        if nets.isEmpty || chosen.isEmpty {
            output("# unknown inference figure 'infer.\(only ?? "")'; networks fmnist2, cifar3; precisions \(precisions.joined(separator: ", "))")
            return
        }
        for net in nets {
            for p in chosen { figure(net: net, precision: p, quick: quick, steps: parts.count == 2, output: output) }
        }
    }

    /// `steps`: also time the packed engine step by step (a second pass, so the figure
    /// itself is not slowed by the clock reads) and print one comment line per step.
    static func figure(net: String, precision: String, quick: Bool, steps: Bool = false, output: (String) -> Void) {
        let config = Benchmarks.configuration(net: net, precision: precision)
        let input = config.inputShape
        var rng = SplitMix64(seed: 11)
        let batch = 256, size = input.reduce(1, *)
        let images = (0..<(batch * size)).map { _ in rng.nextNormal() }
        var settings = TrainingSettings()
        settings.optimizer = "sgd"; settings.learningRate = 0.01; settings.batchSize = 64
        guard let trainer = try? Trainer(configuration: config, settings: settings, seed: 3) else { return }
        let classes = net == "cifar3" ? 100 : 10
        let pixels = (0..<(64 * size)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let labels = (0..<64).map { _ in Int32(rng.nextInt(below: classes)) }
        let norm = Normalization(mean: Array(repeating: 0.5, count: input[0]), std: Array(repeating: 0.25, count: input[0]))
        _ = trainer.trainEpoch(on: Split(storage: .uint8(pixels), labels: labels, sampleShape: input), normalization: norm)
        guard let container = try? ModelArchive.container(model: trainer.model, normalization: .init(mean: norm.mean, std: norm.std)),
              let (packed, loaded) = try? PackedModel.load(container, file: "bench") else { return }
        let reference = loaded.model
        for l in reference.weightedLayers { (l as? Conv2D)?.integerForward = false; (l as? Dense)?.integerForward = false }
        let models: [any BatchForward] = [packed, reference]
        for m in models { m.withInput { $0 = Tensor(shape: [batch] + input, data: images) } }
        var seconds = [0.0, 0.0]
        let reps = quick ? 4 : 16
        for rep in 0...reps {
            for (i, m) in models.enumerated() {
                let t0 = threadCPUSeconds()
                _ = m.inferenceForward()
                if rep > 0 { seconds[i] += threadCPUSeconds() - t0 }    // rep 0 warms up
            }
        }
        let rates = seconds.map { Double(batch * reps) / max($0, 1e-9) }
        let label = "infer.\(net).\(precision == "w32a32" ? "fp32" : precision)"
        output("\(label).packed \(Benchmarks.format(rates[0])) images/cpu-s")
        output("\(label).float \(Benchmarks.format(rates[1])) images/cpu-s")
        output("\(label).speedup \(String(format: "%.2f", rates[0] / rates[1])) x")
        guard steps else { return }
        packed.timesSteps = true
        for _ in 0..<reps { packed.forward() }
        for (line, s) in zip(packed.plan, packed.stepSeconds) {
            output("# \(String(format: "%8.2f", s / Double(batch * reps) * 1e6)) µs/image  \(line)")
        }
    }
}
