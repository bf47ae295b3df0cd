import Testing
import Trials
@testable import Notebook

/// The progress line of an ended epoch says `nan` for a diverged loss (it showed `-nan`).
@Suite struct ProgressLineTests {
    @Test func divergedLossReadsNan() {
        let diverged = EpochMetrics(epoch: 1, trainLoss: -.nan, trainAccuracy: 0.1, seconds: 1, imagesPerSecond: 812.4)
        #expect(RunDriver.epochLine("w2a2", width: 6, diverged) == "w2a2    epoch 1  train loss nan  812 img/s")
        let fine = EpochMetrics(epoch: 2, trainLoss: 0.31544, trainAccuracy: 0.9, validationLoss: 0.4, validationAccuracy: 0.8712,
                                testAccuracy: .infinity, seconds: 1, imagesPerSecond: 1234.4)
        #expect(RunDriver.epochLine("量化", width: 6, fine) == "量化    epoch 2  train loss 0.3154  val acc 0.8712  test acc inf  1234 img/s")
    }
}
