"""Structural mutants of every file format quantlab reads, for scripts/fuzz_release.py.

Where fuzz_release's own mutations flip random bits, these aim at the fields a hostile
or damaged file controls, one at a time, from small valid files written by the same
writers (`idx_files`, `svhn_file`, `npy_dataset`, …):

    idx, idx.gz  magic (type byte, rank), each dimension set to 0, 1, ±1, 2^24, 2^31−1,
                 2^31, 2^32−1; truncation at every header field and record boundary; gzip
                 cut short, CRC-32 and ISIZE wrong, header flags and method, two members
    svhn         MAT v5: header version, endian, v7.3; the array class (cell, struct,
                 sparse, char, …), complex flag, rank and dimensions (0, −1, huge), every
                 storage type, every tag's size (0, ±1, ±8, 2^31, 2^32−1), small-element
                 names, big-endian files; compressed elements cut, with a bad Adler-32, a
                 lying inner size, nested compression
    npy          magic, versions 1–4, header length, the dict (dtypes, Fortran order,
                 big-endian, shapes (), (0,), negative, huge, extra/duplicate/missing keys,
                 deep brackets, bad strings), data one byte short or long
    npz          zip: end-of-central-directory counts, sizes and offsets; each entry's
                 method, flags, CRC, sizes, name and local-header offset; duplicate, missing
                 and nested members; deflate streams cut or with the wrong size
    csv          ragged rows, NaN/inf, labels out of range, one column, header only, BOM,
                 CRLF, CR, blank lines, quotes, NUL, UTF-16, long lines, many columns
    qlm          every container field set to 0, 1, ±1 or huge (CRC fixed), deep or huge JSON

Each mutant is (file name, bytes, expectation, labels, kind): the expectations are
fuzz_release's (`refuse`, `same`, `any`, `hist`); `kind` names the mutation in the
per-kind counts. Lists are deterministic; fuzz_release runs all or a seeded sample.
"""
import io
import json
import struct
import zlib

# Values a 32-bit size field is set to (besides ±1 of its own value).
SIZES32 = [0, 1, 7, 1 << 24, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def sweep(data, start, end, values=(0x00, 0xFF)):
    """Copies of `data` with each byte in start..<end set to each of `values` (where it differs)."""
    out = []
    for i in range(max(0, start), min(end, len(data))):
        for v in values:
            if data[i] != v:
                out.append(data[:i] + bytes([v]) + data[i + 1:])
    return out


def sized(old):
    """Distinct replacement values for an unsigned 32-bit field holding `old`."""
    vals = [v for v in SIZES32 + [old - 1, old + 1, old + 8, max(old - 8, 0)] if 0 <= v <= 0xFFFFFFFF and v != old]
    return sorted(set(vals))


# ----------------------------------------------------------------------------- IDX

def idx_mutants(files, gz=False):
    out = []
    for name in sorted(files):
        b = files[name]
        is_labels = "labels" in name
        rank = 1 if is_labels else 3
        head = 4 + 4 * rank
        for v in [0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00]:
            out.append((name, b[:2] + bytes([v]) + b[3:], "refuse", None, "idx magic type"))
        for v in [0, 1, 2, 3, 4, 255]:
            if v != rank:
                out.append((name, b[:3] + bytes([v]) + b[4:], "refuse", None, "idx magic rank"))
        out.append((name, b"\x01" + b[1:], "refuse", None, "idx magic"))
        for k in range(rank):
            old = struct.unpack_from(">I", b, 4 + 4 * k)[0]
            for v in sized(old):
                m = bytearray(b)
                struct.pack_into(">I", m, 4 + 4 * k, v)
                out.append((name, bytes(m), "refuse", None, "idx dimension"))
        record = 1 if is_labels else struct.unpack_from(">I", b, 8)[0] * struct.unpack_from(">I", b, 12)[0]
        for cut in sorted({0, 1, 2, 3, 4, 5, 8, 11, 12, 15, head, head + 1, head + record - 1, head + record, len(b) - record, len(b) - 1}):
            if 0 <= cut < len(b):
                out.append((name, b[:cut], "refuse", None, "idx truncate"))
        out.append((name, b + b"\0", "refuse", None, "idx extend"))
        # A consistent file with fewer records: the counts no longer match the other file.
        n = struct.unpack_from(">I", b, 4)[0]
        out.append((name, b[:4] + struct.pack(">I", n - 1) + b[8:len(b) - record], "refuse", None, "idx count"))
    if not gz:
        return out
    # Compress the structural mutants, then damage gzip's own fields.
    out = [(n + ".gz", gzip_bytes(d), e, l, k) for n, d, e, l, k in out]
    for name in sorted(files):
        g = gzip_bytes(files[name])
        for cut in sorted({1, 2, 9, 10, 11, 12, len(g) // 2, len(g) - 9, len(g) - 8, len(g) - 5, len(g) - 4, len(g) - 1}):
            out.append((name + ".gz", g[:cut], "refuse", None, "gzip truncate"))
        for off, what in ((len(g) - 8, "gzip crc"), (len(g) - 4, "gzip isize")):
            m = bytearray(g)
            m[off] ^= 0x01
            out.append((name + ".gz", bytes(m), "refuse", None, what))
        m = bytearray(g)
        struct.pack_into("<I", m, len(g) - 4, 0xFFFFFFFF)
        out.append((name + ".gz", bytes(m), "refuse", None, "gzip isize"))
        m = bytearray(g)
        m[2] = 7                                              # compression method other than deflate
        out.append((name + ".gz", bytes(m), "refuse", None, "gzip method"))
        for flag in (0x04, 0x08, 0x02, 0xE0):                 # FEXTRA, FNAME, FHCRC, reserved: fields that are not there
            m = bytearray(g)
            m[3] |= flag
            out.append((name + ".gz", bytes(m), "refuse", None, "gzip flags"))
        # FEXTRA with a length running past the file.
        out.append((name + ".gz", g[:3] + bytes([g[3] | 0x04]) + g[4:10] + struct.pack("<H", 0xFFFF) + g[10:], "refuse", None, "gzip flags"))
        half = len(files[name]) // 2
        out.append((name + ".gz", gzip_bytes(files[name][:half]) + gzip_bytes(files[name][half:]), "same", None, "gzip two members"))
        out.append((name + ".gz", g + gzip_bytes(b"\0" * 10), "refuse", None, "gzip extra member"))
        out.append((name + ".gz", files[name], "same", None, "gzip plain"))
        m = bytearray(g)
        m[len(g) // 2] ^= 0x10
        out.append((name + ".gz", bytes(m), "refuse", None, "gzip deflate"))
        # Zeros far beyond the header's count (1 MiB in a 1 KiB member): refused as more data.
        out.append((name + ".gz", gzip_bytes(files[name] + b"\0" * (1 << 20)), "refuse", None, "gzip expansion"))
    return out


def gzip_bytes(data):
    import gzip
    return gzip.compress(data, mtime=0)


# ----------------------------------------------------------------------------- CIFAR-100

def cifar100_files(r):
    """train.bin (20 records), test.bin (6), 2 label bytes (coarse, fine) + 3072 pixels."""
    def batch(n, k):
        return b"".join(bytes([(i + k) % 20, (i * 7 + k) % 100]) + bytes(r.randrange(256) for _ in range(3072)) for i in range(n))
    return {"train.bin": batch(20, 0), "test.bin": batch(6, 3)}


def cifar_mutants(files, label_bytes, classes):
    out = []
    rec = 3072 + label_bytes
    for name in sorted(files):
        b = files[name]
        for cut in sorted({0, 1, label_bytes, rec - 1, rec + 1, len(b) - 1, len(b) - rec + 1}):
            if 0 <= cut < len(b):
                out.append((name, b[:cut], "refuse", None, "cifar truncate"))
        out.append((name, b + b"\0", "refuse", None, "cifar extend"))
        out.append((name, b + b[:rec], "nocrash", None, "cifar extra record"))
        for lb in range(label_bytes):
            for v in (classes[lb], 255):
                m = bytearray(b)
                m[rec + lb] = v
                out.append((name, bytes(m), "refuse", None, "cifar label"))
    # The optional class-name file, written beside the batches.
    meta = "batches.meta.txt" if label_bytes == 1 else "fine_label_names.txt"
    names = ["c%d" % i for i in range(classes[-1])]
    for text, expect in (("\n".join(names) + "\n", "same"), ("\r\n".join(names) + "\r\n", "same"),
                         ("\n\n" + "\n \n".join(names), "same"), ("\ufeff" + "\n".join(names), "same"),
                         ("\n".join(names[:-1]), "refuse"), ("\n".join(names + ["extra"]), "refuse"), ("", "refuse"),
                         ("\n".join(names[:-1] + ["x" * (1 << 21)]), "refuse"), ("\n".join(names[:-1] + ["\x1b[2J"]), "same")):
        out.append((meta, text.encode(), expect, None, "cifar class names"))
    out.append((meta, b"\xff\xfe" + "\n".join(names).encode("utf-16-le"), "refuse", None, "cifar class names"))
    return out


# ----------------------------------------------------------------------------- SVHN (.mat)

def mat_element(dtype, data, be=False):
    e = ">" if be else "<"
    return struct.pack(e + "II", dtype, len(data)) + data + b"\0" * ((-len(data)) % 8)


def mat_small(dtype, data, be=False):
    """A small data element: the u32 (size << 16 | type), then the data in 4 bytes."""
    return struct.pack(">I" if be else "<I", len(data) << 16 | dtype) + data + b"\0" * (4 - len(data))


def mat_matrix(name, dims, storage, data, class_id=9, flags=0, be=False, small_name=False, dims_type=5, extra=b""):
    e = ">" if be else "<"
    body = mat_element(6, struct.pack(e + "II", class_id | flags, 0), be)
    body += mat_element(dims_type, b"".join(struct.pack(e + "i", d) for d in dims), be)
    body += mat_small(1, name.encode(), be) if small_name else mat_element(1, name.encode(), be)
    body += mat_element(storage, data, be) + extra
    return struct.pack(e + "II", 14, len(body)) + body


def mat_header(be=False, version=0x0100, text=b"MATLAB 5.0 MAT-file, Platform: fuzz"):
    v = struct.pack(">H" if be else "<H", version)
    return text + b" " * (116 - len(text)) + b"\0" * 8 + v + (b"MI" if be else b"IM")


def compressed(m, be=False):
    z = zlib.compress(m)
    return struct.pack(">II" if be else "<II", 15, len(z)) + z


STORAGE = {1: "b", 2: "B", 3: "h", 4: "H", 5: "i", 6: "I", 7: "f", 9: "d", 12: "q", 13: "Q"}


def pack_values(storage, values, be=False):
    return struct.pack((">" if be else "<") + STORAGE[storage] * len(values), *values)


def svhn_variant(pixels, labels, x=None, y=None, be=False, compress=False, header=None, tail=b""):
    """A .mat file with X (32×32×3×N) and y (N×1); x and y override mat_matrix's arguments."""
    n = len(labels)
    xa = dict(name="X", dims=[32, 32, 3, n], storage=2, data=bytes(pixels), class_id=9)
    ya = dict(name="y", dims=[n, 1], storage=9, data=pack_values(9, labels, be), class_id=6)
    xa.update(x or {})
    ya.update(y or {})
    xm, ym = mat_matrix(be=be, **xa), mat_matrix(be=be, **ya)
    if compress:
        xm, ym = compressed(xm, be), compressed(ym, be)
    return (header if header is not None else mat_header(be)) + xm + ym + tail


def svhn_mutants(r, labels_by_file):
    """Mutants of train_32x32.mat (test_32x32.mat stays valid)."""
    name = "train_32x32.mat"
    labels = labels_by_file[name]
    n = len(labels)
    pixels = bytes(r.randrange(256) for _ in range(3072 * n))
    base = svhn_variant(pixels, labels)
    out = []

    def add(data, expect, kind):
        out.append((name, data, expect, None, kind))
    add(base, "same", "mat valid")
    add(svhn_variant(pixels, labels, be=True), "same", "mat big-endian")
    add(svhn_variant(pixels, labels, compress=True), "same", "mat compressed")
    add(svhn_variant(pixels, labels, be=True, compress=True), "same", "mat big-endian")
    add(svhn_variant(pixels, labels, x=dict(small_name=True), y=dict(small_name=True)), "same", "mat small name")
    add(svhn_variant(pixels, labels, header=mat_header(version=0x0200)), "refuse", "mat header")
    add(svhn_variant(pixels, labels, header=mat_header()[:126] + b"MX"), "refuse", "mat header")
    add(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00" + b" " * 60 + b"\0" * 8 + b"\x00\x02IM" + b"\x89HDF\r\n\x1a\n" + b"\0" * 64,
        "refuse", "mat v7.3")
    add(mat_header(), "refuse", "mat empty")
    # Classes: cell 1, struct 2, object 3, char 4, sparse 5 are skipped (then X is missing); 16+ are not classes.
    for c in (1, 2, 3, 4, 5, 0, 16, 17, 255):
        add(svhn_variant(pixels, labels, x=dict(class_id=c)), "refuse", "mat class")
    for c in (6, 7, 8, 10, 11, 12, 13, 14, 15):
        add(svhn_variant(pixels, labels, x=dict(class_id=c)), "same", "mat class")
    add(svhn_variant(pixels, labels, x=dict(flags=0x800)), "refuse", "mat complex")
    add(svhn_variant(pixels, labels, y=dict(flags=0x800)), "refuse", "mat complex")
    add(svhn_variant(pixels, labels, x=dict(flags=0x800, extra=mat_element(2, bytes(pixels)))), "refuse", "mat complex")
    add(svhn_variant(pixels, labels, x=dict(flags=0x200)), "same", "mat flags")           # logical flag: ignored
    # Ranks and dimensions.
    for dims in ([32, 32 * 3 * n], [32, 32, 3 * n], [32, 32, 3, n, 1], [32, 32, 3, 1, n], [3072 * n, 1], [32, 32, 3, n, 1, 1, 1, 1],
                 [0, 32, 3, n], [32, 0, 3, n], [32, 32, 0, n], [-1, 32, 3, n], [32, 32, 3, -n], [65536, 65536, 65536, 0],
                 [0x7FFFFFFF, 0x7FFFFFFF, 3, n], [32, 32, 3, n + 1], [16, 64, 3, n], [32, 32, 1, 3 * n]):
        add(svhn_variant(pixels, labels, x=dict(dims=dims)), "refuse" if dims != [32, 32, 3, n, 1] else "any", "mat dims")
    for dims in ([n], [1, n], [n, 2], [n, 1, 1], [0, 1], [-n, 1], [n + 1, 1]):
        add(svhn_variant(pixels, labels, y=dict(dims=dims)), "any" if dims in ([1, n], [n, 1, 1]) else "refuse", "mat dims")
    add(svhn_variant(pixels, labels, x=dict(dims_type=6)), "refuse", "mat dims type")
    # Every storage type for X (pixel values fit all) and y.
    for s in (1, 3, 4, 5, 6, 7, 9, 12, 13):
        vals = [p - 128 for p in pixels] if s == 1 else list(pixels)
        add(svhn_variant(pixels, labels, x=dict(storage=s, data=pack_values(s, vals))), "refuse" if s == 1 else "same", "mat storage")
        add(svhn_variant(pixels, labels, y=dict(storage=s, data=pack_values(s, labels))), "same", "mat storage")
    for s in (0, 8, 10, 11, 14, 15, 16, 17, 18, 255):
        add(svhn_variant(pixels, labels, x=dict(storage=s)), "refuse", "mat storage")
    add(svhn_variant(pixels, labels, x=dict(storage=7, data=pack_values(7, [p + 0.5 for p in pixels]))), "refuse", "mat values")
    add(svhn_variant(pixels, labels, y=dict(data=pack_values(9, [float("nan")] + labels[1:]))), "refuse", "mat values")
    add(svhn_variant(pixels, labels, x=dict(data=bytes(pixels) + b"\0")), "refuse", "mat size")
    add(svhn_variant(pixels, labels, x=dict(data=bytes(pixels)[:-1])), "refuse", "mat size")
    add(svhn_variant(pixels, labels, x=dict(name="")), "refuse", "mat name")
    add(svhn_variant(pixels, labels, x=dict(name="X" * 300)), "refuse", "mat name")
    add(svhn_variant(pixels, labels, y=dict(name="X")), "any", "mat name")
    add(svhn_variant(pixels, labels, tail=mat_matrix("z", [1, 1], 9, pack_values(9, [1.0]))), "same", "mat extra variable")
    add(svhn_variant(pixels, labels, tail=struct.pack("<II", 14, 0)), "nocrash", "mat empty element")
    # Every tag's size field, uncompressed: the top-level matrix tag, then each sub-element's.
    tags = [(128 + 4, "top")]
    o = 128 + 8
    for what in ("flags", "dims", "name", "real"):
        size = struct.unpack_from("<I", base, o + 4)[0]
        tags.append((o + 4, what))
        o += 8 + size + (-size) % 8
    for off, what in tags:
        old = struct.unpack_from("<I", base, off)[0]
        for v in sized(old):
            m = bytearray(base)
            struct.pack_into("<I", m, off, v)
            add(bytes(m), "refuse", f"mat tag size {'top' if what == 'top' else 'sub'}")
        old = struct.unpack_from("<I", base, off - 4)[0]
        for t in (0, 1, 13, 15, 16, 18, 0x10005):            # wrong types, and a small-element type with size 1
            if t != old:
                m = bytearray(base)
                struct.pack_into("<I", m, off - 4, t)
                add(bytes(m), "same" if what == "name" and t == 16 else "refuse", "mat tag type")   # a name may be miUTF8
    for cut in sorted({127, 128, 131, 135, 136, 140, 150, 160, 200, len(base) // 2, len(base) - 9, len(base) - 1}):
        add(base[:cut], "refuse", "mat truncate")
    for m in sweep(base, 116, 128 + 96):
        add(m, "any", "mat header byte")
    y_at = len(base) - len(mat_matrix("y", [n, 1], 9, pack_values(9, labels), class_id=6))
    for m in sweep(base, y_at, y_at + 80):
        add(m, "any", "mat header byte")
    # Compressed elements.
    xm = mat_matrix("X", [32, 32, 3, n], 2, bytes(pixels))
    ym = mat_matrix("y", [n, 1], 9, pack_values(9, labels), class_id=6)
    z = zlib.compress(xm)
    tail = compressed(ym)
    for cut in (2, 10, len(z) // 2, len(z) - 4, len(z) - 1):
        add(mat_header() + struct.pack("<II", 15, cut) + z[:cut] + tail, "refuse", "mat zlib truncate")
    m = bytearray(z)
    m[-1] ^= 1
    add(mat_header() + struct.pack("<II", 15, len(z)) + bytes(m) + tail, "refuse", "mat zlib adler")
    m = bytearray(z)
    m[len(z) // 2] ^= 0x20
    add(mat_header() + struct.pack("<II", 15, len(z)) + bytes(m) + tail, "refuse", "mat zlib data")
    for v in sized(len(xm) - 8):
        inner = bytearray(xm)
        struct.pack_into("<I", inner, 4, v)
        add(mat_header() + compressed(bytes(inner)) + tail, "refuse", "mat zlib inner size")
    add(mat_header() + compressed(compressed(xm)) + tail, "refuse", "mat zlib nested")
    add(mat_header() + compressed(struct.pack("<HH", 14, 4) + b"\0" * 4) + tail, "refuse", "mat zlib inner small")
    add(mat_header() + compressed(xm + b"\0" * 8) + tail, "refuse", "mat zlib inner size")
    add(mat_header() + struct.pack("<II", 15, len(z) + 8) + z + b"\0" * 8 + tail, "any", "mat zlib trailing")
    add(mat_header() + struct.pack("<II", 15, 0) + tail, "refuse", "mat zlib empty")
    raw = zlib.compressobj(wbits=-15)
    rz = raw.compress(xm) + raw.flush()
    add(mat_header() + struct.pack("<II", 15, len(rz)) + rz + tail, "refuse", "mat zlib raw")
    for v in (0, 0x7FFFFFFF, 0xFFFFFFFF):
        add(mat_header() + struct.pack("<II", 15, v) + z + tail, "refuse", "mat zlib size")
    return out


# ----------------------------------------------------------------------------- NumPy

def npy_with_header(text, data, version=(1, 0), pad=True):
    """A .npy file from a header dict text (padded as NumPy pads) and raw data bytes."""
    h = text.encode("latin-1") if isinstance(text, str) else text
    lb = 2 if version[0] == 1 else 4
    if pad:
        total = 6 + 2 + lb + len(h) + 1
        h = h + b" " * ((-total) % 64) + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack("<H" if lb == 2 else "<I", len(h)) + h + data


def npy_mutants(arrays):
    import numpy as np
    x, y = arrays["x_train"], arrays["y_train"]
    xs = "(%s)" % ", ".join(str(d) for d in x.shape)
    xd = x.tobytes()
    yd = y.tobytes()
    n = len(y)
    out = []

    def hx(descr="'|u1'", fortran="False", shape=xs, extra=""):
        return "{'descr': %s, 'fortran_order': %s, 'shape': %s, %s}" % (descr, fortran, shape, extra)

    def hy(descr="'<i8'", fortran="False", shape="(%d,)" % n, extra=""):
        return "{'descr': %s, 'fortran_order': %s, 'shape': %s, %s}" % (descr, fortran, shape, extra)

    def add(file, data, expect, kind):
        out.append((file + ".npy", data, expect, None, kind))
    X, Y = "x_train", "y_train"
    base = npy_with_header(hx(), xd)
    add(X, base, "same", "npy valid")
    for v in ((2, 0), (3, 0)):
        add(X, npy_with_header(hx(), xd, v), "same", "npy version")
    for v in ((0, 0), (4, 0), (1, 1), (255, 0)):
        add(X, npy_with_header(hx(), xd, v), "refuse", "npy version")
    for m in (b"\x93NUMPZ", b"\x92NUMPY", b"PK\x03\x04\x14\x00", b"\0" * 6):
        add(X, m + base[6:], "refuse", "npy magic")
    hl = struct.unpack_from("<H", base, 8)[0]
    for v in sorted({0, 1, hl - 1, hl + 1, hl + 64, 0xFFFF}):
        m = bytearray(base)
        struct.pack_into("<H", m, 8, v)
        add(X, bytes(m), "refuse", "npy header length")
    for v in (0xFFFFFFFF, 0x80000000):
        m = bytearray(npy_with_header(hx(), xd, (2, 0)))
        struct.pack_into("<I", m, 8, v)
        add(X, bytes(m), "refuse", "npy header length")
    for cut in (0, 5, 6, 8, 9, 10, 20, 127, 128, 129, len(base) - 1):
        add(X, base[:cut], "refuse", "npy truncate")
    add(X, base + b"\0", "refuse", "npy extend")
    # dtypes of the images.
    for d in ("'<f8'", "'|b1'", "'<c8'", "'|O'", "'<U3'", "'|S1'", "'|V1'", "'<f2'", "'<i1'", "'<M8[D]'", "'<u2'",
              "[('a', '|u1')]", "'u1'", "'<u1'", "''", "'|u0'", "'|u99999999999'", "None", "3"):
        add(X, npy_with_header(hx(descr=d), xd), "same" if d == "'<u1'" else "refuse", "npy dtype")
    xf = x.astype(np.float32)
    add(X, npy_with_header(hx(descr="'<f4'"), xf.tobytes()), "any", "npy float32")
    add(X, npy_with_header(hx(descr="'>f4'"), xf.astype(">f4").tobytes()), "any", "npy big-endian")
    add(X, npy_with_header(hx(descr="'<f4'"), np.full(x.shape, np.nan, np.float32).tobytes()), "refuse", "npy nan")
    add(X, npy_with_header(hx(descr="'<f4'"), np.full(x.shape, np.inf, np.float32).tobytes()), "refuse", "npy inf")
    add(X, npy_with_header(hx(fortran="True"), np.asfortranarray(x).tobytes(order="F")), "same", "npy fortran")
    add(X, npy_with_header(hx(fortran="True"), xd), "same", "npy fortran")
    for f in ("1", "'True'", "None", "true", "()"):
        add(X, npy_with_header(hx(fortran=f), xd), "refuse", "npy fortran value")
    # Shapes (data kept): every one disagrees with the data or the labels.
    N, C, H, W = x.shape
    for s in ("()", "(0,)", "(%d,)" % (N * C * H * W), "(%d, %d, %d, %d, 1)" % x.shape, "(-%d, %d, %d, %d)" % x.shape,
              "(%d, %d, %d, -%d)" % x.shape, "(4611686018427387904, 3, 8, 8)", "(2147483648, 2147483648, 3, 8)",
              "(%d, %d, %d, %d)" % (N + 1, C, H, W), "(0, %d, %d, %d)" % (C, H, W), "(%d, 0, %d, %d)" % (N, H, W),
              "[%d, %d, %d, %d]" % x.shape, "(%d, %d, %d, %dL)" % x.shape, "(%d, %d, %d, %d.0)" % x.shape,
              "(99999999999999999999, 1)", "(%d, %d, %d, %d,)" % x.shape):
        ok = s in ("(%d, %d, %d, %dL)" % x.shape, "(%d, %d, %d, %d,)" % x.shape)
        add(X, npy_with_header(hx(shape=s), xd), "same" if ok else "refuse", "npy shape")
    add(X, npy_with_header(hx(shape="(%d, %d)" % (N, C * H * W)), xd), "refuse", "npy shape")   # features; test has images
    add(X, npy_with_header(hx(shape="(0, %d, %d, %d)" % (C, H, W)), b""), "refuse", "npy shape")
    # The dict itself.
    for h in (hx(extra="'x': 1"), hx().replace("}", "'descr': '|u1'}"), "{'descr': '|u1', 'shape': %s}" % xs,
              "{'descr': '|u1', 'fortran_order': False}", "{}", "", "[" * 100 + "]" * 100, "{'descr': " + "(" * 40 + ")" * 40 + "}",
              "{'descr': '|u1, 'fortran_order': False, 'shape': %s}" % xs, hx() + "x", "{'descr': '|u1' 'fortran_order': False}",
              "{1: 2}", "{'descr': '|u1', 'fortran_order': False, 'shape': (" + "1, " * 5000 + ")}",
              "{'descr': '\xff\xfe', 'fortran_order': False, 'shape': %s}" % xs, hx().replace("'", '"'),
              "{'shape': %s, 'fortran_order': False, 'descr': '|u1'}" % xs, hx().replace(" ", "\t"),
              hx() + "\r\n", "{'descr': '|u1', 'fortran_order': False, 'shape': %s}\0" % xs, "{'descr': '\\'|u1'}"):
        valid = h in (hx().replace("'", '"'), "{'shape': %s, 'fortran_order': False, 'descr': '|u1'}" % xs,
                      hx().replace(" ", "\t"), hx() + "\r\n")
        add(X, npy_with_header(h, xd), "same" if valid else "refuse", "npy header dict")
    add(X, npy_with_header(hx(), xd, pad=False), "any", "npy header padding")          # NumPy reads it too
    add(X, npy_with_header(hx() + " " * 70000, xd, (2, 0)), "same", "npy long header")
    for m in sweep(base, 0, 128, (0x00, 0x20, 0x27, 0x39, 0xFF)):
        add(X, m, "any", "npy header byte")
    for m in sweep(npy_with_header(hy(), yd), 0, 128, (0x00, 0x28, 0x2C, 0xFF)):
        add(Y, m, "any", "npy header byte")
    # Labels: dtypes and orders that hold the same values, and ones that do not.
    for d, t in (("'|u1'", "u1"), ("'<u2'", "<u2"), ("'>i8'", ">i8"), ("'<i4'", "<i4"), ("'>u4'", ">u4"), ("'|i1'", "i1"), ("'<u8'", "<u8")):
        add(Y, npy_with_header(hy(descr=d), y.astype(t).tobytes()), "same", "npy label dtype")
    for d, t in (("'<f8'", "<f8"), ("'<f4'", "<f4"), ("'|b1'", "?"), ("'<c16'", "<c16")):
        add(Y, npy_with_header(hy(descr=d), y.astype(t).tobytes()), "refuse", "npy label dtype")
    add(Y, npy_with_header(hy(shape="(%d, 1)" % n), yd), "same", "npy label shape")
    add(Y, npy_with_header(hy(shape="(%d, 1)" % n, fortran="True"), yd), "same", "npy label shape")
    add(Y, npy_with_header(hy(shape="(1, %d)" % n), yd), "refuse", "npy label shape")
    add(Y, npy_with_header(hy(shape="(%d, 2)" % n), yd + yd), "refuse", "npy label shape")
    add(Y, npy_with_header(hy(shape="()"), yd[:8]), "refuse", "npy label shape")
    add(Y, npy_with_header(hy(shape="(%d,)" % (n - 1)), yd[:-8]), "refuse", "npy label shape")
    add(Y, npy_with_header(hy(descr="'<u8'"), struct.pack("<Q", 1 << 63) + yd[8:]), "refuse", "npy label value")
    add(Y, npy_with_header(hy(), struct.pack("<q", -(1 << 63)) + yd[8:]), "refuse", "npy label value")
    add(Y, npy_with_header(hy(descr="'<u2'"), np.full(n, 65535, "<u2").tobytes()), "refuse", "npy label value")
    return out


def zip_layout(b):
    """(eocd offset, [(central entry offset, local header offset, name)]) of a zip in bytes."""
    e = b.rfind(b"PK\x05\x06")
    count, cd_size, cd_off = struct.unpack_from("<HII", b, e + 10)
    entries = []
    o = cd_off
    for _ in range(count):
        nl, xl, cl = struct.unpack_from("<HHH", b, o + 28)
        entries.append((o, struct.unpack_from("<I", b, o + 42)[0], b[o + 46:o + 46 + nl].decode()))
        o += 46 + nl + xl + cl
    return e, entries


def npz_bytes(arrays, compress=False, names=None):
    import numpy as np
    f = io.BytesIO()
    a = {names.get(k, k) if names else k: v for k, v in arrays.items()}
    (np.savez_compressed if compress else np.savez)(f, **a)
    return f.getvalue()


def npz_mutants(arrays, compress):
    import zipfile
    base = npz_bytes(arrays, compress)
    out = []

    def add(data, expect, kind):
        out.append(("data.npz", data, expect, None, kind))

    def patch(off, fmt, v):
        m = bytearray(base)
        struct.pack_into(fmt, m, off, v)
        return bytes(m)
    e, entries = zip_layout(base)
    add(base, "same", "zip valid")
    for off, fmt, what in ((e + 4, "<H", "disk"), (e + 6, "<H", "disk"), (e + 8, "<H", "count"), (e + 10, "<H", "count"),
                           (e + 12, "<I", "cd size"), (e + 16, "<I", "cd offset"), (e + 20, "<H", "comment length")):
        old = struct.unpack_from(fmt, base, off)[0]
        vals = sized(old) if fmt == "<I" else sorted({0, 1, old - 1, old + 1, 0xFFFF} - {old})
        for v in vals:
            if 0 <= v <= (0xFFFF if fmt == "<H" else 0xFFFFFFFF):
                add(patch(off, fmt, v), "refuse", "zip eocd " + what)
    add(base[:-2] + struct.pack("<H", 5) + b"hello", "same", "zip comment")
    cd_off = struct.unpack_from("<I", base, e + 16)[0]
    for m in sweep(base, cd_off, len(base)):
        add(m, "any", "zip directory byte")
    for _, lh, _ in entries:
        for m in sweep(base, lh, lh + 30):
            add(m, "any", "zip local header byte")
    for cut in sorted({0, 4, 30, len(base) // 2, e, e + 1, len(base) - 1}):
        add(base[:cut], "refuse", "zip truncate")
    add(b"PK\x05\x06" + b"\0" * 18, "refuse", "zip empty")
    for c, lh, name in entries:
        if name not in ("x_train.npy", "y_train.npy"):
            continue
        for off, fmt, what, vals in ((c + 10, "<H", "method", [1, 6, 9, 12, 14, 93, 99, 8 if not compress else 0]),
                                     (c + 8, "<H", "flags", [1, 0x41]),
                                     (c + 16, "<I", "crc", None), (c + 20, "<I", "compressed size", None),
                                     (c + 24, "<I", "size", None), (c + 42, "<I", "local offset", None),
                                     (c + 28, "<H", "name length", [0, 1, 10, 0xFFFF]), (c + 30, "<H", "extra length", [4, 0xFFFF]),
                                     (c + 34, "<H", "disk", [1]), (lh + 26, "<H", "local name length", [0, 1, 0xFFFF]),
                                     (lh + 28, "<H", "local extra length", [0, 0xFFFF])):
            old = struct.unpack_from(fmt, base, off)[0]
            for v in (vals if vals is not None else sized(old)):
                if v != old:
                    expect = "any" if what == "local extra length" and v == 0 else "refuse"
                    add(patch(off, fmt, v), expect, "zip entry " + what)
        m = bytearray(base)
        m[lh + 30] ^= 0x20                                    # local name differs from the central one
        add(bytes(m), "refuse", "zip local name")
    # Members: duplicate, missing, renamed, nested, another kind of file.
    add(npz_bytes(arrays, compress, {"y_test": "y_train"}), "refuse", "zip duplicate")   # numpy writes both names
    for drop in ("x_train", "y_train", "y_test"):
        add(npz_bytes({k: v for k, v in arrays.items() if k != drop}, compress), "refuse", "zip missing")
    add(npz_bytes({k: v for k, v in arrays.items() if k not in ("x_test", "y_test")}, compress), "nocrash", "zip no test")
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for k, v in arrays.items():
            z.writestr(k if k != "x_train" else "x_train.npy", npy_bytes_of(v))
    add(f.getvalue(), "same", "zip names")
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w") as z:
        for k, v in arrays.items():
            z.writestr(k + ".npy", npy_bytes_of(v) if k != "x_train" else base)
    add(f.getvalue(), "refuse", "zip nested")
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", zipfile.ZIP_BZIP2) as z:
        for k, v in arrays.items():
            z.writestr(k + ".npy", npy_bytes_of(v))
    add(f.getvalue(), "refuse", "zip bzip2")
    add(base + base, "any", "zip twice")        # the last directory's offsets point into the first copy, which is whole
    add(npy_bytes_of(arrays["x_train"]), "refuse", "zip a .npy")
    add(gzip_bytes(base), "same", "zip gzipped")
    if compress:
        # Deflate streams with the sizes around them lying, CRC fixed where the data is whole.
        c, lh, name = next(t for t in entries if t[2] == "x_train.npy")
        for what, v in (("size", struct.unpack_from("<I", base, c + 24)[0] + 1), ("size", struct.unpack_from("<I", base, c + 24)[0] - 1),
                        ("size", 0x7FFFFFFF)):
            add(patch(c + 24, "<I", v), "refuse", "zip deflate " + what)
        csize = struct.unpack_from("<I", base, c + 20)[0]
        for v in (csize // 2, 2, 1):
            add(patch(c + 20, "<I", v), "refuse", "zip deflate cut")
        nl, xl = struct.unpack_from("<HH", base, lh + 26)
        m = bytearray(base)
        m[lh + 30 + nl + xl + csize // 2] ^= 0x40
        add(bytes(m), "refuse", "zip deflate data")
    return out


def npy_bytes_of(a):
    import numpy as np
    f = io.BytesIO()
    np.save(f, a)
    return f.getvalue()


# ----------------------------------------------------------------------------- CSV

def csv_mutants(files):
    """Mutants of train.csv (test.csv stays valid): (name, bytes, expectation, None, kind)."""
    name = "train.csv"
    text = files[name].decode()
    lines = text.rstrip("\n").split("\n")
    head, rows = lines[0], lines[1:]
    out = []

    def add(data, expect, kind):
        out.append((name, data if isinstance(data, bytes) else data.encode(), expect, None, kind))

    def body(rs, h=head, nl="\n"):
        return nl.join([h] + rs) + nl
    add(body(rows, nl="\r\n"), "same", "csv crlf")
    add(body(rows, nl="\r"), "same", "csv cr")
    add("\ufeff" + text, "same", "csv bom")
    add("\n\n" + body(rows).replace("\n", "\n\n"), "same", "csv blank lines")
    add("  \t\n" + text, "same", "csv blank lines")
    add(body(rows)[:-1], "same", "csv no final newline")
    add(body([",".join('"%s"' % c for c in r.split(",")) for r in rows]), "same", "csv quotes")
    add(body([",".join(' %s\t' % c for c in r.split(",")) for r in rows]), "same", "csv spaces")
    add(head + "\n", "refuse", "csv header only")
    add("", "refuse", "csv empty")
    add("\n\n\n", "refuse", "csv empty")
    add("\ufeff", "refuse", "csv empty")
    add("label\n" + "\n".join(r.split(",")[-1] for r in rows) + "\n", "refuse", "csv one column")
    add("f1\n" + "\n".join(r.split(",")[0] for r in rows) + "\n", "refuse", "csv one column")
    add("label," + head + "\n" + "\n".join("0," + r for r in rows) + "\n", "refuse", "csv columns")   # features differ from test
    for k, cells in ((1, lambda c: c[:-2] + c[-1:]), (3, lambda c: c + ["1"]), (len(rows) - 1, lambda c: c[:1]),
                     (2, lambda c: c + [""]), (4, lambda c: []), (5, lambda c: c[:4] + [",".join(c[4:])])):
        rs = list(rows)
        rs[k] = ",".join(cells(rs[k].split(",")))
        # An emptied row is a blank line (skipped): the file loads with one row fewer.
        add(body(rs), "nocrash" if not rs[k] else "refuse" if rs[k] != rows[k] else "same", "csv ragged")
    for v in ("nan", "NaN", "inf", "-inf", "1e39", "-1e39", "1e-50", "0x10", "1_0", "1,5", "", " ", "1e", "١", "1.5.5",
              "9" * 400, "0." + "0" * 400 + "1", "\0", "\"1\"", "+1", "-0", ".5", "5.", "1E3", "Infinity", "infinity"):
        rs = list(rows)
        c = rs[2].split(",")
        c[1] = v if v != "1,5" else '"1,5"'
        rs[2] = ",".join(c)
        try:
            f = float(v.strip().strip('"'))
            import math
            ok = math.isfinite(f) and abs(f) < 3.4028235e38 and not any(ch in v for ch in "_١") and v.strip() not in ("",)
        except ValueError:
            ok = v == "0x10"                                  # a C hexadecimal float, as strtof reads it

        add(body(rs), "same" if ok else "refuse", "csv number")
    for v in ("-1", "10000", "99999999999999999999", "1.0", "1e0", "nan", "", "3", "2.5", "0x1", "one", "\x01", " 1 ", "01"):
        rs = list(rows)
        c = rs[4].split(",")
        c[-1] = v
        rs[4] = ",".join(c)
        expect = "nocrash" if v in ("3", " 1 ", "01") else "refuse"
        add(body(rs), expect, "csv label")
    add(body(['"%s' % r for r in rows[:1]] + rows[1:]), "refuse", "csv quote")
    add(body([rows[0][:5] + '"' + rows[0][5:]] + rows[1:]), "refuse", "csv quote")
    add(body(rows).encode("utf-16"), "refuse", "csv utf-16")
    add(body(rows).encode() + b"\xff\xfe\n", "refuse", "csv encoding")
    add(body(rows).replace("\n", "\0", 1), "refuse", "csv nul")
    add(body(rows) + "1,2,3,4," + "9" * 100000 + "\n", "refuse", "csv long line")
    add(body(rows) + ",".join(["1"] * 100000) + "\n", "refuse", "csv long line")
    wide = ",".join("c%d" % i for i in range(20000)) + ",label"
    add(wide + "\n" + ",".join(["0.5"] * 20000) + ",0\n" + ",".join(["0.5"] * 20000) + ",1\n", "refuse", "csv many columns")
    add(body(rows, h=head.replace("f2", "f1")), "any", "csv duplicate column")
    add(body(rows, h=head.replace("label", "")), "refuse", "csv header")
    add(body(rows, h=head.replace(",", ";")), "refuse", "csv separator")
    add(body([r.replace(",", ";") for r in rows], h=head.replace(",", ";")), "refuse", "csv separator")
    add(body(rows) + head + "\n", "refuse", "csv repeated header")
    return out


# ----------------------------------------------------------------------------- .qlm

def qlm_structural(base, fields, fix_crc, with_header):
    """Mutants of a valid .qlm: (bytes, expectation, kind). fields from fuzz_release.qlm_fields."""
    out = []
    for off, size, what in fields:
        if size not in (1, 2, 4, 8) or what in ("magic", "name"):
            continue
        fmt = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}[size]
        old = struct.unpack_from(fmt, base, off)[0]
        top = (1 << (8 * size)) - 1
        vals = sized(old) if size == 4 else sorted({0, 1, old - 1, old + 1, top, top >> 1} - {old})
        for v in vals:
            if 0 <= v <= top:
                m = bytearray(base)
                struct.pack_into(fmt, m, off, v)
                out.append((bytes(m) if what == "length" else fix_crc(bytes(m)), "refuse", "qlm " + what))
    for cut in sorted({0, 3, 4, 8, 16, 19, 20, 24, len(base) // 2, len(base) - 5, len(base) - 4, len(base) - 1}):
        out.append((base[:cut], "refuse", "qlm truncate"))
    hl = struct.unpack_from("<I", base, 16)[0]
    for m in sweep(base, 20 + hl, 20 + hl + 200):
        out.append((fix_crc(m), "any", "qlm record byte"))
    header = json.loads(base[20:20 + struct.unpack_from("<I", base, 16)[0]])

    def edited(**kw):
        h = dict(header)
        h.update(kw)
        return with_header(base, json.dumps(h).encode())
    for deep in (100, 10000, 100000):
        out.append((with_header(base, b"[" * deep + b"]" * deep), "refuse", "qlm json depth"))
        out.append((edited(options="@").replace(b'"@"', b"[" * deep + b"]" * deep), "refuse", "qlm json depth"))
    out.append((with_header(base, b""), "refuse", "qlm json"))
    out.append((with_header(base, b"\xff\xfe{}"), "refuse", "qlm json"))
    out.append((with_header(base, json.dumps(header).encode() + b" " * 2000000), "any", "qlm json size"))
    for shape in ([1e300], [2 ** 63], [-1], [4] * 200, [0], [1, 1, 1]):
        out.append((edited(inputShape=shape), "refuse", "qlm input shape"))
    out.append((edited(spec=" | ".join(["relu"] * 100000) + " | " + header["spec"]), "any", "qlm spec size"))
    out.append((edited(spec="res(" * 1000 + header["spec"] + ")" * 1000), "refuse", "qlm spec"))
    out.append((edited(spec=header["spec"] + " | " + "(" * 100000), "refuse", "qlm spec"))
    out.append((edited(classNames=["c"] * 1000000), "any", "qlm class names"))
    out.append((edited(classNames=["x" * 1000000]), "any", "qlm class names"))
    out.append((edited(layers=header["layers"] * 10000), "refuse", "qlm layers"))
    out.append((edited(normalization={"mean": [0.0] * 1000000, "std": [1.0] * 1000000}), "refuse", "qlm normalization"))
    return out
