/// Loads MNIST-style datasets (MNIST, Fashion-MNIST) from a directory of IDX files.
///
/// Looks for `train-images`, `train-labels`, `t10k-images`, `t10k-labels` in both
/// naming styles (`train-images-idx3-ubyte`, `train-images.idx3-ubyte`), each
/// gzipped (`.gz`) or not. Images become [1, rows, cols] byte samples.
public enum IDXLoader {
    public static let mnistClassNames = (0..<10).map(String.init)
    public static let fashionMNISTClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The dataset in `path` (a directory, or any file in it).
    public static func load(name: String, path: String, classNames: [String], check: LoadCheck = .none) throws -> Dataset {
        let dir = try FileLocator.directory(path)
        let trainImages = try locate("train-images", 3, in: dir)
        let trainLabels = try locate("train-labels", 1, in: dir)
        let testImages = try locate("t10k-images", 3, in: dir)
        let testLabels = try locate("t10k-labels", 1, in: dir)
        // Every header and file size is checked before any file's values are read.
        for (images, labels) in [(trainImages, trainLabels), (testImages, testLabels)] {
            let n = try IDXFile.open(images, dimensions: 3, what: "images", check: check).1[0]
            let m = try IDXFile.open(labels, dimensions: 1, what: "labels", check: check).1[0]
            if m != n { throw countMismatch(labels: labels, m, images: images, n) }
        }
        let train = try split(images: trainImages, labels: trainLabels, classes: classNames.count, check: check)
        let test = try split(images: testImages, labels: testLabels, classes: classNames.count, check: check)
        if train.sampleShape != test.sampleShape {
            throw DatasetError(file: testImages, location: headerLocation(testImages, 8),
                               expected: "images of \(shapeText(train.sampleShape)) as in the training set",
                               found: shapeText(test.sampleShape))
        }
        let files = [trainImages, trainLabels, testImages, testLabels]
        return Dataset(name: name, train: train, test: test, classNames: classNames,
                       sampleShape: train.sampleShape, files: files, fingerprint: try FNV1a64.ofFiles(files, check: check))
    }

    /// One split from an image file and its label file.
    static func split(images: String, labels: String, classes: Int, check: LoadCheck) throws -> Split {
        let img = try IDXFile.readImages(images, check: check)
        let lab = try IDXFile.readLabels(labels, classes: classes, check: check)
        if lab.count != img.count { throw countMismatch(labels: labels, lab.count, images: images, img.count) }
        return Split(storage: .uint8(img.pixels), labels: lab, sampleShape: [1, img.rows, img.cols])
    }

    static func countMismatch(labels: String, _ m: Int, images: String, _ n: Int) -> DatasetError {
        DatasetError(file: labels, location: headerLocation(labels, 4),
                     expected: "\(n) labels, one per image in \(images)", found: "\(m) labels in the header")
    }

    /// Offsets in a .gz file's header are offsets in its decompressed data.
    static func headerLocation(_ path: String, _ offset: Int) -> DatasetError.Location {
        path.hasSuffix(".gz") ? .decompressedByte(offset) : .byte(offset)
    }

    /// The file for `stem` in either naming style, gzipped or not.
    static func locate(_ stem: String, _ dims: Int, in dir: String) throws -> String {
        let names = ["\(stem)-idx\(dims)-ubyte", "\(stem).idx\(dims)-ubyte"].flatMap { [$0 + ".gz", $0] }
        return try FileLocator.find(names, in: dir)
    }
}

/// "3×32×32".
func shapeText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }
