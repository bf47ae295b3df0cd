import Tensors

/// Converts the samples at `indices` to Float, normalised and optionally augmented,
/// into `x` (shape [n] + sampleShape) and their classes into `labels` (count n).
///
/// Per value: x̂ = (v·u − mean[c]) / std[c], with u = 1/255 for byte images (pixels to
/// [0, 1]) and u = 1 for float data; folded into one multiply-add per value,
/// v·scale[c] + bias[c]. `augmentation` applies to [C, H, W] samples only (tabular
/// samples ignore it) and draws from `rng`; without it `rng` is not touched.
///
/// The training hot path: one pass over unsafe buffers, no allocation once `x` and
/// `labels` have the batch's size (they are reused from call to call).
public func fillBatch(_ split: Split, indices: ArraySlice<Int>, normalization: Normalization,
                      augmentation: Augmentation?, rng: inout SplitMix64,
                      x: inout Tensor, labels: inout [Int32]) {
    let n = indices.count
    let (channels, plane) = Normalization.channelLayout(split.sampleShape)
    precondition(normalization.mean.count == channels,
                 "fillBatch: normalization has \(normalization.mean.count) channels, samples have \(channels)")
    x.reshapeForOverwrite([n] + split.sampleShape)
    if labels.count != n { labels = [Int32](repeating: 0, count: n) }
    let unit: Float
    switch split.storage {
    case .uint8: unit = 1 / 255
    case .float: unit = 1
    }
    var scale = [Float](repeating: 0, count: channels), bias = scale
    for c in 0..<channels {
        scale[c] = unit / normalization.std[c]
        bias[c] = -normalization.mean[c] / normalization.std[c]
    }
    let aug = split.sampleShape.count == 3 ? augmentation : nil
    let height = split.sampleShape.count == 3 ? split.sampleShape[1] : 1
    let count = split.count
    for (k, i) in indices.enumerated() {
        precondition(i >= 0 && i < count, "fillBatch: index \(i) out of range 0..<\(count)")
        labels[k] = split.labels[i]
    }
    let geometry = BatchGeometry(channels: channels, plane: plane, height: height, width: plane / max(height, 1))
    scale.withUnsafeBufferPointer { sp in
        bias.withUnsafeBufferPointer { bp in
            x.data.withUnsafeMutableBufferPointer { xp in
                switch split.storage {
                case .uint8(let src):
                    src.withUnsafeBufferPointer {
                        fillSamples($0.baseAddress, indices, geometry, sp.baseAddress!, bp.baseAddress!, aug, &rng, xp.baseAddress)
                    }
                case .float(let src):
                    src.withUnsafeBufferPointer {
                        fillSamples($0.baseAddress, indices, geometry, sp.baseAddress!, bp.baseAddress!, aug, &rng, xp.baseAddress)
                    }
                }
            }
        }
    }
}

/// A stored value type `fillBatch` converts from.
protocol BatchSource { var floatValue: Float { get } }
extension UInt8: BatchSource { @inline(__always) var floatValue: Float { Float(self) } }
extension Float: BatchSource { @inline(__always) var floatValue: Float { self } }

struct BatchGeometry { var channels, plane, height, width: Int }

@inline(__always)
private func fillSamples<T: BatchSource>(_ src: UnsafePointer<T>?, _ indices: ArraySlice<Int>, _ g: BatchGeometry,
                                         _ scale: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                                         _ aug: Augmentation?, _ rng: inout SplitMix64,
                                         _ dst: UnsafeMutablePointer<Float>?) {
    guard let src, let dst else { return }
    let size = g.channels * g.plane
    for (k, i) in indices.enumerated() {
        let s = src + i * size
        let d = dst + k * size
        guard let aug else {
            for c in 0..<g.channels {
                let a = scale[c], b = bias[c]
                let sc = s + c * g.plane, dc = d + c * g.plane
                for j in 0..<g.plane { dc[j] = sc[j].floatValue * a + b }
            }
            continue
        }
        let (dy, dx, mirrored) = aug.draw(&rng)
        let w = g.width
        for c in 0..<g.channels {
            let a = scale[c], b = bias[c]
            let sc = s + c * g.plane, dc = d + c * g.plane
            for y in 0..<g.height {
                let sy = y + dy
                let drow = dc + y * w
                if sy < 0 || sy >= g.height {
                    drow.update(repeating: b, count: w)
                    continue
                }
                let srow = sc + sy * w
                for xx in 0..<w {
                    let sx = (mirrored ? w - 1 - xx : xx) + dx
                    drow[xx] = sx >= 0 && sx < w ? srow[sx].floatValue * a + b : b
                }
            }
        }
    }
}
