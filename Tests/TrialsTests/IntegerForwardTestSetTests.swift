import Foundation
import Testing
import Tensors
import Datasets
import Networks
import Quantization
@testable import Trials

/// The training model's integer forward (u8 activation or sign codes × s8 weight codes →
/// int32, then the scales) against its fake-quantized float forward, on the whole
/// Fashion-MNIST test set: identical argmax on all 10,000 images, and logits within
/// 1e-5 · max|logit| of their batch on at least 99.9 % of them (the float path rounds
/// its sums, which can move an activation code by one step at a rounding tie, or a
/// sign at a sum of exactly 0). The small CNN of `PackedModelTests`, trained one short
/// epoch with the integer forward on; then conv2, dense1 and dense2 read quantized
/// activations (the first conv sees float images).
@Suite(.serialized, .enabled(if: FileManager.default.fileExists(atPath: DatasetLoader.fashionMNISTPath + "/t10k-labels-idx1-ubyte.gz"),
                             "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"))
struct IntegerForwardTestSetTests {
    init() { BLAS.setThreads(1) }

    @Test(arguments: ["w8a8", "w4a4", "w2a2", "wta8", "w1a8", "w1a1", "wta1", "w4a1"])
    func integerForwardEqualsFakeQuantizedOnTheTestSet(_ precision: String) throws {
        let d = try #require(PackedModelTests.data)
        let (model, norm) = try PackedModelTests.trainedModel(precision)
        let p = LayerPrecision(precision)!
        let maxW: Int
        switch p.weight { case .bits(let k): maxW = (1 << (k - 1)) - 1; default: maxW = 1 }
        let maxA: Int
        switch p.activation { case .bits(let a): maxA = (1 << a) - 1; default: maxA = 2 }   // a1: sign codes s + 1
        let layers = model.weightedLayers
        func setInteger(_ on: Bool) {
            for l in layers { (l as? Conv2D)?.integerForward = on; (l as? Dense)?.integerForward = on }
        }
        func integerFlags() -> [Bool] {
            layers.map { ($0 as? Conv2D)?.lastForwardWasInteger ?? ($0 as! Dense).lastForwardWasInteger }
        }
        var flags: [Bool] = []
        let r = PackedModelTests.compareOnTestSet(d, normalization: norm) { which, fill in
            setInteger(which == 0)
            model.withInput(fill)
            let logits = model.forward(training: false)   // a copy on write: the next pass writes a new buffer
            if which == 0 { flags = integerFlags() }
            return logits
        }
        // conv2 has 4·9 taps, dense1 8·5·5, dense2 16: exact on any ISA where 2·maxA·maxW ≤ 32767.
        let exact = CPUDispatch.int8GEMMIsExact(maxA: maxA, maxB: maxW, k: 200)
        #expect(flags == [false, exact, exact, exact], "\(precision): integer layers \(flags) (\(CPUDispatch.isaName))")
        #expect(r.agree == d.test.count, "\(precision): argmax agrees on \(r.agree) of \(d.test.count)")
        #expect(r.loose <= d.test.count / 1000, "\(precision): \(r.loose) images with logits over 1e-5 of their scale apart (largest \(r.worst))")
        #expect(Double(r.correct) / Double(d.test.count) > 0.15, "\(precision): trained model accuracy \(r.correct) of \(d.test.count)")
        print("integer forward \(precision): argmax \(r.agree)/\(d.test.count), max |Δlogit|/scale \(r.worst), over 1e-5: \(r.loose), accuracy \(r.correct)")
    }
}
