/// Loads SVHN, the cropped-digits version (Netzer et al. 2011): `train_32x32.mat`
/// and `test_32x32.mat`, MATLAB v5 files (read by `MATFile`).
///
/// Each file holds two variables:
/// ```
/// X  uint8, 32 × 32 × 3 × N, column-major: X(h, w, c, n) at h + 32·(w + 32·(c + 3·n))
/// y  N × 1 labels 1…10 (10 is the digit 0), usually stored as double
/// ```
/// X is reordered to N×C×H×W (each 32×32 plane transposed) and y mapped to 0…9, so
/// class k is the digit k. The `extra_32x32.mat` set is not read.
public enum SVHNLoader {
    public static let classNames = (0..<10).map(String.init)

    public static func load(path: String, check: LoadCheck = .none) throws -> Dataset {
        let dir = try FileLocator.directory(path)
        let trainFile = try FileLocator.find(["train_32x32.mat"], in: dir)
        let testFile = try FileLocator.find(["test_32x32.mat"], in: dir)
        let train = try split(trainFile, check: check)
        let test = try split(testFile, check: check)
        if train.sampleShape != test.sampleShape {
            throw DatasetError(file: testFile, expected: "images of \(shapeText(train.sampleShape)) as in \(trainFile)",
                               found: shapeText(test.sampleShape))
        }
        let files = [trainFile, testFile]
        return Dataset(name: "svhn", train: train, test: test, classNames: classNames, sampleShape: train.sampleShape,
                       files: files, fingerprint: try FNV1a64.ofFiles(files, check: check))
    }

    /// The images and labels of one .mat file.
    static func split(_ path: String, check: LoadCheck) throws -> Split {
        let mat = try MATFile(path: path, check: check)
        guard let x = mat.array("X") else {
            throw DatasetError(file: path, expected: "a variable named X (the images)", found: "variables \(names(mat))")
        }
        guard let y = mat.array("y") else {
            throw DatasetError(file: path, expected: "a variable named y (the labels)", found: "variables \(names(mat))")
        }
        // MATLAB drops trailing singleton dimensions: one image is 32×32×3.
        var dims = x.dims
        if dims.count == 3 { dims.append(1) }
        guard dims.count == 4, dims[0] > 0, dims[1] > 0, dims[2] > 0, !x.isComplex else {
            throw DatasetError(file: path, expected: "X as a real H×W×C×N array (32×32×3×N)",
                               found: "\(x.isComplex ? "a complex " : "")\(shapeText(x.dims))")
        }
        let (h, w, c, n) = (dims[0], dims[1], dims[2], dims[3])
        guard y.count == n, y.dims.count == 2, y.dims.contains(1) || n == 0, !y.isComplex else {
            throw DatasetError(file: path, expected: "y as a real \(n)×1 array, one label per image in X",
                               found: "\(y.isComplex ? "a complex " : "")\(shapeText(y.dims))")
        }
        guard let pixels = try x.byteValues(check: check) else {
            throw DatasetError(file: path, expected: "X pixel values that are integers 0…255",
                               found: "other values (stored as \(x.storageType.name))")
        }
        let values = y.doubleValues()
        var labels = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let v = values[i]
            guard v >= 1, v <= 10, v.rounded() == v else {
                throw DatasetError(file: path, location: y.location(ofValue: i),
                                   expected: "a label 1…10 (10 is the digit 0) for image \(i)", found: "\(v)")
            }
            labels[i] = Int32(v) % 10
        }
        return Split(storage: .uint8(try columnMajorToNCHW(pixels, h: h, w: w, c: c, n: n, check: check)), labels: labels, sampleShape: [c, h, w])
    }

    /// X(h, w, c, n) column-major → out[n][c][h][w] row-major; `check` is called per
    /// `LoadCheck.chunk` bytes of planes.
    static func columnMajorToNCHW(_ src: [UInt8], h: Int, w: Int, c: Int, n: Int, check: LoadCheck) throws -> [UInt8] {
        let total = h * w * c * n
        if total == 0 { return [] }
        return try [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            try src.withUnsafeBufferPointer { s in
                let plane = h * w
                // Planes are in the same order in both layouts.
                try check.forEachChunk(of: n * c, itemBytes: plane) { planes in
                    for p in planes {
                        let sp = s.baseAddress! + p * plane, dp = out.baseAddress! + p * plane
                        for col in 0..<w {
                            for row in 0..<h { dp[row * w + col] = sp[col * h + row] }
                        }
                    }
                }
            }
            initialized = total
        }
    }

    private static func names(_ mat: MATFile) -> String {
        mat.arrays.isEmpty ? "(none)" : mat.arrays.map(\.name).joined(separator: ", ")
    }
}
