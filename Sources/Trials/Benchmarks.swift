import Foundation
import Synchronization
import Tensors
import Networks
import Quantization
import Datasets

/// `quantlab bench`: throughput figures, one `name value unit` line each, so runs
/// can be compared with `diff` or a spreadsheet.
///
/// Training figures use random images shaped like the dataset (as the PyTorch peer
/// script does), batch 64, SGD with momentum, one BLAS thread per trial. "x2" runs
/// two independent trials side by side and reports their combined images/s.
public enum Benchmarks {
    public static let names = ["sgemm", "layers", "cifar3", "fmnist2", "seedcnn", "resnet20", "infer"]

    /// Runs the named benchmarks (all when empty); `quick` shortens them.
    public static func run(names: [String], quick: Bool, output: (String) -> Void) {
        BLAS.setThreads(1)
        BLAS.warmUp()
        let chosen = names.isEmpty ? Self.names : names
        output("# quantlab bench: cpu \(cpuModel()), \(BLAS.coreName), \(ProcessInfo.processInfo.activeProcessorCount) cores, bf16 GEMM \(BFloat16.hasNativeGEMM ? "oneDNN" : "fallback (sgemm)")")
        output("# isa: \(CPUFeatures.summary)")
        for entry in chosen {
            // "NET.PRECISION" (e.g. cifar3.w8a8g8): that one training figure.
            let parts = entry.split(separator: ".", maxSplits: 1).map(String.init)
            let name = parts[0]
            switch name {
            case "sgemm": sgemmFigures(quick: quick, output: output)
            case "infer": InferenceBenchmarks.run(only: parts.count == 2 ? parts[1] : nil, quick: quick, output: output)   // InferenceBenchmarks.swift
            case "layers": layerFigures(quick: quick, output: output)
            case "cifar3", "fmnist2", "seedcnn", "resnet20":
                // "+float-forward": the same precision with the integer forward off
                // (fake-quantized float GEMMs), to show what the integer path gains.
                // "g8" / "gbf16": gradient precision (int8 or bf16 backward GEMMs).
                // "NET.P1,P2,…": those precisions interleaved (`interleavedFigures`).
                let all = ["w32a32", "w8a8", "w8a8+float-forward", "w8a8g8", "w8a8gbf16", "w4a4", "w1a1", "wta8"]
                let listed = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : all
                let precisions = listed.filter { p in
                    let known = LayerPrecision(String(p.prefix { $0 != "+" })) != nil
                    if !known { output("# unknown precision '\(p)' in '\(entry)'") }
                    return known
                }
                if listed.count > 1 && parts.count == 2 {
                    if precisions.count > 1 { interleavedFigures(net: name, precisions: precisions, quick: quick, output: output) }
                    continue
                }
                for p in precisions {
                    IntegerForward.enabled = !p.hasSuffix("+float-forward")
                    trainingFigure(net: name, precision: p, quick: quick, output: output)
                    IntegerForward.enabled = true
                }
            default: output("# unknown benchmark '\(entry)'; benchmarks are \(Self.names.joined(separator: ", ")) (a network's also as NET.PRECISION, e.g. cifar3.w8a8g8, or NET.P1,P2,… interleaved; infer.NET or infer.NET.PRECISION)")
            }
        }
    }

    /// GEMM throughput per library, one thread. The three GEMMs of a shape are timed
    /// in turn, repetition by repetition, so that load from other processes falls on
    /// all of them alike: OpenBLAS sgemm, oneDNN sgemm, oneDNN u8×s8→s32. Timed in
    /// CPU seconds of the calling thread (on a busy machine wall time mostly
    /// measures the other processes).
    static func sgemmFigures(quick: Bool, output: (String) -> Void) {
        // 512³ (the warm-up size) and the GEMMs of cifar3's convolutions at batch 64.
        let sizes: [(String, Int, Int, Int)] = [
            ("512x512x512", 512, 512, 512),
            ("cifar3.conv2.fwd_64x16384x288", 64, 16384, 288),
            ("cifar3.conv3.fwd_128x4096x576", 128, 4096, 576),
        ]
        for (label, m, n, k) in sizes {
            let a = [Float](repeating: 0.01, count: m * k), b = [Float](repeating: 0.02, count: k * n)
            let a8 = [UInt8](repeating: 3, count: m * k), b8 = [Int8](repeating: -2, count: k * n)
            var c = [Float](repeating: 0, count: m * n), c32 = [Int32](repeating: 0, count: m * n)
            let reps = quick ? 3 : 10
            var seconds = [0.0, 0.0, 0.0]
            for _ in 0..<reps {
                a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                    var t0 = threadCPUSeconds()
                    openBLASSgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                    seconds[0] += threadCPUSeconds() - t0
                    t0 = threadCPUSeconds()
                    sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                    seconds[1] += threadCPUSeconds() - t0
                } } }
                a8.withUnsafeBufferPointer { ap in b8.withUnsafeBufferPointer { bp in c32.withUnsafeMutableBufferPointer { cp in
                    let t0 = threadCPUSeconds()
                    gemmU8S8S32(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                    seconds[2] += threadCPUSeconds() - t0
                } } }
            }
            let ops = 2.0 * Double(m * n * k) * Double(reps) / 1e9
            output("sgemm.\(label).openblas.1thread \(format(ops / seconds[0])) GFLOP/s")
            output("sgemm.\(label).onednn.1thread \(format(ops / seconds[1])) GFLOP/s")
            output("gemm_u8s8s32.\(label).onednn.1thread \(format(ops / seconds[2])) GOP/s")
        }
    }

    /// Forward time of cifar3's conv2 and conv3 at batch 64 with w8 weights on a8
    /// input: the fake-quantized float forward against the integer forward, timed in
    /// turn (thread CPU seconds), milliseconds per batch.
    static func layerFigures(quick: Bool, output: (String) -> Void) {
        for (label, c, k, hw) in [("cifar3.conv2", 32, 64, 16), ("cifar3.conv3", 64, 128, 8)] {
            var rng = SplitMix64(seed: 5)
            let conv = Conv2D(name: label, inputChannels: c, filters: k, kernel: 3, padding: 1, rng: &rng)
            conv.weightQuantizer = UniformWeightQuantizer(bits: 8)
            let act = UniformActivationQuantizer(bits: 8)
            conv.integerInput = act
            let shape = [64, c, hw, hw]
            let raw = (0..<shape.reduce(1, *)).map { _ in rng.nextNormal() }
            let x = Tensor(shape: shape, data: act.forward(raw, training: true))
            var y = Tensor(zeros: [0])
            var seconds = [0.0, 0.0]
            let reps = quick ? 5 : 30
            for rep in 0...reps {
                for (i, integer) in [false, true].enumerated() {
                    conv.integerForward = integer
                    let t0 = threadCPUSeconds()
                    conv.forward(x, into: &y, training: true)
                    if rep > 0 { seconds[i] += threadCPUSeconds() - t0 }   // rep 0 warms up
                }
            }
            output("layer.\(label).fwd.w8a8.float \(String(format: "%.3f", seconds[0] / Double(reps) * 1e3)) ms")
            output("layer.\(label).fwd.w8a8.int8 \(String(format: "%.3f", seconds[1] / Double(reps) * 1e3)) ms")
        }
    }

    /// A configuration of a preset with one precision on every weighted layer except
    /// cifar3's dense layer, kept float as in the seed paper.
    static func configuration(net: String, precision: String) -> Configuration {
        let spec = Presets.spec(net)!
        let input = Presets.inputShape(net)!
        var rng = SplitMix64(seed: 0)
        let names = try! Sequential(spec: spec, inputShape: input, rng: &rng).weightedLayers.map(\.name)
        let p = LayerPrecision(String(precision.prefix { $0 != "+" }))!
        let ps = names.map { net == "cifar3" && $0.hasPrefix("dense") ? LayerPrecision.float : p }
        return Configuration(name: "\(net)-\(precision)", modelName: net, spec: spec, inputShape: input, layerNames: names, precisions: ps)
    }

    /// Batch size of every training figure.
    static let batch = 64

    /// `batches` batches of random images shaped like `net`'s input, random labels, and
    /// the normalisation and settings every training figure uses (SGD, rate 0.01).
    static func syntheticData(net: String, batches: Int) -> (split: Split, norm: Normalization, settings: TrainingSettings) {
        let input = Presets.inputShape(net)!
        let classes = net == "cifar3" ? 100 : 10
        var rng = SplitMix64(seed: 7)
        let count = batch * batches
        let size = input.reduce(1, *)
        let pixels = (0..<(count * size)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let labels = (0..<count).map { _ in Int32(rng.nextInt(below: classes)) }
        let split = Split(storage: .uint8(pixels), labels: labels, sampleShape: input)
        let norm = Normalization(mean: Array(repeating: 0.5, count: input[0]), std: Array(repeating: 0.25, count: input[0]))
        var settings = TrainingSettings()
        settings.optimizer = "sgd"; settings.learningRate = 0.01; settings.batchSize = batch
        return (split, norm, settings)
    }

    static func trainingFigure(net: String, precision: String, quick: Bool, output: (String) -> Void) {
        let config = configuration(net: net, precision: precision)
        let batches = quick ? 6 : 30
        let count = batch * batches
        let (split, norm, settings) = syntheticData(net: net, batches: batches)
        func makeTrainer(_ seed: UInt64) -> Trainer { try! Trainer(configuration: config, settings: settings, seed: seed) }
        let warm = split.subset(Array(0..<(batch * 2)))
        // One trial and two alternate for `rounds` rounds and the lines sum them: a single
        // pair of short epochs put two trials at 1.44–2.03× one on this VM from one run to
        // the next (each timing moves by ±15 %), alternating makes load changes fall on both.
        let rounds = quick ? 1 : 3
        var totals = [[TrialSpan]](repeating: [], count: 2)
        var walls = [Double](repeating: 0, count: 2)
        for _ in 0..<rounds {
            for workers in [1, 2] {
                let s = timedEpochs(workers: workers, makeTrainer: makeTrainer, warm: warm, split: split, normalization: norm)
                walls[workers - 1] += s.map(\.end).max()! - s.map(\.start).min()!
                totals[workers - 1] += s
            }
        }
        for workers in [1, 2] {
            let s = totals[workers - 1], images = Double(count * workers * rounds)
            let label = "train.\(net).\(precision).\(workers == 1 ? "1trial" : "2trials")"
            output("\(label) \(format(images / walls[workers - 1])) images/s")
            // Per CPU second of the trial threads: what a trial costs when the machine
            // is shared. Two trials that contend for something (memory, a lock) show it
            // here as fewer images per CPU second than one.
            output("\(label).cpu \(format(images / s.map(\.cpu).reduce(0, +))) images/cpu-s")
            // Time the trial threads were runnable but not running (other processes had
            // the CPU), as a share of their wall time: with it, a low 2-trial figure
            // tells the machine's load from contention between the trials.
            let waits = s.compactMap(\.waiting)
            if waits.count == s.count {
                output("\(label).waiting \(format(100 * waits.reduce(0, +) / s.map { $0.end - $0.start }.reduce(0, +))) % of wall")
            }
        }
    }

    /// `workers` fresh trials side by side, each on its own thread: a warm-up epoch on
    /// `warm`, a barrier, then the timed epoch on `split`. Warm-up and timed epoch share
    /// the thread: oneDNN's primitives, packed weights and scratch are kept per thread
    /// (`Matmul`), and a trial keeps its thread for all its epochs, so a fresh thread for
    /// the timed epoch would time their creation (it did for two trials, never for one).
    private static func timedEpochs(workers: Int, makeTrainer: (UInt64) -> Trainer, warm: Split, split: Split,
                                    normalization norm: Normalization) -> [TrialSpan] {
        // Lent to the workers: worker i uses trainers[i] only (see ForkJoinLoan).
        let trainers = ForkJoinLoan((0..<workers).map { makeTrainer(UInt64($0)) })
        let warmedUp = DispatchGroup()     // a barrier: every trial warmed up before any clock starts
        for _ in 0..<workers { warmedUp.enter() }
        let spans = Mutex([TrialSpan](repeating: TrialSpan(), count: workers))
        parallelFor(workers, workers: workers) { i in
            _ = trainers.value[i].trainEpoch(on: warm, normalization: norm)
            warmedUp.leave()
            warmedUp.wait()
            let t0 = monotonicSeconds(), c0 = threadCPUSeconds(), w0 = runQueueSeconds()
            _ = trainers.value[i].trainEpoch(on: split, normalization: norm)
            let span = TrialSpan(start: t0, end: monotonicSeconds(), cpu: threadCPUSeconds() - c0,
                                 waiting: w0.flatMap { w0 in runQueueSeconds().map { $0 - w0 } })
            spans.withLock { $0[i] = span }
        }
        return spans.withLock { $0 }
    }

    /// Precisions of one network compared on one thread, interleaved: every round trains
    /// each configuration for 4 batches in turn (20 rounds; 5 with `quick`) after one
    /// warm-up round, and a line per precision gives its images per CPU-second of all
    /// rounds. A change of load or clock (±15 % between runs of one binary on this VM)
    /// then falls on all of them alike, which separate figures cannot promise: this is
    /// how "w4a4 and w1a1 at least as fast as w8a8" is measured.
    static func interleavedFigures(net: String, precisions: [String], quick: Bool, output: (String) -> Void) {
        let batches = 4, rounds = quick ? 5 : 20
        let (split, norm, settings) = syntheticData(net: net, batches: batches)
        let trainers = precisions.map { try! Trainer(configuration: configuration(net: net, precision: $0), settings: settings, seed: 0) }
        var cpu = [Double](repeating: 0, count: trainers.count)
        for round in 0...rounds {
            for (i, t) in trainers.enumerated() {
                IntegerForward.enabled = !precisions[i].hasSuffix("+float-forward")
                let c0 = threadCPUSeconds()
                _ = t.trainEpoch(on: split, normalization: norm)
                if round > 0 { cpu[i] += threadCPUSeconds() - c0 }   // round 0 warms up
            }
        }
        IntegerForward.enabled = true
        for (i, p) in precisions.enumerated() {
            output("train.\(net).\(p).interleaved.cpu \(format(Double(batch * batches * rounds) / cpu[i])) images/cpu-s")
        }
    }

    /// One trial's timed epoch: wall-clock start and end, CPU seconds of its thread, and
    /// the seconds it waited on a run queue (nil where the kernel does not say).
    struct TrialSpan: Sendable {
        var start = 0.0, end = 0.0, cpu = 0.0
        var waiting: Double? = nil
    }

    /// Seconds the calling thread has spent runnable but waiting for a CPU: the second
    /// field of Linux's /proc/thread-self/schedstat (nanoseconds); nil elsewhere.
    static func runQueueSeconds() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/thread-self/schedstat", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let ns = Double(fields[1]) else { return nil }
        return ns * 1e-9
    }

    static func format(_ x: Double) -> String { String(format: "%.1f", x) }

    /// The CPU model from /proc/cpuinfo.
    public static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return "unknown"
    }
}
