import Foundation
import Testing
@testable import Notebook

/// ResNet-20 (the preset, 0.27 M parameters) trains on data in CIFAR-10's binary format
/// with quantized residual blocks, through the commands a user types.
@Suite(.serialized) struct ResNet20CIFARTests {
    /// CIFAR-10 binary batches (1 label byte + 3072 pixel bytes, R then G then B planes,
    /// row-major) with `perBatch` images in each of the 5 training batches and `test` in
    /// the test batch. Class c is a plane of colour (c·25, 255 − c·25, (c·97) mod 256) with
    /// seeded noise, so a network can learn it in a few steps.
    static func writeCIFAR10(_ dir: String, perBatch: Int, test: Int) throws {
        var state: UInt32 = 12345
        func noise() -> Int { state = state &* 1_664_525 &+ 1_013_904_223; return Int(state >> 27) }   // 0…31
        func batch(_ count: Int, offset: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            for i in 0..<count {
                let c = (i + offset) % 10
                bytes.append(UInt8(c))
                for base in [c * 25, 255 - c * 25, (c * 97) % 256] {
                    for _ in 0..<1024 { bytes.append(UInt8(clamping: base - 16 + noise())) }
                }
            }
            return bytes
        }
        for b in 1...5 {
            try Data(batch(perBatch, offset: b * perBatch)).write(to: URL(fileURLWithPath: "\(dir)/data_batch_\(b).bin"))
        }
        try Data(batch(test, offset: 0)).write(to: URL(fileURLWithPath: "\(dir)/test_batch.bin"))
    }

    @Test func resnet20TrainsWithQuantizedBlocks() throws {
        let dir = temporaryDirectory("resnet20-cifar")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeCIFAR10(dir, perBatch: 8, test: 10)
        let nb = Notebook(workspace: Workspace(workingDirectory: dir), domainCommands: true, output: { _ in })
        nb.workspace.threads = 1
        func run(_ line: String) throws -> CommandOutput {
            switch nb.execute(line) {
            case .success(let o): return o
            case .failure(let m): throw QuantlabTestError(message: "\(line): \(m)")
            case .blank: return CommandOutput()
            }
        }
        _ = try run("seed 3")
        let load = try run("data load cifar10 . val=10")
        #expect(load.results.first?.hasPrefix("dataset cifar10 fingerprint") == true && load.results.first?.contains("train 30 val 10 test 10") == true,
                "\(load.results)")
        _ = try run("model preset resnet20")
        let config = try run("config add q resnet20 w4a4 first=w8a8 last=w8a8")
        // 19 convs and the dense layer; the blocks' convs at 4 bits, the ends at 8.
        #expect(config.results == ["config q resnet20 conv1=w8a8 " + (2...19).map { "conv\($0)=w4a4" }.joined(separator: " ") + " dense1=w8a8"])
        let out = try run("trial run q epochs=3 batch=10 lr=0.01")
        let epochs = out.results.filter { $0.hasPrefix("trial q epoch") }
        #expect(epochs.count == 3, "\(out.results)")
        let losses = epochs.compactMap { line -> Double? in
            let w = line.split(separator: " ")
            return w.firstIndex(of: "train_loss").flatMap { Double(w[$0 + 1]) }
        }
        #expect(losses.count == 3 && losses.allSatisfy(\.isFinite), "\(epochs)")
        // It learns: the training loss falls from the first epoch to the last.
        #expect(losses[2] < losses[0], "\(epochs)")
    }
}
