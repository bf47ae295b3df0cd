import Foundation

/// Loads a dataset held as NumPy arrays: an `.npz` archive (`numpy.savez`, stored, or
/// `numpy.savez_compressed`, deflated) or a directory of `.npy` files.
///
/// Arrays, by name (options rename them; `x`/`y` stand for `x_train`/`y_train`):
/// ```
/// x_train  images: N×C×H×W (layout=nchw) or N×H×W×C (layout=nhwc), N×H×W (one
///          channel), or N×F features; uint8 (|u1) or float32 (<f4, >f4)
/// y_train  labels: N or N×1, any integer dtype (int8…int64, uint8…uint64), 0…9999
/// x_test, y_test  the same, optional (both or neither); without them the test split is empty
/// ```
/// Both C and Fortran order are read. Without `layout=`, a 4-D array whose axis 1 has
/// at most 4 entries and axis 3 more is NCHW, the other way round NHWC; anything else
/// must say `layout=`. uint8 images are kept as bytes (pixels 0…255, scaled by 1/255 like
/// every byte dataset); float32 values are used as stored, and must be finite. Other
/// dtypes (float64, float16, bool, int images, object arrays, strings, structured
/// dtypes) are refused by name, with the conversion to make. Class k is named "k";
/// the class count is the largest label + 1, and every class from 1 to the largest must
/// occur in the training labels (as for CSV), so a stray label is an error.
public enum NumPyLoader {
    /// Option names: array names and the layout.
    public static let optionNames: Set<String> = ["x", "y", "x_train", "y_train", "x_test", "y_test", "layout"]
    static let maxClasses = 10_000

    public static func load(path: String, options: [String: String] = [:], check: LoadCheck = .none) throws -> Dataset {
        var names = ["x_train": "x_train", "y_train": "y_train", "x_test": "x_test", "y_test": "y_test"]
        for (short, long) in [("x", "x_train"), ("y", "y_train")] {
            if let v = options[short] { names[long] = v }
        }
        for key in ["x_train", "y_train", "x_test", "y_test"] { if let v = options[key] { names[key] = v } }
        let layout = options["layout"]?.lowercased()
        guard layout == nil || layout == "nchw" || layout == "nhwc" else {
            throw DatasetError(file: path, expected: "layout=nchw or layout=nhwc", found: "layout=\(options["layout"]!)")
        }
        let source = try Source(path: path, check: check)
        let xTrain = try source.array(names["x_train"]!)
        let yTrain = try source.array(names["y_train"]!)
        let testNamed = options["x_test"] != nil || options["y_test"] != nil
        let xTest = try source.optionalArray(names["x_test"]!, required: testNamed)
        let yTest = try source.optionalArray(names["y_test"]!, required: testNamed)
        if (xTest == nil) != (yTest == nil) {
            let (has, lacks) = xTest != nil ? (names["x_test"]!, names["y_test"]!) : (names["y_test"]!, names["x_test"]!)
            throw DatasetError(file: path, expected: "\(lacks) beside \(has) (test images and labels, or neither)", found: "none")
        }
        let train = try split(xTrain, yTrain, layout: layout, check: check)
        var test = Split.empty(sampleShape: train.sampleShape, float: train.storage.typeName == "float32")
        if let xTest, let yTest {
            test = try split(xTest, yTest, layout: layout, check: check)
            guard test.sampleShape == train.sampleShape, test.storage.typeName == train.storage.typeName else {
                throw xTest.error(expected: "test samples of \(shapeText(train.sampleShape)) \(train.storage.typeName) as in \(xTrain.name)",
                                  found: "\(shapeText(test.sampleShape)) \(test.storage.typeName)")
            }
        }
        let top = Int((train.labels + test.labels).max() ?? 0)
        // As for CSV: a stray large label is an error, not hundreds of empty classes.
        let present = Set(train.labels)
        if let missing = (1..<max(top, 1)).first(where: { !present.contains(Int32($0)) }) {
            let (array, labels) = train.labels.contains(Int32(top)) ? (yTrain, train.labels) : (yTest!, test.labels)
            throw array.error(at: array.offset(ofItem: labels.firstIndex(of: Int32(top))!),
                              expected: "every class from 1 to the largest label \(top) in the training labels", found: "no label \(missing)")
        }
        return Dataset(name: "npy", train: train, test: test, classNames: (0...top).map(String.init),
                       sampleShape: train.sampleShape, files: source.files, fingerprint: try FNV1a64.ofFiles(source.files, check: check))
    }

    /// Where the arrays come from: one archive, or a directory of .npy files.
    final class Source {
        var archive: ZipArchive?
        var directory: String?
        /// The files read, in order (hashed into the fingerprint).
        var files: [String] = []
        let check: LoadCheck

        init(path: String, check: LoadCheck) throws {
            self.check = check
            if FileLocator.isDirectory(path) {
                directory = path
            } else {
                let bytes = try GzipReader(path: path, check: check).readToEnd(what: "an .npz archive")
                if bytes.starts(with: NPYHeader.magic) {
                    throw DatasetError(file: path, expected: "an .npz archive or a directory of .npy files (x_train.npy, y_train.npy, …)",
                                       found: "a single .npy array (a dataset needs images and labels)")
                }
                archive = try ZipArchive(path: path, bytes: bytes)
                files = [path]
            }
        }

        func optionalArray(_ name: String, required: Bool) throws -> NPYArray? {
            if let archive {
                if !required && archive.member(name + ".npy") == nil && archive.member(name) == nil { return nil }
            } else if let directory, !required, FileLocator.optional([name + ".npy", name], in: directory) == nil {
                return nil
            }
            return try array(name)
        }

        /// The array `name`: member `name.npy` (or `name`) of the archive, or file
        /// `name.npy` (or `name`) in the directory.
        func array(_ name: String) throws -> NPYArray {
            if let archive {
                guard let m = archive.member(name + ".npy") ?? archive.member(name) else {
                    let have = archive.members.map { $0.name.hasSuffix(".npy") ? String($0.name.dropLast(4)) : $0.name }
                    throw DatasetError(file: archive.path, expected: "an array named \(name) (name others with x=, y=, x_test=, y_test=)",
                                       found: "arrays \(have.isEmpty ? "(none)" : have.joined(separator: ", "))")
                }
                return try NPYArray(bytes: archive.data(of: m, check: check), file: archive.path, member: m.name)
            }
            let file = try FileLocator.find([name + ".npy", name], in: directory!)
            files.append(file)
            return try NPYArray(bytes: GzipReader(path: file, check: check).readToEnd(what: "a .npy array"), file: file)
        }
    }

    /// Images `x` and labels `y` as a split, samples reordered to C×H×W; `check` is
    /// called while reordering and checking values (see `LoadCheck`).
    static func split(_ x: NPYArray, _ y: NPYArray, layout: String?, check: LoadCheck) throws -> Split {
        let shape = x.header.shape
        let dtype = x.header.dtype
        guard dtype.isUInt8 || dtype.isFloat32 else {
            throw x.error(at: 0, expected: "images as uint8 ('|u1') or float32 ('<f4'); convert with x.astype(np.uint8) or x.astype(np.float32)",
                          found: "\(dtype.name) ('\(dtype.text)')")
        }
        guard (2...4).contains(shape.count), shape.dropFirst().allSatisfy({ $0 > 0 }) else {
            throw x.error(expected: "images N×C×H×W, N×H×W×C or N×H×W, or features N×F", found: "shape \(x.shapeDescription)")
        }
        let axes: [Int]
        let sampleShape: [Int]
        switch shape.count {
        case 2: axes = [0, 1]; sampleShape = [shape[1]]
        case 3: axes = [0, 1, 2]; sampleShape = [1, shape[1], shape[2]]
        default:
            let nhwc: Bool
            if let layout { nhwc = layout == "nhwc" } else if shape[1] <= 4 && shape[3] > 4 { nhwc = false } else if shape[3] <= 4 && shape[1] > 4 { nhwc = true } else {
                throw x.error(expected: "layout=nchw or layout=nhwc for images of shape \(x.shapeDescription) (the channel axis is not clear)", found: "no layout option")
            }
            axes = nhwc ? [0, 3, 1, 2] : [0, 1, 2, 3]
            sampleShape = nhwc ? [shape[3], shape[1], shape[2]] : [shape[1], shape[2], shape[3]]
        }
        guard sampleShape.reduce(1, *) <= 1 << 24 else {
            throw x.error(expected: "at most \(1 << 24) values per sample", found: "shape \(x.shapeDescription)")
        }
        let labels = try self.labels(y, count: shape[0], images: x)
        if dtype.isUInt8 {
            return Split(storage: .uint8(try x.permuted(axes: axes, check: check) { d, i in d[i] }), labels: labels, sampleShape: sampleShape)
        }
        let values = try x.permuted(axes: axes, check: check) { d, i in x.float32(d, i) }
        try check.forEachChunk(of: values.count, itemBytes: 4) { part in
            if let bad = values[part].firstIndex(where: { !$0.isFinite }) {
                throw x.error(expected: "finite float32 values", found: "\(values[bad]) (sample \(bad / sampleShape.reduce(1, *)))")
            }
        }
        return Split(storage: .float(values), labels: labels, sampleShape: sampleShape)
    }

    /// Labels 0…maxClasses−1 from an integer array of `count` entries (N or N×1).
    static func labels(_ y: NPYArray, count: Int, images: NPYArray) throws -> [Int32] {
        let dt = y.header.dtype, shape = y.header.shape
        guard dt.isInteger else {
            throw y.error(at: 0, expected: "integer labels (int8…int64 or uint8…uint64)\(dt.kind == .float ? "; convert with y.astype(np.int64)" : "")",
                          found: "\(dt.name) ('\(dt.text)')")
        }
        guard shape == [count] || shape == [count, 1] else {
            let hint = shape.count == 2 && shape[0] == count ? " (one-hot labels? use y.argmax(1))" : ""
            throw y.error(expected: "\(count) labels, shape (\(count),) or (\(count), 1), one per image in \(images.name)",
                          found: "shape \(y.shapeDescription)\(hint)")
        }
        var out = [Int32](repeating: 0, count: count)
        try y.bytes.withUnsafeBytes { raw in
            let data = UnsafeRawBufferPointer(rebasing: raw[y.header.dataOffset...])
            for i in 0..<count {
                guard let v = y.integer(data, i), v >= 0, v < maxClasses else {
                    throw y.error(at: y.offset(ofItem: i), expected: "a label 0…\(maxClasses - 1) (label \(i))",
                                  found: y.integer(data, i).map(String.init) ?? "a value above 2^63")
                }
                out[i] = Int32(v)
            }
        }
        return out
    }
}
