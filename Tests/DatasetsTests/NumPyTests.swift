import Foundation
import Testing
@testable import Datasets

/// NumPy `.npy` / `.npz` files written by NumPy itself (Fixtures/npy/make_fixtures.py,
/// NumPy 2.4.6), loaded with every pixel and label checked against the formulas that
/// made them, and damaged at every header offset.
@Suite struct NumPyTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/npy").path

    static func fixture(_ name: String) -> String { fixtures + "/" + name }

    /// The formulas of make_fixtures.py.
    static func pixel(_ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Int { (n * 31 + c * 17 + h * 7 + w * 3) % 256 }
    static func label(_ n: Int, test: Bool) -> Int32 { Int32((n * 3 + (test ? 2 : 1)) % 5) }

    /// Checks every value and label of a split against the formulas, samples C×H×W.
    static func check(_ s: Split, count: Int, channels: Int, test: Bool, float: Bool = false) {
        #expect(s.count == count)
        #expect(s.sampleShape == [channels, 5, 6])
        #expect(s.storage.typeName == (float ? "float32" : "uint8"))
        var bad = 0
        for n in 0..<count {
            if s.labels[n] != label(n, test: test) { bad += 1 }
            for c in 0..<channels { for h in 0..<5 { for w in 0..<6 {
                let v = s.storage.value(at: ((n * channels + c) * 5 + h) * 6 + w)
                let want = Float(pixel(n, c, h, w)) / (float ? 8 : 1)
                if v != want { bad += 1 }
            } } }
        }
        #expect(bad == 0, "\(bad) values or labels differ from the formulas")
    }

    @Test(arguments: [
        ("u8-nchw-v1", 2, false, [:]), ("u8-nhwc-v1", 2, false, [:]), ("u8-nchw-fortran", 2, false, [:]),
        ("u8-nhwc-fortran", 2, false, [:]), ("f4-nchw-v2", 2, true, [:]), ("f4be-nhwc-v3", 2, true, [:]),
        ("u8-mnist-v1", 1, false, [:]), ("u8-ambiguous", 8, false, ["layout": "nhwc"]),
        ("stored.npz", 2, false, [:]), ("deflated.npz", 2, false, [:]), ("mnist.npz", 1, false, [:]),
    ] as [(String, Int, Bool, [String: String])])
    func loadsEveryValue(name: String, channels: Int, float: Bool, options: [String: String]) throws {
        let d = try DatasetLoader.load("npy", path: Self.fixture(name), options: options)
        Self.check(d.train, count: 5, channels: channels, test: false, float: float)
        Self.check(d.test, count: 3, channels: channels, test: true, float: float)
        #expect(d.classNames == ["0", "1", "2", "3", "4"])
        #expect(d.sampleShape == [channels, 5, 6])
        #expect(d.name == "npy")
    }

    @Test func namesAndLayoutFromOptions() throws {
        let d = try DatasetLoader.load("npz", path: Self.fixture("named.npz"), options: ["x": "images", "y": "labels", "layout": "nhwc"])
        Self.check(d.train, count: 5, channels: 2, test: false)
        #expect(d.test.count == 0)
        // Auto layout: N×5×6×2 has its channels last.
        let auto = try DatasetLoader.load("npy", path: Self.fixture("named.npz"), options: ["x_train": "images", "y_train": "labels"])
        #expect(auto.train == d.train)
        // Read as NCHW on purpose, the same bytes are 5 channels of 6×2.
        let nchw = try DatasetLoader.load("npy", path: Self.fixture("named.npz"), options: ["x": "images", "y": "labels", "layout": "nchw"])
        #expect(nchw.sampleShape == [5, 6, 2])
    }

    /// The headers NumPy wrote, byte for byte: what the parser is written against.
    @Test func headersAreNumPysBytes() throws {
        func header(_ path: String) -> [UInt8] {
            let b = TestFiles.read(Self.fixture(path))
            let n = b[6] == 1 ? Int(b[8]) | Int(b[9]) << 8 : Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16
            return Array(b.prefix((b[6] == 1 ? 10 : 12) + n))
        }
        func expected(_ version: UInt8, _ dict: String) -> [UInt8] {
            let pre = version == 1 ? 10 : 12
            let pad = 64 - (pre + dict.utf8.count + 1) % 64
            let text = Array((dict + String(repeating: " ", count: pad % 64) + "\n").utf8)
            let len = text.count
            return NPYHeader.magic + [version, 0, UInt8(len & 255), UInt8(len >> 8)] + (version == 1 ? [] : [0, 0]) + text
        }
        #expect(header("u8-nchw-v1/x_train.npy") == expected(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (5, 2, 5, 6), }"))
        #expect(header("u8-nchw-fortran/x_train.npy") == expected(1, "{'descr': '|u1', 'fortran_order': True, 'shape': (5, 2, 5, 6), }"))
        #expect(header("f4-nchw-v2/y_train.npy") == expected(2, "{'descr': '<i2', 'fortran_order': False, 'shape': (5,), }"))
        #expect(header("f4be-nhwc-v3/x_test.npy") == expected(3, "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 5, 6, 2), }"))
        #expect(header("u8-nhwc-fortran/y_train.npy") == expected(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (5, 1), }"))
        let h = try NPYHeader(TestFiles.read(Self.fixture("u8-nchw-fortran/x_train.npy"))) { o, e, f in
            DatasetError(file: "x", location: .byte(o), expected: e, found: f)
        }
        #expect(h.shape == [5, 2, 5, 6] && h.fortranOrder && h.dtype.isUInt8 && h.dataOffset == 128 && h.version == (1, 0))
    }

    @Test(arguments: [
        ("refused/f8.npy", "float64 ('<f8')"), ("refused/bool-labels.npy", "bool ('|b1')"),
        ("refused/onehot.npy", "one-hot labels? use y.argmax(1)"), ("refused/structured.npy", "a structured dtype"),
    ])
    func refusedDtypesAreNamed(file: String, message: String) throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        let good = Self.fixture("u8-nchw-v1")
        let isImages = file.hasSuffix("f8.npy") || file.hasSuffix("structured.npy")
        for n in ["x_train", "y_train"] { try FileManager.default.copyItem(atPath: "\(good)/\(n).npy", toPath: "\(dir)/\(n).npy") }
        TestFiles.write(TestFiles.read(Self.fixture(file)), "\(dir)/\(isImages ? "x_train" : "y_train").npy")
        #expect { try DatasetLoader.load("npy", path: dir) } throws: { e in
            "\(e)".contains(message) && "\(e)".contains(isImages ? "x_train.npy" : "y_train.npy")
        }
    }

    @Test func unclearLayoutAsksForTheOption() {
        #expect { try DatasetLoader.load("npy", path: Self.fixture("u8-ambiguous")) } throws: { e in
            "\(e)" == "\(Self.fixture("u8-ambiguous"))/x_train.npy: expected layout=nchw or layout=nhwc for images of shape (5, 5, 6, 8) (the channel axis is not clear), found no layout option."
        }
        #expect(throws: DatasetError.self) { try DatasetLoader.load("npy", path: Self.fixture("u8-nchw-v1"), options: ["layout": "chwn"]) }
        #expect(throws: DatasetError.self) { try DatasetLoader.load("npy", path: Self.fixture("stored.npz"), options: ["x": "images"]) }
        #expect(throws: DatasetError.self) { try DatasetLoader.load("npy", path: Self.fixture("u8-nchw-v1/x_train.npy") + "/nothing") }
    }

    @Test func errorsNameOffsetsExpectedAndFound() throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        let good = Self.fixture("u8-nchw-v1")
        for n in ["x_train", "y_train", "x_test", "y_test"] { try FileManager.default.copyItem(atPath: "\(good)/\(n).npy", toPath: "\(dir)/\(n).npy") }
        var y = TestFiles.read("\(good)/y_train.npy")
        y[128 + 8 * 3 + 2] = 1                                         // label 3: 0 → 65536 (little-endian int64)
        TestFiles.write(y, "\(dir)/y_train.npy")
        #expect { try DatasetLoader.load("npy", path: dir) } throws: { e in
            "\(e)" == "\(dir)/y_train.npy: expected a label 0…9999 (label 3), found 65536 at byte offset 152."
        }
        y[128 + 8 * 3 + 2] = 0
        y[128 + 8 * 3] = 0xfe                                          // 254: classes 5…253 would be empty
        TestFiles.write(y, "\(dir)/y_train.npy")
        #expect { try DatasetLoader.load("npy", path: dir) } throws: { e in
            "\(e)" == "\(dir)/y_train.npy: expected every class from 1 to the largest label 254 in the training labels, found no label 5 at byte offset 152."
        }
        y[128 + 8 * 3] = 0
        y[128 + 8 * 3 + 7] = 0xff                                      // negative
        TestFiles.write(y, "\(dir)/y_train.npy")
        #expect { try DatasetLoader.load("npy", path: dir) } throws: { e in "\(e)".contains("found -") }
        TestFiles.write(Array(TestFiles.read("\(good)/y_train.npy").dropLast(3)), "\(dir)/y_train.npy")
        #expect { try DatasetLoader.load("npy", path: dir) } throws: { e in
            "\(e)" == "\(dir)/y_train.npy: expected 40 bytes of data for shape (5,) of int64 ('<i8'), found the end of the data after 37 bytes at byte offset 165."
        }
        // A member of a deflated archive: the zip's CRC names the member.
        var z = TestFiles.read(Self.fixture("deflated.npz"))
        z[z.count / 3] ^= 0x40
        TestFiles.write(z, "\(dir)/d.npz")
        #expect(throws: DatasetError.self) { try DatasetLoader.load("npy", path: "\(dir)/d.npz") }
    }

    /// Every header byte of a .npy file flipped (two ways) and the file cut at every
    /// header offset: an error naming the file, never a crash; a flip that still loads
    /// gives the same data (only possible where the byte does not matter).
    @Test(arguments: ["u8-nchw-v1/x_train.npy", "f4be-nhwc-v3/x_test.npy", "u8-nhwc-fortran/y_train.npy"])
    func everyHeaderOffsetDamaged(file: String) throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        let source = Self.fixture(file.components(separatedBy: "/")[0])
        for n in ["x_train", "y_train", "x_test", "y_test"] { try FileManager.default.copyItem(atPath: "\(source)/\(n).npy", toPath: "\(dir)/\(n).npy") }
        let target = "\(dir)/\(file.components(separatedBy: "/")[1])"
        let original = TestFiles.read(target)
        let reference = try DatasetLoader.load("npy", path: dir)
        let headerEnd = original[6] == 1 ? 10 + Int(original[8]) + Int(original[9]) << 8 : 12 + Int(original[8]) + Int(original[9]) << 8
        var refused = 0, same = 0
        func attempt(_ bytes: [UInt8], _ what: String) {
            TestFiles.write(bytes, target)
            do {
                let d = try DatasetLoader.load("npy", path: dir)
                #expect(d.train == reference.train && d.test == reference.test, "\(what): loaded different data")
                same += 1
            } catch let e as DatasetError {
                #expect(e.description.contains(target), "\(what): \(e)")
                refused += 1
            } catch {
                Issue.record("\(what): not a DatasetError: \(error)")
            }
        }
        for i in 0..<headerEnd {
            for mask: UInt8 in [0xff, 0x01] {
                var b = original
                b[i] ^= mask
                attempt(b, "byte \(i) ^ \(mask)")
            }
            attempt(Array(original.prefix(i)), "cut at \(i)")
        }
        attempt(original + [0], "one byte more")
        TestFiles.write(original, target)
        #expect(refused >= 2 * headerEnd, "only \(refused) of \(3 * headerEnd) damaged headers were refused")
    }

    /// Every byte of a stored and of a deflated .npz flipped, and the archive cut at
    /// every offset: the CRC and the structure checks leave no silent wrong load.
    @Test(arguments: ["stored.npz", "deflated.npz"])
    func everyArchiveOffsetDamaged(file: String) throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        let original = TestFiles.read(Self.fixture(file))
        let target = "\(dir)/\(file)"
        TestFiles.write(original, target)
        let reference = try DatasetLoader.load("npy", path: target)
        var refused = 0
        for i in 0..<original.count {
            for (k, b) in [{ var b = original; b[i] ^= 0xff; return b }(), Array(original.prefix(i))].enumerated() {
                TestFiles.write(b, target)
                do {
                    let d = try DatasetLoader.load("npy", path: target)
                    #expect(d.train == reference.train && d.test == reference.test, "\(k == 0 ? "flip" : "cut") at \(i): different data")
                } catch let e as DatasetError {
                    #expect(e.description.hasPrefix(target + ": expected "), "\(e)")
                    refused += 1
                } catch {
                    Issue.record("offset \(i): not a DatasetError: \(error)")
                }
            }
        }
        #expect(refused > original.count)
    }
    /// A deflated member whose central-directory compressed size is larger than its
    /// stream (+1 or +8: the bytes of the next header counted in) loaded as if whole;
    /// the size is exact in a zip, so it is damage. Found by fuzz_structure.py (zip
    /// entry compressed size, npz.z-s).
    @Test(arguments: [1, 8])
    func deflatedMemberLongerThanItsStreamIsRefused(extra: Int) throws {
        let dir = TestFiles.directory(); defer { TestFiles.remove(dir) }
        var z = TestFiles.read(Self.fixture("deflated.npz"))
        func u16(_ o: Int) -> Int { Int(z[o]) | Int(z[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        let eocd = z.count - 22
        #expect(u32(eocd) == 0x0605_4b50)
        var at = u32(eocd + 16), entry = -1
        for _ in 0..<u16(eocd + 10) {
            if String(decoding: z[(at + 46)..<(at + 46 + u16(at + 28))], as: UTF8.self) == "x_train.npy" { entry = at }
            at += 46 + u16(at + 28) + u16(at + 30) + u16(at + 32)
        }
        #expect(entry >= 0)
        let size = u32(entry + 20) + extra
        for k in 0..<4 { z[entry + 20 + k] = UInt8(truncatingIfNeeded: size >> (8 * k)) }
        TestFiles.write(z, "\(dir)/d.npz")
        let e = #expect(throws: DatasetError.self) { try DatasetLoader.load("npy", path: "\(dir)/d.npz") }
        #expect(e?.file == "\(dir)/d.npz")
        #expect(e?.expected == "the compressed stream to end with the \(size) compressed bytes the central directory gives")
        #expect(e?.found == "it ends \(extra) bytes before them")
        if case .member(let m, _)? = e?.location { #expect(m == "x_train.npy") } else { Issue.record("\(String(describing: e))") }
    }
}
