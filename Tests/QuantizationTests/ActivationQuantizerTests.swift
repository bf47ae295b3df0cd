import Testing
import Tensors
@testable import Quantization

@Suite struct ActivationQuantizerTests {
    @Test func twoBitMovingAverageClip() {
        // k = 2: L = 3. First batch: c = max x = 3, so c/L = 1 and q = round(clamp(x, 0, 3)):
        //   −1 → 0, 0 → 0, 0.5 → 0 (tie, even), 1 → 1, 1.5 → 2 (tie, even), 3 → 3
        let a = UniformActivationQuantizer(bits: 2, momentum: 0.9)
        #expect(a.clip == nil)
        #expect(a.forward([-1, 0, 0.5, 1, 1.5, 3], training: true) == [0, 0, 0, 1, 2, 3])
        #expect(a.clip == 3)
        // Second batch, max 1: c = 0.9·3 + 0.1·1 = 2.8.
        _ = a.forward([0.2, 1], training: true)
        assertClose(Double(a.clip!), 2.8, rtol: 1e-6)
        // Evaluation: frozen, whatever the batch holds.
        _ = a.forward([10, 20], training: false)
        assertClose(Double(a.clip!), 2.8, rtol: 1e-6)
        // c = 2.8, L = 3, step = 2.8/3: 20 → clamp 2.8 → code 3 → 2.8; 1.4 → 1.5 → 2 (tie).
        assertClose(a.forward([20, 1.4, -5], training: false), [2.8, 2 * 2.8 / 3, 0], rtol: 1e-6)
    }

    @Test func evaluationBeforeTrainingUsesBatchMaxWithoutKeepingIt() {
        let a = UniformActivationQuantizer(bits: 2)
        #expect(a.forward([0, 1, 2, 3], training: false) == [0, 1, 2, 3])
        #expect(a.clip == nil)
    }

    @Test func steMaskExactlyZeroOutsideExactlyDyInside() {
        let a = UniformActivationQuantizer(bits: 4)
        _ = a.forward([0, 3], training: true)                       // c = 3
        let x: [Float] = [-1, -0.0001, 0, 0.5, 3, 3.0001, 7]
        let dy: [Float] = [1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7]
        _ = a.forward(x, training: false)
        #expect(a.backward(x, gradient: dy) == [0, 0, 3.3, 4.4, 5.5, 0, 0])
    }

    /// The eight-lane forward and backward against the scalar definition, bit for bit,
    /// on 37 values (four vectors and a tail) with ties, negatives, values above c, NaN.
    @Test func vectorLoopsMatchScalarDefinition() {
        let a = UniformActivationQuantizer(bits: 3)
        _ = a.forward([0, 2.8], training: true)                     // c = 2.8
        var x = (0..<37).map { Float($0 - 6) * 0.1 }                // −0.6 … 3.0
        x[9] = .nan; x[20] = 0.2; x[30] = 2.8
        let c: Float = 2.8, inv = Float(7) / c, step = c / Float(7)
        let expected = x.map { v -> Float in
            let clamped = v.isNaN ? v : min(max(v, 0), c)
            return step * (clamped * inv).rounded(.toNearestOrEven)
        }
        let y = a.forward(x, training: false)
        for i in x.indices {
            #expect(y[i].bitPattern == expected[i].bitPattern || (y[i].isNaN && expected[i].isNaN), "q(\(x[i])) = \(y[i]), expected \(expected[i])")
        }
        let dy = (0..<37).map { Float($0) + 0.5 }
        let dx = a.backward(x, gradient: dy)
        #expect(dx == x.indices.map { x[$0] >= 0 && x[$0] <= c ? dy[$0] : 0 })
    }

    @Test func pactClipGradient() {
        // Learned clip, initialised by the first training batch to its max (3).
        let a = UniformActivationQuantizer(bits: 2, learnedClip: true)
        let x: [Float] = [-1, 0.5, 3, 4]
        _ = a.forward([0, 3], training: true)
        #expect(a.clip == 3 && a.parameters[0].value.data == [3])
        _ = a.forward(x, training: true)
        #expect(a.clip == 3, "a learned clip does not follow the batch max")
        // dx = dy·1{0 ≤ x ≤ 3} = [0, 2, 3, 0]; ∂L/∂c = Σ dy over x ≥ 3 = 3 + 4 = 7 (added).
        a.parameters[0].grad.data[0] = 0.5
        #expect(a.backward(x, gradient: [1, 2, 3, 4]) == [0, 2, 3, 0])
        #expect(a.parameters[0].grad.data == [7.5])
        // The optimizer moves the clip; forward follows it.
        a.parameters[0].value.data[0] = 1.5
        #expect(a.forward([0.4, 0.6, 2], training: true) == [0.5, 0.5, 1.5])   // step 0.5: 0.8 → 1, 1.2 → 1
    }

    @Test func pactLargeBackwardSumsEveryElement() {
        let a = UniformActivationQuantizer(bits: 8, learnedClip: true)
        a.clip = 1
        let x = linspace(-1, 2, 1001)                   // x ≥ 1 from index 667 on: 334 values
        let dy = [Float](repeating: 0.5, count: 1001)
        _ = a.forward(x, training: true)
        let dx = a.backward(x, gradient: dy)
        #expect(a.parameters[0].grad.data[0] == Float(x.filter { $0 >= 1 }.count) * 0.5)
        #expect(dx == zip(x, dy).map { $0 >= 0 && $0 <= 1 ? $1 : 0 })
    }

    @Test func idempotentInEvaluationAndLevelCount() {
        for k in [2, 3, 4, 8, 12, 16] {
            let a = UniformActivationQuantizer(bits: k)
            let x = linspace(-0.5, 2.7, 200_003)
            _ = a.forward(x, training: true)                // c = 2.7
            let once = a.forward(x, training: false)
            #expect(a.forward(once, training: false) == once, "k = \(k)")
            let levels = distinctCount(once)
            #expect(levels <= 1 << k)
            if k <= 12 { #expect(levels == 1 << k, "a dense ramp hits all 2^k levels, k = \(k)") }
        }
    }

    @Test func zeroClipGivesZeros() {
        let a = UniformActivationQuantizer(bits: 4)
        #expect(a.forward([-1, -2, 0], training: true) == [0, 0, 0])
        #expect(!a.forward([1, 2], training: false).contains { $0.isNaN })
    }

    @Test func inPlaceForwardAndBackward() {
        let a = UniformActivationQuantizer(bits: 2)
        var x: [Float] = [0, 1, 2, 3]
        x.withUnsafeMutableBufferPointer { p in
            a.forward(UnsafePointer(p.baseAddress!), into: p.baseAddress!, count: 4, training: true)
        }
        #expect(x == [0, 1, 2, 3])
    }

    @Test func binaryActivations() {
        let a = BinaryActivationQuantizer()
        let x: [Float] = [-2, -1, -0.5, 0, 0.5, 1, 2]
        #expect(a.forward(x, training: true) == [-1, -1, -1, 1, 1, 1, 1])
        #expect(a.backward(x, gradient: [1, 2, 3, 4, 5, 6, 7]) == [0, 2, 3, 4, 5, 6, 0])
        let y = a.forward(x, training: false)
        #expect(a.forward(y, training: false) == y)
        #expect(distinctCount(y) == 2)
    }

    @Test func floatActivationsAreIdentity() {
        let x: [Float] = [-1, 2]
        #expect(FloatActivations().forward(x, training: true) == x)
        #expect(FloatActivations().backward(x, gradient: [3, 4]) == [3, 4])
        #expect(FloatActivations().clip == nil)
    }
}
