import Foundation
import Testing
@testable import Datasets

/// The real Fashion-MNIST, from Debian's `dataset-fashion-mnist`, when installed.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: DatasetLoader.fashionMNISTPath + "/train-labels-idx1-ubyte.gz"),
                "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"))
struct FashionMNISTTests {
    @Test func loadsTheInstalledCopy() throws {
        let d = try DatasetLoader.load("fashion-mnist")
        #expect(d.train.count == 60000 && d.test.count == 10000)
        #expect(d.sampleShape == [1, 28, 28])
        #expect(d.train.classHistogram(classes: 10) == [Int](repeating: 6000, count: 10))
        #expect(d.test.classHistogram(classes: 10) == [Int](repeating: 1000, count: 10))
        #expect(d.train.storage.valueCount == 60000 * 784)
        #expect(d.fingerprint.count == 16)
        let s = stratifiedSample(d.train, count: 6000, classes: 10, seed: 42)
        #expect(s.classHistogram(classes: 10) == [Int](repeating: 600, count: 10))
        #expect(renderImage(d.train, index: 0, classNames: d.classNames).split(separator: "\n", omittingEmptySubsequences: false).count == 30)
    }
}
