import Tensors

/// Max pooling on codes or sign bits, NHWC. Exact against pooling the floats: the
/// activation quantizers are non-decreasing, so the code of the window's maximum is
/// the maximum of its codes; for signs the maximum is +1 when any value is +1 (OR of
/// the bits). Windows as `MaxPool` (rows and columns that do not fill one are dropped).
final class PackedMaxPool: InferenceStep {
    let name: String
    let window: PoolWindow
    let input: ActivationLayout
    let output: ActivationLayout

    init(name: String, window: PoolWindow, input: ActivationLayout) {
        self.name = name; self.window = window; self.input = input
        let s = input.shape
        let out = [s[0], window.outSize(s[1]), window.outSize(s[2])]
        switch input {
        case let .codes(_, grid): output = .codes(shape: out, grid: grid)
        case .bits: output = .bits(shape: out)
        case .float: preconditionFailure("PackedMaxPool: float input runs MaxPool itself")
        }
    }

    var summary: String { "\(name): maxpool \(window.specSuffix) on \(input.name)" }

    func run(_ source: ActivationBuffer, batch n: Int, into out: ActivationBuffer) {
        let s = input.shape, h = s[1], w = s[2]
        let oh = window.outSize(h), ow = window.outSize(w)
        let k = window.size, st = window.stride
        switch input {
        case .codes:
            let c = s[0]
            out.withSink(output, batch: n) { sink in
                source.codes.withUnsafeBufferPointer { cb in
                    let dst = sink.codes!
                    for i in 0..<n {
                        let image = cb.baseAddress! + i * h * w * c
                        for y in 0..<oh {
                            for x in 0..<ow {
                                let o = dst + ((i * oh + y) * ow + x) * c
                                o.update(from: image + ((y * st) * w + x * st) * c, count: c)
                                for a in 0..<k {
                                    for b in 0..<k where a + b > 0 {
                                        let p = image + ((y * st + a) * w + x * st + b) * c
                                        for ch in 0..<c { o[ch] = Swift.max(o[ch], p[ch]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        case .bits:
            let gi = BitGeometry(s), go = BitGeometry(output.shape)
            let c32 = gi.wordsPerPosition
            out.withSink(output, batch: n) { sink in
                source.bits.withUnsafeBufferPointer { wb in
                    UnsafeRawPointer(wb.baseAddress!).withMemoryRebound(to: UInt32.self, capacity: 2 * wb.count) { half in
                        for i in 0..<n {
                            let image = half + i * 2 * gi.wordsPerSample
                            let dstImage = sink.halfWords! + i * 2 * go.wordsPerSample
                            for y in 0..<oh {
                                for x in 0..<ow {
                                    let o = dstImage + (y * ow + x) * c32
                                    for j in 0..<c32 { o[j] = 0 }
                                    for a in 0..<k {
                                        for b in 0..<k {
                                            let p = image + ((y * st + a) * w + x * st + b) * c32
                                            for j in 0..<c32 { o[j] |= p[j] }
                                        }
                                    }
                                }
                            }
                            if go.halfWordsPerSample % 2 == 1 { dstImage[go.halfWordsPerSample] = 0 }
                        }
                    }
                }
            }
        case .float:
            break
        }
    }
}
