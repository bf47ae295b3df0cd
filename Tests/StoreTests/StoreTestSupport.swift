import Foundation
@testable import Store

/// A fresh empty folder under the system temporary directory.
func makeTemporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("quantlab-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A configuration with fixed, hand-checkable figures (not from the cost model).
func sampleConfiguration(name: String = "w4a4", energy: Double = 12.5) -> ConfigurationRecord {
    ConfigurationRecord(
        name: name, model: "fmnist2", spec: "conv1=w4a4 conv2=w4a4 dense1=w4a4 dense2=w32a32",
        precision: "w4a4", params: 421_642, weightBits: 1_709_344, macs: 10_817_920,
        bops: 173_086_720, energyPJ: energy, created: "2025-11-23T11:40:00Z")
}

/// A trial run of configuration `id`, started at a fixed time.
func sampleRun(configurationID id: Int64, kind: RunKind = .trial) -> RunRecord {
    RunRecord(
        configurationID: id, kind: kind, dataset: "fashion-mnist", fingerprint: "fm-6000-ab12",
        trainCount: 6000, settings: #"{"batch":64,"epochs":3,"lr":0.05}"#, seed: 42,
        session: "sessions/demo.qlab", sessionLine: 7, started: "2025-11-23T11:41:00Z")
}

func sampleEpoch(runID: Int64, epoch: Int) -> EpochRecord {
    EpochRecord(runID: runID, epoch: epoch, trainLoss: 1.0 / Double(epoch), trainAcc: 0.5 + 0.1 * Double(epoch),
                valLoss: 1.25 / Double(epoch), valAcc: 0.25 * Double(epoch), seconds: 2.5,
                imagesPerSecond: 2400)
}

/// The message of the StoreError `body` throws, or a note that it threw none.
func storeErrorMessage(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error"
    } catch let error as StoreError {
        return error.message
    } catch {
        return "not a StoreError: \(error)"
    }
}
