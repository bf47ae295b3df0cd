import Testing
import Tensors
import Quantization
import Networks

/// Sizes typed in a model spec are bounded before anything is allocated: found by
/// scripts/fuzz-release.sh, `model define m = dense 9223372036854775807 | dense 3`
/// trapped on overflow in the release build (and `dense 4000000000` asked for 64 GB).
@Suite struct ModelSizeTests {
    func build(_ spec: String, _ input: [Int]) throws -> Sequential {
        var rng = SplitMix64(seed: 1)
        return try Sequential(spec: ModelSpec(parsing: spec), inputShape: input, rng: &rng)
    }

    @Test(arguments: [
        ("dense 9223372036854775807 | dense 3", [4], "layer 1 'dense 9223372036854775807': expected a unit count (an integer 1…1048576), found '9223372036854775807'"),
        ("dense 1048576 | dense 1048576", [4], "dense2 (dense 1048576): 1048576×1048576 weights, more than 268435456"),
        ("conv 3 k3 p4611686018427387904 | dense 3", [1, 2, 2], "layer 1 'conv 3 k3 p4611686018427387904': unexpected 'p4611686018427387904'; options are kN, sN, pN, nobias"),
        ("conv 64 k3 p1048576 | dense 3", [1, 2, 2], "conv1: output 64×2097152×2097152 is more than 16777216 values per sample (model: conv 64 k3 p1048576 | dense 3)"),
        ("dense 3", [100000, 100000, 3], "input 100000×100000×3: expected sizes ≥ 1 and at most 16777216 values per sample"),
        ("bn | dense 3", [], "bn1 (bn): expects an input with channels, got a scalar"),
    ])
    func oversizedModelsAreErrors(spec: String, input: [Int], message: String) {
        #expect(throws: ModelError(message)) { try build(spec, input) }
    }

    @Test func largeButReasonableModelsBuild() throws {
        #expect(try build("conv 16 k3 | relu | maxpool 2 | dense 10", [3, 32, 32]).weightedLayers.count == 2)
    }
}
