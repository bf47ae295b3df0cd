import Foundation
import Formatting
import Tensors
import Networks
import Datasets
import Trials

/// `evaluate`'s measurement: the packed engine and the float forward of the same
/// model (fake-quantized float GEMMs, integer forward off) over the same split, each
/// timed in CPU seconds of this thread around its forward passes only.
struct PackedEvaluation {
    let packed: (loss: Double, accuracy: Double)
    let float: (loss: Double, accuracy: Double)
    let packedRate: Double, floatRate: Double
    let plan: [String]

    init(packed model: PackedModel, float reference: Sequential, split: Split, normalization n: ModelArchiveHeader.InputNormalization) {
        BLAS.generateKernels()   // oneDNN's one-time kernel generation outside both timings
        let norm = Normalization(mean: n.mean, std: n.std)
        let perSample = reference.shapes.reduce(reference.inputShape.reduce(1, *)) { $0 + $1.reduce(1, *) }
        let batch = max(1, min(500, (1 << 24) / max(perSample, 1)))
        let timedPacked = TimedForward(model)
        packed = evaluateModel(timedPacked, on: split, normalization: norm, batchSize: batch)
        for layer in reference.weightedLayers {
            (layer as? Conv2D)?.integerForward = false
            (layer as? Dense)?.integerForward = false
        }
        let timedFloat = TimedForward(reference)
        float = evaluateModel(timedFloat, on: split, normalization: norm, batchSize: batch)
        packedRate = timedPacked.samplesPerSecond
        floatRate = timedFloat.samplesPerSecond
        plan = model.plan
    }

    /// Speeds, the float path's accuracy when it differs, and the plan.
    var report: String {
        var lines = ["packed \(grouped(packedRate)) images/s · float forward \(grouped(floatRate)) images/s · "
                     + String(format: "%.1f×", floatRate > 0 ? packedRate / floatRate : 0)
                     + " (images per CPU-second, one thread; \(CPUFeatures.summary))"]
        if float.accuracy != packed.accuracy {
            lines.append("float forward accuracy \(Quantity.accuracy.prose(float.accuracy)) (float summation order moved a prediction)")
        }
        lines.append("kernels:")
        lines += plan.map { "  " + $0 }
        return lines.joined(separator: "\n")
    }
}

/// 41200.4 → "41,200".
func grouped(_ x: Double) -> String {
    let digits = String(Int(x.rounded()))
    var out = ""
    for (i, ch) in digits.reversed().enumerated() {
        if i > 0 && i % 3 == 0 && ch != "-" { out.append(",") }
        out.append(ch)
    }
    return String(out.reversed())
}
