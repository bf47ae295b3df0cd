import CBitKernels
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
            out.withSink(output, batch: n) { sink in
                source.codes.withUnsafeBufferPointer { cb in
                    var a = ql_maxpool_codes_args()
                    a.x = cb.baseAddress!; a.batch = n; a.height = h; a.width = w; a.channels = s[0]
                    a.window = k; a.stride = st; a.out_height = oh; a.out_width = ow; a.y = sink.codes!
                    ql_maxpool_codes(&a)
                }
            }
        case .bits:
            let gi = BitGeometry(s), go = BitGeometry(output.shape)
            out.withSink(output, batch: n) { sink in
                source.bits.withUnsafeBufferPointer { wb in
                    UnsafeRawPointer(wb.baseAddress!).withMemoryRebound(to: UInt32.self, capacity: 2 * wb.count) { half in
                        var a = ql_maxpool_bits_args()
                        a.x = half; a.batch = n; a.height = h; a.width = w; a.words_per_position = gi.wordsPerPosition
                        a.window = k; a.stride = st; a.out_height = oh; a.out_width = ow
                        a.in_half_words = 2 * gi.wordsPerSample; a.out_half_words = 2 * go.wordsPerSample; a.y = sink.halfWords!
                        ql_maxpool_bits(&a)
                    }
                }
            }
        case .float:
            break
        }
    }
}
