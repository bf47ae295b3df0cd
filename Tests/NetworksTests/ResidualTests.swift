import Foundation
import Testing
import Tensors
import Quantization
@testable import Networks

/// Residual blocks, global average pooling and the option-A shortcut: the language,
/// shapes and names, gradients against finite differences, quantization placement,
/// the integer forward, the archive and the cost of residual models.
@Suite struct ResidualTests {
    static func build(_ text: String, input: [Int], precision: @escaping (String) -> String = { _ in "w32a32" },
                      seed: UInt64 = 1) throws -> Sequential {
        var rng = SplitMix64(seed: seed)
        return try Sequential(spec: ModelSpec(parsing: text), inputShape: input,
                              precision: { LayerPrecision(precision($0))! }, rng: &rng)
    }

    static func error(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    // MARK: language

    @Test func textRoundTrips() throws {
        for text in [
            "conv 16 k3 | res(conv 16 k3 | bn | relu | conv 16 k3 | bn) | relu | gap | dense 10",
            "conv 16 k3 | res(conv 32 k3 s2 nobias | bn ; conv 32 k1 s2 nobias | bn) | relu | gap | dense 10",
            "conv 16 k3 | res(conv 32 k3 s2 | bn ; pad 32 s2) | gap | dense 10",
            "conv 8 k1 | pad 12 | gap | dense 3",
        ] {
            let spec = try ModelSpec(parsing: text)
            #expect(spec.text == text)
            #expect(try ModelSpec(parsing: spec.text) == spec)
        }
        #expect(try ModelSpec(parsing: "conv 4 k3 | RES (conv 4 k3;pad 4) | avgpool global | dense 2").text
                == "conv 4 k3 | res(conv 4 k3 ; pad 4) | gap | dense 2")
        let block = try ModelSpec(parsing: "conv 4 k3 | res(conv 4 k3 | bn ; conv 4 k1 | bn) | dense 2").layers[1]
        #expect(block == .residual(main: [.conv(filters: 4, kernel: 3, stride: 1, padding: 1, bias: true), .batchNorm],
                                   shortcut: [.conv(filters: 4, kernel: 1, stride: 1, padding: 0, bias: true), .batchNorm]))
    }

    @Test func parseErrorsNameTheBlock() {
        func parse(_ t: String) -> String { Self.error { _ = try ModelSpec(parsing: t) } }
        #expect(parse("conv 4 k3 | res(conv 4 k3 | dense 2") == "model: 1 '(' without its ')'")
        #expect(parse("conv 4 k3) | dense 2") == "model: ')' at character 10 closes no '('")
        #expect(parse("conv 4 | res(relu) | dense 2")
                == "res block 1 (layer 2) 'res(relu)': the main path has no conv or dense layer")
        #expect(parse("conv 4 | res(conv 4 ; ) | dense 2")
                == "res block 1 (layer 2) 'res(conv 4 ; )': empty shortcut after ';' (res(LAYERS) has an identity shortcut)")
        #expect(parse("conv 4 | res(conv 4 ; pad 4 ; pad 4) | dense 2")
                == "res block 1 (layer 2) 'res(conv 4 ; pad 4 ; pad 4)': expected one ';' between the main path and the shortcut, found 2")
        #expect(parse("conv 4 | res(conv 4) | res(conv 4 | res(conv 4)) | dense 2")
                == "res block 2 (layer 3), main path layer 2 'res(conv 4)': res blocks do not nest")
        #expect(parse("conv 4 | res(conv 4 | bn | rleu) | dense 2")
                == "res block 1 (layer 2), main path layer 3 'rleu': unknown layer 'rleu'; did you mean 'relu'? "
                   + "(layers: conv, dense, bn, relu, htanh, maxpool, avgpool, flatten, dropout, gap, pad, res)")
        #expect(parse("conv 4 | res | dense 2") == "layer 2 'res': expected res(LAYERS) or res(LAYERS ; SHORTCUT)")
        #expect(parse("conv 4 | gap 2 | dense 2") == "layer 2 'gap 2': global average pooling takes no options, found '2'")
        #expect(parse("conv 4 | pad | dense 2") == "layer 2 'pad': expected a channel count, found nothing")
        #expect(parse("conv(4) | dense 2") == "layer 1 'conv(4)': only res(…) takes parentheses")
    }

    /// The brief's example: a stride-2 main path on an identity shortcut.
    @Test func shapeMismatchNamesBlockAndShapes() {
        let text = "conv 16 k3 | res(conv 16 k3 | bn) | res(conv 32 k3 s2 | bn | relu | conv 32 k3 | bn) | relu | gap | dense 10"
        let message = Self.error { _ = try Self.build(text, input: [3, 32, 32]) }
        #expect(message == "res block 2: main path gives 32×16×16, identity shortcut gives 16×32×32 (block input 16×32×32); "
                + "a shortcut that matches: res(… ; conv 32 k1 s2 nobias | bn) or res(… ; pad 32 s2) (model: \(text))")
        let projection = Self.error {
            _ = try Self.build("conv 16 k3 | res(conv 32 k3 s2 | bn ; conv 32 k1 | bn) | gap | dense 10", input: [3, 8, 8])
        }
        #expect(projection.hasPrefix("res block 1: main path gives 32×4×4, shortcut gives 32×8×8 (block input 16×8×8)"))
        let pad = Self.error { _ = try Self.build("conv 16 k3 | res(conv 8 k3 ; pad 8) | dense 2", input: [3, 8, 8]) }
        #expect(pad.hasPrefix("pad1 (pad 8): pads to 8 channels but its input 16×8×8 has more"))
    }

    // MARK: presets

    /// Parameter counts as published. ResNet-20 (He et al. 2016, option A): conv 3→16
    /// 432; 6 convs 16→16 13,824; 32: 4,608 + 5·9,216; 64: 18,432 + 5·36,864; 19 BatchNorms
    /// 2·(7·16 + 6·32 + 6·64) = 1,376; dense 64·10 + 10 = 650 → 269,722 ("0.27M").
    /// VGG-Small: convs 3,456 + 147,456 + 294,912 + 589,824 + 1,179,648 + 2,359,296, dense
    /// 8,192·10 + 10, BatchNorm 2·1,792 → 4,660,106. LeNet-5: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706.
    @Test(arguments: [("resnet20", 269_722, 20), ("vgg-small", 4_660_106, 7), ("lenet5", 61_706, 5)])
    func presetParameterCounts(_ name: String, _ parameters: Int, _ weighted: Int) throws {
        var rng = SplitMix64(seed: 0)
        let m = try Sequential(spec: #require(Presets.spec(name)), inputShape: #require(Presets.inputShape(name)), rng: &rng)
        #expect(m.parameters.reduce(0) { $0 + $1.value.count } == parameters)
        #expect(m.weightedLayers.count == weighted)
        #expect(m.outputShape == [10])
        #expect(m.summary().split(separator: "\n").last!.hasPrefix("total parameters: \(grouped(parameters))"))
    }

    @Test func resnet20Names() throws {
        var rng = SplitMix64(seed: 0)
        let m = try Sequential(spec: #require(Presets.spec("resnet20")), inputShape: [3, 32, 32], rng: &rng)
        #expect(m.weightedLayers.map(\.name) == (1...19).map { "conv\($0)" } + ["dense1"])
        #expect(m.layers.compactMap { $0 as? ResidualBlock }.map(\.name) == (1...9).map { "res\($0)" })
        #expect(m.allLayers.compactMap { $0 as? ChannelPad }.map(\.name) == ["pad1", "pad2"])
        #expect(m.inputShape(of: m.weightedLayers[7]) == [16, 32, 32] && m.inputShape(of: m.weightedLayers[8]) == [32, 16, 16])
    }

    /// Projection shortcuts are weighted layers of their own, `shortcut1`, … in the order
    /// written (main path first), and do not shift the conv numbering.
    @Test func shortcutLayersAreNamedAndCarryPrecision() throws {
        let text = "conv 8 k3 | bn | relu | res(conv 16 k3 s2 | bn | relu | conv 16 k3 | bn ; conv 16 k1 s2 | bn) | relu"
            + " | res(conv 16 k3 | bn) | relu | gap | dense 10"
        let m = try Self.build(text, input: [1, 8, 8], precision: { $0.hasPrefix("shortcut") ? "w32a32" : "w4a4" })
        #expect(m.weightedLayers.map(\.name) == ["conv1", "conv2", "conv3", "shortcut1", "conv4", "dense1"])
        #expect(m.weightedLayers.map { $0.weightQuantizer.precision.token } == ["4", "4", "4", "32", "4", "4"])
        #expect(m.weightedInputSources == [nil, 0, 1, 0, 2, 4])
        // Quantization points: conv1 after its relu; conv2 inside; conv3 (res1's output
        // owner) after the add and the relu that follows; conv4 likewise; none for
        // shortcut1 or the logits.
        let names = m.allLayers.map(\.name)
        #expect(names == ["conv1", "bn1", "relu1", "conv1.act", "conv2", "bn2", "relu2", "conv2.act", "conv3", "bn3",
                          "shortcut1", "bn4", "relu3", "conv3.act", "conv4", "bn5", "relu4", "conv4.act", "gap1", "dense1"])
        #expect(m.layers.map(\.name) == ["conv1", "bn1", "relu1", "conv1.act", "res1", "relu3", "conv3.act",
                                         "res2", "relu4", "conv4.act", "gap1", "dense1"])
    }

    /// Binary activations replace the ReLU after the block with sign, applied to the sum.
    @Test func binaryActivationAfterTheAdd() throws {
        let m = try Self.build("conv 4 k3 | res(conv 4 k3 | bn | relu | conv 4 k3 | bn) | relu | dense 3", input: [1, 6, 6],
                               precision: { $0 == "dense1" ? "w32a32" : "w1a1" })
        #expect(m.layers.map(\.name) == ["conv1", "conv1.act", "res1", "conv3.act", "dense1"])
        #expect((m.layers[2] as! ResidualBlock).main.map(\.name) == ["conv2", "bn1", "conv2.act", "conv3", "bn2"])
    }

    @Test func chainNamesAndDrawsUnchanged() throws {
        // A chain model's layer list, names and first weights do not depend on the builder
        // handling blocks: the same seed gives the same draws as a bare Conv2D/Dense pair.
        let m = try Self.build("conv 4 k3 | relu | dense 3", input: [1, 4, 4], precision: { _ in "w4a4" })
        #expect(m.layers.map(\.name) == ["conv1", "relu1", "conv1.act", "dense1"])
        var rng = SplitMix64(seed: 1)
        let conv = Conv2D(name: "c", inputChannels: 1, filters: 4, kernel: 3, padding: 1, rng: &rng)
        let dense = Dense(name: "d", inputFeatures: 64, outputFeatures: 3, rng: &rng)
        #expect(m.weightedLayers[0].weight.value.data == conv.weight.value.data)
        #expect(m.weightedLayers[1].weight.value.data == dense.weight.value.data)
    }

    @Test func graphNodes() throws {
        let m = try Self.build("conv 4 k3 | res(conv 4 k3 | bn) | res(conv 6 k3 s2 ; pad 6 s2) | gap | dense 3", input: [1, 6, 6])
        let nodes = m.nodes
        func label(_ n: ModelNode) -> String {
            if case let .layer(l) = n.operation { return l.name } else { return "add" }
        }
        #expect(nodes.map(label) == ["conv1", "conv2", "bn1", "add", "conv3", "pad1", "add", "gap1", "dense1"])
        #expect(nodes.map(\.inputs) == [[-1], [0], [1], [2, 0], [3], [3], [4, 5], [6], [7]])
        #expect(nodes.map(\.shape) == [[4, 6, 6], [4, 6, 6], [4, 6, 6], [4, 6, 6], [6, 3, 3], [6, 3, 3], [6, 3, 3], [6], [3]])
        #expect(nodes[3].block?.name == "res1" && nodes[0].block == nil)
    }

    // MARK: layers

    @Test func globalAvgPoolAndPadValues() throws {
        var x = Tensor(zeros: [1, 2, 2, 3])
        x.data = [1, 2, 3, 4, 5, 6, -1, -1, -1, -1, -1, 2]
        var y = Tensor(zeros: [0])
        GlobalAvgPool().forward(x, into: &y, training: true)
        #expect(y.shape == [1, 2] && y.data == [3.5, -0.5])
        let pad = ChannelPad(channels: 3, stride: 2)
        #expect(try pad.outputShape(for: [2, 2, 3]) == [3, 1, 2])
        pad.forward(x, into: &y, training: true)
        #expect(y.shape == [1, 3, 1, 2] && y.data == [1, 3, -1, -1, 0, 0])
        var dx = Tensor(zeros: [0])
        pad.backward(input: x, output: y, gradient: Tensor(shape: [1, 3, 1, 2], data: [1, 2, 3, 4, 5, 6]), into: &dx,
                     needsInputGradient: true)
        #expect(dx.data == [1, 0, 2, 0, 0, 0, 3, 0, 4, 0, 0, 0])
    }

    @Test func globalAvgPoolGradient() {
        GradientCheck().check(GlobalAvgPool(), input: randomTensor([2, 3, 3, 4], seed: 3))
    }

    @Test func channelPadGradient() {
        GradientCheck().check(ChannelPad(channels: 5, stride: 2), input: randomTensor([2, 3, 5, 4], seed: 4))
    }

    /// The join and the block: dx = ∂main ᵀdy + ∂shortcut ᵀdy (identity: + dy), and every
    /// parameter of both paths, against central differences. No ReLU inside, so no kink
    /// lies within h of an input.
    @Test(arguments: [
        "conv 3 k3 | res(conv 3 k3 nobias | bn | conv 3 k3 nobias | bn) | dense 2",
        "conv 3 k3 | res(conv 4 k3 s2 nobias | bn | conv 4 k3 ; conv 4 k1 s2 nobias | bn) | dense 2",
        "conv 3 k3 | res(conv 5 k3 s2 nobias | bn | conv 5 k3 nobias | bn ; pad 5 s2) | dense 2",
        "conv 3 k3 | res(conv 3 k1) | dense 2",
    ])
    func blockGradient(_ text: String) throws {
        let m = try Self.build(text, input: [3, 5, 5], seed: 5)
        let block = try #require(m.layers.first { $0 is ResidualBlock })
        GradientCheck().check(block, input: randomTensor([2, 3, 5, 5], seed: 6))
    }

    /// L = Σ logits·r on input `x` (training mode) as a function to call again after moving
    /// parameters; the analytic ∂L/∂θ of the current parameters is left in every `grad`.
    static func linearLoss(_ m: Sequential, _ x: Tensor, _ r: Tensor) -> () -> Double {
        func loss() -> Double {
            m.withInput { $0 = x }
            let out = m.forward(training: true)
            return zip(out.data, r.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        _ = loss()
        m.zeroGrad()
        m.withLogitGradient { $0 = r }
        m.backward()
        return loss
    }

    /// A whole residual network through `Sequential.backward`: every parameter's
    /// gradient of L = Σ logits·r against central differences in Double.
    @Test func networkGradient() throws {
        let text = "conv 4 k3 nobias | bn | res(conv 4 k3 nobias | bn | conv 4 k3 nobias | bn)"
            + " | res(conv 6 k3 s2 nobias | bn ; conv 6 k1 s2 nobias | bn) | res(conv 6 k3 nobias | bn ; pad 6) | gap | dense 3"
        let m = try Self.build(text, input: [2, 6, 6], seed: 8)
        let x = randomTensor([3, 2, 6, 6], seed: 9)
        let r = randomTensor([3, 3], seed: 10)
        let loss = Self.linearLoss(m, x, r)
        let h: Float = 1e-2
        for p in m.parameters {
            let err = GradientCheck.error(p.grad.data, centralDifferences(p, loss, h: h))
            #expect(err < 1e-3, "\(p.name): relative error \(err)")
        }
        #expect(m.parameters.count == 20, "6 conv weights, 6 BatchNorms' γ and β, the dense weight and bias")
    }

    /// The ResNet-20 preset whole (0.27 M parameters, 9 blocks, both option-A shortcuts):
    /// the analytic gradient along random directions v of all parameters at once,
    /// g·v, against the central difference (L(θ + hv) − L(θ − hv)) / 2h in Double. One
    /// direction checks every parameter's gradient together at the cost of two forwards;
    /// three seeded directions, so no component can hide. BatchNorm in training mode
    /// (batch statistics), as when training.
    @Test func resnet20DirectionalGradient() throws {
        var rng = SplitMix64(seed: 11)
        let m = try Sequential(spec: #require(Presets.spec("resnet20")), inputShape: [3, 32, 32], rng: &rng)
        let x = randomTensor([2, 3, 32, 32], seed: 12)
        let r = randomTensor([2, 10], seed: 13)
        let loss = Self.linearLoss(m, x, r)
        let params = m.parameters
        let grads = params.map { $0.grad.data }
        // h along a unit direction: each parameter moves by ~h/√270,000. Larger steps cross
        // ReLU kinks (h = 0.03 and 0.1 gave 0.4–1.6%, the central difference growing away from
        // g·v as h grows); at 1e-3 the three directions agree within 0.4%.
        let h: Float = 1e-3
        for seed in UInt64(20)..<23 {
            let v = params.enumerated().map { randomTensor($1.value.shape, seed: seed &* 1000 &+ UInt64($0)).data }
            let norm = Float(v.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + Double($1 * $1) } }.squareRoot())
            let analytic = zip(grads, v).reduce(0.0) { $0 + zip($1.0, $1.1).reduce(0.0) { $0 + Double($1.0) * Double($1.1 / norm) } }
            let saved = params.map { $0.value.data }
            func shift(_ sign: Float) {
                for (i, p) in params.enumerated() { for j in 0..<p.value.count { p.value.data[j] = saved[i][j] + sign * h * v[i][j] / norm } }
            }
            shift(1); let plus = loss()
            shift(-1); let minus = loss()
            for (i, p) in params.enumerated() { p.value.data = saved[i] }
            let numeric = (plus - minus) / (2 * Double(h))
            let err = abs(analytic - numeric) / max(abs(analytic) + abs(numeric), 1e-6)
            #expect(err < 1e-2, "direction \(seed): g·v \(analytic), central difference \(numeric), relative error \(err)")
        }
    }

    // MARK: downstream

    /// The integer forward reaches the convs of both paths of a block (their input is the
    /// previous block's quantized output), and gives the fake-quantized float result.
    @Test func integerForwardInsideBlocks() throws {
        let text = "conv 8 k3 | bn | relu | res(conv 8 k3 | bn | relu | conv 8 k3 | bn) | relu"
            + " | res(conv 12 k3 s2 | bn | relu | conv 12 k3 | bn ; conv 12 k1 s2 | bn) | relu | gap | dense 10"
        let m = try Self.build(text, input: [3, 8, 8], precision: { _ in "w8a8" }, seed: 3)
        let linked = m.weightedLayers.map { ($0 as? Conv2D)?.integerInput != nil }
        // conv1 reads images; conv2, conv4, shortcut1 read a block input; conv3, conv5 read a
        // quantized relu; dense1 reads a global average (off the grid).
        #expect(m.weightedLayers.map(\.name) == ["conv1", "conv2", "conv3", "conv4", "conv5", "shortcut1", "dense1"])
        #expect(linked == [false, true, true, true, true, true, false])
        let expectRan = zip(linked, m.weightedLayers).map { l, w in
            l && CPUDispatch.int8GEMMIsExact(maxA: 255, maxB: 127, k: w.weight.value.count / w.outputChannels)
        }
        var rng = SplitMix64(seed: 4)
        m.withInput { x in
            x.reshapeForOverwrite([8, 3, 8, 8])
            for i in 0..<x.count { x.data[i] = rng.nextNormal() }
        }
        _ = m.forward(training: true)                     // clips move off their initial values
        let integerLogits = m.forward(training: false).data
        let ran = m.weightedLayers.map { ($0 as? Conv2D)?.lastForwardWasInteger ?? false }
        #expect(ran == expectRan)
        for l in m.weightedLayers { (l as? Conv2D)?.integerForward = false }
        let floatLogits = m.forward(training: false).data
        let scale = floatLogits.reduce(Float(0)) { max($0, abs($1)) }
        assertClose(integerLogits, floatLogits, rtol: 0, atol: 1e-5 * scale, "logits")
    }

    @Test func archiveRoundTrip() throws {
        let text = "conv 4 k3 | bn | relu | res(conv 4 k3 | bn | relu | conv 4 k3 | bn) | relu"
            + " | res(conv 6 k3 s2 | bn ; conv 6 k1 s2 | bn) | relu | res(conv 8 k3 s2 | bn ; pad 8 s2) | relu | gap | dense 3"
        let m = try Self.build(text, input: [1, 8, 8], precision: { $0.hasPrefix("shortcut") ? "w32a32" : ($0 == "dense1" ? "w8a8" : "w4a4") })
        var rng = SplitMix64(seed: 2)
        m.withInput { x in
            x.reshapeForOverwrite([4, 1, 8, 8])
            for i in 0..<x.count { x.data[i] = rng.nextFloat() }
        }
        _ = m.forward(training: true)
        let expected = m.forward(training: false).data
        let c = try ModelArchive.container(model: m, normalization: .init(mean: [0.5], std: [0.25]))
        #expect(c.record("shortcut1.weight") != nil && c.record("conv5.act.clip") != nil && c.record("bn6.running_var") != nil)
        let loaded = try ModelArchive.load(try QLMContainer.decode(c.encode(), file: "m.qlm"), file: "m.qlm")
        #expect(loaded.model.weightedLayers.map(\.name) == m.weightedLayers.map(\.name))
        loaded.model.withInput { x in m.withInput { x = $0 } }
        #expect(loaded.model.forward(training: false).data == expected)
        // A record of the wrong shape inside a block is named.
        var damaged = c
        let i = damaged.records.firstIndex { $0.name == "shortcut1.weight" }!
        damaged.records[i] = ArchiveRecord(name: "shortcut1.weight", shape: [6, 4, 3, 3], values: [Float](repeating: 0, count: 216))
        let message = Self.error { _ = try ModelArchive.load(damaged, file: "m.qlm") }
        #expect(message.contains("shortcut1.weight of shape 6×4×1×1"), "\(message)")
    }

    /// Each layer's input bits come from the activation it reads: a block's paths read
    /// the block input (the previous owner's), the layer after a block its owner's.
    @Test func costInputBitsFollowTheGraph() throws {
        let text = "conv 8 k3 | bn | relu | res(conv 16 k3 s2 | bn | relu | conv 16 k3 | bn ; conv 16 k1 s2 | bn) | relu | gap | dense 10"
        let bits = ["conv1": "w8a6", "conv2": "w4a4", "conv3": "w4a2", "shortcut1": "w32a32", "dense1": "w8a8"]
        let m = try Self.build(text, input: [1, 8, 8], precision: { bits[$0]! })
        let r = CostReport(model: m)
        #expect(r.layers.map(\.name) == ["conv1", "conv2", "conv3", "shortcut1", "dense1"])
        #expect(r.layers.map(\.input.inputBits) == [8, 6, 4, 6, 2])
        #expect(r.layers[3].input.macs == 16 * 8 * 4 * 4 && r.layers[3].input.weights == 128)
    }
}

/// 269722 → "269,722", as `model show` prints counts.
private func grouped(_ n: Int) -> String {
    let digits = String(n)
    return digits.enumerated().map { i, c in (i > 0 && (digits.count - i) % 3 == 0 ? "," : "") + String(c) }.joined()
}
