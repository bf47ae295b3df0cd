import Testing
import Tensors

/// Activation codes recovered from fake-quantized values, and im2row over codes.
@Suite struct IntegerCodesTests {
    /// Values as UniformActivationQuantizer produces them: step · code.
    static func onGrid(_ codes: [Int], _ grid: ActivationGrid) -> [Float] { codes.map { grid.step * Float($0) } }

    @Test func codesRoundTrip() {
        let grid = ActivationGrid(clip: 3.7, maxCode: 255)
        let codes = Array(0...255) + [0, 255, 17]
        let x = Self.onGrid(codes, grid)
        var out = [UInt8](repeating: 9, count: x.count)
        let ok = x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { activationCodes(xp.baseAddress!, count: x.count, grid: grid, into: $0.baseAddress!) }
        }
        #expect(ok)
        #expect(out.map(Int.init) == codes)
    }

    @Test(arguments: [Float(0.5) * 3.7 / 255, -3.7 / 255, 3.7 * 2, .nan, 1.0])
    func offGridValueIsRejected(_ bad: Float) {
        let grid = ActivationGrid(clip: 3.7, maxCode: 255)
        var x = Self.onGrid([0, 1, 2, 3, 200], grid)
        x[2] = bad
        var out = [UInt8](repeating: 0, count: x.count)
        let ok = x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { activationCodes(xp.baseAddress!, count: x.count, grid: grid, into: $0.baseAddress!) }
        }
        #expect(!ok, "\(bad) accepted as a code of step \(grid.step)")
    }

    @Test func unusableGrids() {
        #expect(!ActivationGrid(clip: 0, maxCode: 255).isUsable)
        #expect(!ActivationGrid(clip: .nan, maxCode: 255).isUsable)
        #expect(!ActivationGrid(clip: 1, maxCode: 511).isUsable)
        #expect(ActivationGrid(clip: 1, maxCode: 3).isUsable)
    }

    @Test func nhwcCodesTransposeChannels() {
        let grid = ActivationGrid(clip: 1, maxCode: 15)
        let n = 2, c = 3, hw = 5
        let codes = (0..<(n * c * hw)).map { ($0 * 7) % 16 }
        let x = Self.onGrid(codes, grid)
        var out = [UInt8](repeating: 0, count: x.count)
        let ok = x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer {
                activationCodesNHWC(xp.baseAddress!, batch: n, channels: c, plane: hw, grid: grid, into: $0.baseAddress!)
            }
        }
        #expect(ok)
        for b in 0..<n { for ch in 0..<c { for i in 0..<hw {
            #expect(Int(out[(b * hw + i) * c + ch]) == codes[(b * c + ch) * hw + i])
        } } }
    }

    /// Sign and ternary values {−1, −0, 0, +1} → codes {0, 1, 1, 2}; anything else
    /// (values near ±1 and 0 included) is rejected, by the AVX-512 and portable forms alike.
    @Test func signCodesAndTheirRejections() {
        let values: [Float] = [-1, -0.0, 0, 1]
        let codes: [UInt8] = [0, 1, 1, 2]
        for count in [1, 4, 15, 16, 17, 40] {
            let x = (0..<count).map { values[($0 * 3) % 4] }
            let want = (0..<count).map { codes[($0 * 3) % 4] }
            var fast = [UInt8](repeating: 9, count: count), slow = fast
            let ok = x.withUnsafeBufferPointer { xp in
                (fast.withUnsafeMutableBufferPointer { signCodes(xp.baseAddress!, count: count, into: $0.baseAddress!) },
                 slow.withUnsafeMutableBufferPointer { portableSignCodes(xp.baseAddress!, count: count, into: $0.baseAddress!) })
            }
            #expect(ok == (true, true) && fast == want && slow == want, "\(count) values")
            for bad: Float in [Float(1).nextUp, Float(-1).nextDown, 1e-30, -1e-45, 2, 0.5, .nan, .infinity] {
                for at in Set([0, count / 2, count - 1]) {
                    var y = x
                    y[at] = bad
                    let verdict = y.withUnsafeBufferPointer { yp in
                        (fast.withUnsafeMutableBufferPointer { signCodes(yp.baseAddress!, count: count, into: $0.baseAddress!) },
                         slow.withUnsafeMutableBufferPointer { portableSignCodes(yp.baseAddress!, count: count, into: $0.baseAddress!) })
                    }
                    #expect(verdict == (false, false), "\(bad) at \(at) of \(count) accepted")
                }
            }
        }
    }

    /// NCHW sign values into NHWC codes, AVX-512 (16 channels a gather) and portable.
    @Test(arguments: [(1, 1, 1), (2, 3, 5), (2, 16, 7), (1, 17, 9), (2, 33, 4)])
    func signCodesNHWCTransposeChannels(_ n: Int, _ c: Int, _ hw: Int) {
        var rng = SplitMix64(seed: UInt64(n * 100 + c))
        let x = (0..<(n * c * hw)).map { _ in Float(rng.nextInt(below: 3)) - 1 }
        var fast = [UInt8](repeating: 9, count: x.count), slow = fast
        var ok = x.withUnsafeBufferPointer { xp in
            (fast.withUnsafeMutableBufferPointer { signCodesNHWC(xp.baseAddress!, batch: n, channels: c, plane: hw, into: $0.baseAddress!) },
             slow.withUnsafeMutableBufferPointer {
                portableSignCodesNHWC(xp.baseAddress!, batch: n, channels: c, plane: hw, into: $0.baseAddress!) })
        }
        #expect(ok == (true, true))
        #expect(fast == slow)
        for b in 0..<n { for ch in 0..<c { for i in 0..<hw {
            let v = x[(b * c + ch) * hw + i], code = fast[(b * hw + i) * c + ch]
            if Float(code) - 1 != v { Issue.record("code \(code) of \(v) at \(b),\(ch),\(i)") }
        } } }
        var y = x
        y[y.count - 1] = 0.25
        ok = y.withUnsafeBufferPointer { yp in
            (fast.withUnsafeMutableBufferPointer { signCodesNHWC(yp.baseAddress!, batch: n, channels: c, plane: hw, into: $0.baseAddress!) },
             slow.withUnsafeMutableBufferPointer {
                portableSignCodesNHWC(yp.baseAddress!, batch: n, channels: c, plane: hw, into: $0.baseAddress!) })
        }
        #expect(ok == (false, false), "0.25 accepted")
    }

    static let geometries: [ConvGeometry] = [
        ConvGeometry(channels: 2, height: 5, width: 4, kernelH: 3, kernelW: 3, stride: 1, padding: 1),
        ConvGeometry(channels: 1, height: 6, width: 7, kernelH: 3, kernelW: 3, stride: 2, padding: 0),
        ConvGeometry(channels: 3, height: 4, width: 5, kernelH: 2, kernelW: 2, stride: 2, padding: 2),
        ConvGeometry(channels: 2, height: 3, width: 3, kernelH: 3, kernelW: 3, stride: 1, padding: 2),
        ConvGeometry(channels: 1, height: 1, width: 1, kernelH: 5, kernelW: 5, stride: 1, padding: 2),
        // cifar3's conv2 and conv3 (runs of 96 and 192 bytes, several 32-byte steps), runs of
        // 33·k bytes (a 32-byte step and a tail), short runs (< 32 bytes, masked), stride 2.
        ConvGeometry(channels: 32, height: 16, width: 16, kernelH: 3, kernelW: 3, stride: 1, padding: 1),
        ConvGeometry(channels: 64, height: 8, width: 8, kernelH: 3, kernelW: 3, stride: 1, padding: 1),
        ConvGeometry(channels: 33, height: 5, width: 7, kernelH: 3, kernelW: 3, stride: 2, padding: 1),
        ConvGeometry(channels: 5, height: 6, width: 9, kernelH: 5, kernelW: 5, stride: 1, padding: 2),
        ConvGeometry(channels: 11, height: 4, width: 3, kernelH: 1, kernelW: 1, stride: 1, padding: 0),
        ConvGeometry(channels: 70, height: 3, width: 4, kernelH: 3, kernelW: 3, stride: 1, padding: 0),
    ]

    /// rows[(n, i, j), (ki, kj, c)] = x[n, i·S − P + ki, j·S − P + kj, c], `pad` outside
    /// (0, and 1: the code of s = 0 for sign codes).
    /// Both forms: the AVX-512 one (where the CPU has it) and the portable C one; codes
    /// 0…255 (0 and 255 included) so a pad byte is not told from the image by its value.
    @Test(arguments: geometries.indices, [UInt8(0), 1])
    func im2rowMatchesDirectGather(_ index: Int, pad: UInt8) {
        for vector in Kernels.hasAVX512 ? [false, true] : [false] {
            im2rowMatchesDirectGather(Self.geometries[index], pad: pad, vector: vector)
        }
    }

    func im2rowMatchesDirectGather(_ g: ConvGeometry, pad: UInt8, vector: Bool) {
        let n = 2
        let x = (0..<(n * g.height * g.width * g.channels)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 7) }
        let count = n * g.outHeight * g.outWidth * g.rows
        var rows = [UInt8](repeating: 0xEE, count: count + 64)
        x.withUnsafeBufferPointer { xp in
            rows.withUnsafeMutableBufferPointer { im2row(xp.baseAddress!, batch: n, g, pad: pad, into: $0.baseAddress!, vector: vector) }
        }
        var expected = [UInt8](repeating: pad, count: count)
        for b in 0..<n { for i in 0..<g.outHeight { for j in 0..<g.outWidth {
            for ki in 0..<g.kernelH { for kj in 0..<g.kernelW { for c in 0..<g.channels {
                let ih = i * g.stride - g.padding + ki, iw = j * g.stride - g.padding + kj
                guard ih >= 0, ih < g.height, iw >= 0, iw < g.width else { continue }
                let row = (b * g.outHeight + i) * g.outWidth + j, col = (ki * g.kernelW + kj) * g.channels + c
                expected[row * g.rows + col] = x[((b * g.height + ih) * g.width + iw) * g.channels + c]
            } } }
        } } }
        #expect(Array(rows[..<count]) == expected, "\(g) pad \(pad) vector \(vector)")
        #expect(rows[count...].allSatisfy { $0 == 0xEE }, "im2row wrote past the row matrix (\(g), vector \(vector))")
    }
}
