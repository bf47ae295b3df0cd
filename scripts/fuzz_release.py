#!/usr/bin/env python3
"""Fuzz the release binary: damaged files of every format and random command lines.

Called by scripts/fuzz-release.sh (which builds the binary). Deterministic for a seed.

Files. For each format a small valid dataset (or model, or session) is written, then
MUTATIONS damaged copies of one of its files: bit flips, truncations, extensions and
header/label/pixel field changes. Each copy is loaded by the binary in a fresh process:

    idx, idx.gz, cifar10, svhn (.mat v5, plain and compressed), csv, npy (a directory of
    .npy files), npz (numpy.savez), npz.z (numpy.savez_compressed)
        quantlab run load.qlab      (data load … val=0, data info, data sample all)
    qlm   quantlab run eval.qlab    (data load csv …, evaluate FILE.qlm)
    qlab  quantlab replay FILE.qlab --verify
    foreign  quantlab replay s.qlab (a session whose last command writes or reads a file
          outside the folder: absolute, `..`, `~`, a symbolic link; HOME is outside too)

and the outcome is checked against what the mutation must give:

    refuse  the load must fail with an error message (exit status 1)
    same    the load must succeed with the original's summary: class count, sample
            shape, train/test counts, per-class counts (a changed pixel, a gzip field
            zlib ignores)
    hist    the load must succeed with the summary computed for the new labels (a label
            changed to another valid class)
    rows    (csv truncation at a line end) load with the rows that remain
    any     refuse, or load with the original's class count, shape and sizes (random
            flips where either is right, e.g. a flipped bit in a .mat padding byte)
    load    (qlm) must load and evaluate: a changed weight, bias or normalisation value
    verify  (qlab) a changed '#=' result must make `replay --verify` fail (status 1)
    contained  (foreign) the command must be refused ("during replay"), and after every
            case the folder outside must hold exactly what it held

Structural mutants (fuzz_structure.py: one header field, tag, size, offset, dtype or
layout choice at a time, from valid files of each format) run the same way as the formats
idx-s, idx.gz-s, cifar10-s, cifar100-s, svhn-s, npy-s, npz-s, npz.z-s, csv-s and qlm-s:
--structural N of each list (a seeded sample; 30 by default, about 300 in all), or all of
them (about 4,500) with --structural all. Two more expectations: `nocrash` (a change that
may load with other counts, or be refused) and, for a structural `refuse`, one error line
naming the file and saying what was expected and what was found.

A crash is an exit by signal or a status other than 0 and 1; a hang is a run over 30 s;
every run is limited to --memory-gb of address space (4 by default), so an allocation a
header asks for beyond it ends the run by a signal: a crash. A silent wrong load is a
success where the mutation says refuse, or a success whose summary differs from the
expected one. Wrongly refused valid files are failures too.

Command lines. LINES random and mutated lines (command words from `help`, options,
numbers, quotes, unicode, long arguments) are piped in chunks of 200 into the shell
(`quantlab --no-record`: plain lines from a pipe, errors do not stop it) in a folder
with a tiny CSV dataset; each chunk must end with status 0 (no crash) within 30 s,
which bounds every command in it by 30 s. Some lines carry bytes no text holds (NUL,
invalid UTF-8, a lone CR) or are made 1 MB long; numbers include ones a command could
allocate from (1e12, 10^9, 100000x100000).

Prints `fuzz: N passed, M failed` and exits 1 when M > 0.
"""
import argparse
import concurrent.futures as cf
import gzip
import json
import os
import random
import re
import resource
import shutil
import struct
import subprocess
import sys
import time
import zlib

import fuzz_structure as fs

TIMEOUT = 30
# Address-space limit of every run (bytes; --memory-gb): a header that makes the binary
# allocate beyond it ends the run by a signal, which counts as a crash.
MEMORY = 4 << 30

# ----------------------------------------------------------------------------- running


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(cmd, cwd, stdin=None, timeout=TIMEOUT, home=None):
    """(status, stdout, stderr, seconds); status 'hang' on timeout, 'signal N' when killed."""
    t0 = time.time()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if home:
        env["HOME"] = home
    try:
        p = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, timeout=timeout,
                           env=env, preexec_fn=limit_memory)
    except subprocess.TimeoutExpired as e:
        return "hang", (e.stdout or b"").decode("utf-8", "replace"), "", time.time() - t0
    status = p.returncode
    if status < 0:
        status = f"signal {-status}"
    elif status >= 128 or status not in (0, 1):
        status = f"status {status}"
    return status, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), time.time() - t0


def summary(out):
    """The observable content of a load: classes, shape, counts, per-class train counts."""
    s = {}
    m = re.search(r"^dataset (\S+): (\d+) classes, samples (\S+) (\S+)$", out, re.M)
    if m:
        s["classes"], s["shape"] = int(m.group(2)), m.group(3)
    for name in ("train", "test"):
        m = re.search(rf"^  {name} (\d+)(?: \((\d+)–(\d+) per class\))?$", out, re.M)
        if m:
            s[name] = int(m.group(1))
            s[name + "_range"] = (m.group(2), m.group(3))
    hist = re.search(r"^sample of (\d+), per class:\n((?:.*\n?)*)", out, re.M)
    if hist:
        s["hist"] = [int(x) for x in re.findall(r"^\s*\S+ .*? (\d+) ", hist.group(2), re.M)]
    return s


def clear_error(err):
    """One error line that names a file and says what was expected and what was found."""
    lines = [l for l in err.splitlines() if "error: " in l]
    return len(lines) == 1 and re.search(r"error: \S+: .*expected .*found", lines[0]) is not None


def expected_summary(classes, shape, train_labels, test_labels):
    def rng(labels):
        h = [labels.count(c) for c in range(classes)]
        return (str(min(h)), str(max(h))) if h else (None, None)
    return {"classes": classes, "shape": shape, "train": len(train_labels), "train_range": rng(train_labels),
            "test": len(test_labels), "test_range": rng(test_labels),
            "hist": [train_labels.count(c) for c in range(classes)]}


def structure(s):
    return {k: s.get(k) for k in ("classes", "shape", "train", "test")}


# ----------------------------------------------------------------------------- formats
# Each writer puts a valid dataset in a folder and returns (files it may damage,
# load command, labels per split (train, test), class count, shape text).

def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def idx_files(r, n_train=30, n_test=12, rows=6, cols=5):
    files = {}
    labels = {}
    for stem, n in (("train", n_train), ("t10k", n_test)):
        lab = [(i * 7 + (3 if stem == "t10k" else 0)) % 10 for i in range(n)]
        pix = bytes(r.randrange(256) for _ in range(n * rows * cols))
        files[f"{stem}-images-idx3-ubyte"] = b"\0\0\x08\x03" + struct.pack(">III", n, rows, cols) + pix
        files[f"{stem}-labels-idx1-ubyte"] = b"\0\0\x08\x01" + struct.pack(">I", n) + bytes(lab)
        labels[stem] = lab
    return files, labels, f"1×{rows}×{cols}"


def idx_mutation(r, files, labels, shape):
    """A semantic mutation of one IDX file: (name, bytes, expectation, expected labels)."""
    name = r.choice(sorted(files))
    b = bytearray(files[name])
    stem = name.split("-")[0]
    is_labels = "labels" in name
    head = 8 if is_labels else 16
    train, test = list(labels["train"]), list(labels["t10k"])
    kind = r.choice(["header", "label" if is_labels else "pixel", "label" if is_labels else "pixel", "truncate", "extend", "flips"])
    if kind == "header":
        i = r.randrange(head)
        b[i] ^= 1 << r.randrange(8)
        return name, bytes(b), "refuse", None
    if kind == "truncate":
        return name, bytes(b[:r.randrange(len(b))]), "refuse", None
    if kind == "extend":
        return name, bytes(b) + bytes(r.randrange(256) for _ in range(r.randint(1, 40))), "refuse", None
    if kind == "pixel":
        i = r.randrange(head, len(b))
        b[i] = (b[i] + r.randint(1, 255)) % 256
        return name, bytes(b), "same", None
    if kind == "label":
        k = r.randrange(len(b) - head)
        v = r.choice([r.randrange(10), r.randrange(10, 256)])
        b[head + k] = v
        if v >= 10:
            return name, bytes(b), "refuse", None
        (train if stem == "train" else test)[k] = v
        return name, bytes(b), "hist", (train, test)
    # 1-3 bit flips anywhere: decide by where they land.
    for _ in range(r.randint(1, 3)):
        i = r.randrange(len(b))
        b[i] ^= 1 << r.randrange(8)
    changed = [i for i in range(len(b)) if b[i] != files[name][i]]
    if not changed:
        return name, bytes(b), "same", None
    if any(i < head for i in changed):
        return name, bytes(b), "refuse", None
    if not is_labels:
        return name, bytes(b), "same", None
    if any(b[i] >= 10 for i in changed):
        return name, bytes(b), "refuse", None
    for i in changed:
        (train if stem == "train" else test)[i - head] = b[i]
    return name, bytes(b), "hist", (train, test)


def cifar_files(r):
    files, train, test = {}, [], []
    for k in range(1, 6):
        lab = [(k * 3 + i) % 10 for i in range(4)]
        train += lab
        files[f"data_batch_{k}.bin"] = b"".join(bytes([l]) + bytes(r.randrange(256) for _ in range(3072)) for l in lab)
    test = [(i * 3) % 10 for i in range(5)]
    files["test_batch.bin"] = b"".join(bytes([l]) + bytes(r.randrange(256) for _ in range(3072)) for l in test)
    return files, train, test


def cifar_mutation(r, files, train0, test0):
    name = r.choice(sorted(files))
    b = bytearray(files[name])
    rec = 3073
    batches = [f"data_batch_{k}.bin" for k in range(1, 6)]

    def labels_after(newfile):
        tr, te = [], []
        for f in batches:
            data = newfile if f == name else files[f]
            tr += [data[i * rec] for i in range(len(data) // rec)]
        data = newfile if name == "test_batch.bin" else files["test_batch.bin"]
        te = [data[i * rec] for i in range(len(data) // rec)]
        return tr, te
    kind = r.choice(["label", "pixel", "truncate", "extend", "flips"])
    if kind == "truncate":
        cut = r.choice([r.randrange(len(b)), rec * r.randrange(len(b) // rec)])
        nb = bytes(b[:cut])
        if cut % rec or cut == 0:
            return name, nb, "refuse", None
        return name, nb, "hist", labels_after(nb)
    if kind == "extend":
        return name, bytes(b) + bytes(r.randrange(256) for _ in range(r.randint(1, rec - 1))), "refuse", None
    if kind == "pixel":
        i = r.randrange(len(b))
        while i % rec == 0:
            i = r.randrange(len(b))
        b[i] = (b[i] + r.randint(1, 255)) % 256
        return name, bytes(b), "same", None
    if kind == "label":
        i = rec * r.randrange(len(b) // rec)
        b[i] = r.choice([r.randrange(10), r.randrange(10, 256)])
    else:
        for _ in range(r.randint(1, 3)):
            i = r.randrange(len(b))
            b[i] ^= 1 << r.randrange(8)
    nb = bytes(b)
    if any(nb[i] >= 10 for i in range(0, len(nb), rec)):
        return name, nb, "refuse", None
    return name, nb, "hist", labels_after(nb)


# SVHN: MATLAB v5 writer (little-endian).

def mat_element(dtype, data):
    pad = (-len(data)) % 8
    return struct.pack("<II", dtype, len(data)) + data + b"\0" * pad


def mat_matrix(name, class_id, dims, storage, data):
    body = mat_element(6, struct.pack("<II", class_id, 0))
    body += mat_element(5, b"".join(struct.pack("<i", d) for d in dims))
    body += mat_element(1, name.encode())
    body += mat_element(storage, data)
    return struct.pack("<II", 14, len(body)) + body


def mat_header():
    text = b"MATLAB 5.0 MAT-file, Platform: fuzz, Created on: today"
    return text + b" " * (116 - len(text)) + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"


def svhn_file(r, labels, compressed):
    n = len(labels)
    x = bytes(r.randrange(256) for _ in range(32 * 32 * 3 * n))
    xm = mat_matrix("X", 9, [32, 32, 3, n], 2, x)
    ym = mat_matrix("y", 6, [n, 1], 9, b"".join(struct.pack("<d", float(l)) for l in labels))
    if compressed:
        wrap = lambda m: (lambda z: struct.pack("<II", 15, len(z)) + z)(zlib.compress(m))
        return mat_header() + wrap(xm) + wrap(ym)
    return mat_header() + xm + ym


def svhn_mutation(r, files, labels, compressed):
    name = r.choice(sorted(files))
    b = bytearray(files[name])
    lab = labels[name]
    train, test = [l % 10 for l in labels["train_32x32.mat"]], [l % 10 for l in labels["test_32x32.mat"]]
    n = len(lab)
    if compressed:
        kind = r.choice(["flips", "truncate", "extend", "header"])
    else:
        kind = r.choice(["label", "pixel", "dims", "name", "truncate", "extend", "flips", "header"])
    # Offsets in the uncompressed layout.
    x_start = 128
    x_dims = x_start + 8 + 16 + 8          # X's dims data
    x_name = x_dims + 16 + 8               # X's name data
    x_data = x_name + 8 + 8                # X's real part data
    y_start = x_data + 3072 * n
    y_dims = y_start + 8 + 16 + 8
    y_data = y_dims + 8 + 8 + 8 + 8
    if kind == "header":
        i = r.randrange(116)
        b[i] = (b[i] + r.randint(1, 255)) % 256
        return name, bytes(b), "same", None
    if kind == "truncate":
        return name, bytes(b[:r.randrange(len(b))]), "refuse", None
    if kind == "extend":
        return name, bytes(b) + bytes(r.randrange(256) for _ in range(r.randint(1, 24))), "refuse", None
    if kind == "pixel":
        i = x_data + r.randrange(3072 * n)
        b[i] = (b[i] + r.randint(1, 255)) % 256
        return name, bytes(b), "same", None
    if kind == "dims":
        i = r.choice([x_dims + 4 * r.randrange(4), y_dims + 4 * r.randrange(2)])
        old = struct.unpack_from("<i", b, i)[0]
        struct.pack_into("<i", b, i, old + r.choice([-1, 1, 2, 7, 1000, -1000]))
        return name, bytes(b), "refuse", None
    if kind == "name":
        b[r.choice([x_name, y_dims + 16])] = ord(r.choice("AZaxz_Q"))
        return name, bytes(b), "refuse", None
    if kind == "label":
        k = r.randrange(n)
        v = r.choice([float(r.randint(1, 10)), 0.0, 11.0, 2.5, float("nan"), -1.0, 1e300])
        struct.pack_into("<d", b, y_data + 8 * k, v)
        if not (v == v and 1 <= v <= 10 and v == int(v)):
            return name, bytes(b), "refuse", None
        (train if name.startswith("train") else test)[k] = int(v) % 10
        return name, bytes(b), "hist", (train, test)
    for _ in range(r.randint(1, 3)):
        i = r.randrange(len(b))
        b[i] ^= 1 << r.randrange(8)
    return name, bytes(b), "any", None


def csv_text(rows, r, first_label=0):
    lines = ["f1,f2,f3,f4,label"]
    labels = []
    for i in range(rows):
        c = (i + first_label) % 3
        labels.append(c)
        lines.append(",".join(f"{c + r.random():.3f}" for _ in range(4)) + f",{c}")
    return "\n".join(lines) + "\n", labels


def csv_expect(name, out, train, test):
    """The loader's rules: integer labels cover 1…max of the training file, test labels ≤ max."""
    if not train:
        return name, out, "refuse", None
    top = max(train)
    if any(c not in train for c in range(1, top + 1)) or any(t > top for t in test):
        return name, out, "refuse", None
    return name, out, "hist", (train, test)


def csv_mutation(r, files, labels):
    name = r.choice(sorted(files))
    text = files[name].decode()
    lines = text.split("\n")
    train, test = list(labels["train.csv"]), list(labels["test.csv"])
    mine = train if name == "train.csv" else test
    kind = r.choice(["label", "label", "feature", "header", "fields", "truncate", "extend", "flips"])
    if kind == "label":
        k = r.randrange(len(mine))
        cells = lines[k + 1].split(",")
        bad = r.choice(["1.0", "NaN", "10000", "\0", "", "-1", "cat", "2.5", "1e3", "9999", " ", "0x1"])
        good = str((mine[k] + r.randint(1, 2)) % 3)
        v = r.choice([bad, good])
        cells[-1] = v
        lines[k + 1] = ",".join(cells)
        out = "\n".join(lines).encode()
        if v != good:
            return name, out, "refuse", None
        mine[k] = int(v)
        return csv_expect(name, out, train, test)
    if kind == "feature":
        k = r.randrange(len(mine))
        cells = lines[k + 1].split(",")
        j = r.randrange(4)
        v = r.choice(["x", "nan", "inf", "", "1e999", "--1", str(r.uniform(-5, 5)), "7"])
        cells[j] = v
        lines[k + 1] = ",".join(cells)
        out = "\n".join(lines).encode()
        try:
            ok = float(v) == float(v) and abs(float(v)) != float("inf")
        except ValueError:
            ok = False
        return name, out, "same" if ok else "refuse", None
    if kind == "header":
        cells = lines[0].split(",")
        j = r.randrange(len(cells))
        cells[j] = r.choice(["lable", "x y", "", "f9", "label"] if j == 4 else ["", "f9", "label", "F1"])
        lines[0] = ",".join(cells)
        # A renamed label column is missing; a renamed feature differs from the other file's.
        return name, "\n".join(lines).encode(), "refuse" if cells[j] != ["f1", "f2", "f3", "f4", "label"][j] else "same", None
    if kind == "fields":
        k = r.randrange(len(mine))
        cells = lines[k + 1].split(",")
        cells = cells[:-2] + cells[-1:] if r.random() < 0.5 else cells[:2] + ["1.5"] + cells[2:]
        lines[k + 1] = ",".join(cells)
        return name, "\n".join(lines).encode(), "refuse", None
    if kind == "truncate":
        b = text.encode()
        cut = r.randrange(len(b))
        kept = b[:cut].decode()
        ends = [len("\n".join(lines[:i + 1])) for i in range(len(lines))]   # end of line i (before its newline)
        boundary = [i for i, e in enumerate(ends) if e == cut or e + 1 == cut]
        if not boundary:
            return name, b[:cut], "refuse", None       # a partial line: a missing field or label
        rows = boundary[0]                              # data rows kept (line 0 is the header)
        if rows < 0:
            return name, b[:cut], "refuse", None
        mine[:] = mine[:rows]
        return csv_expect(name, b[:cut], train, test)
    if kind == "extend":
        return name, text.encode() + r.choice([b"xyz", b"1,2,3", b"\xff\xfe", b"1,2,3,4,5,6", b"\0"]), "refuse", None
    b = bytearray(text.encode())
    for _ in range(r.randint(1, 3)):
        i = r.randrange(len(b))
        b[i] ^= 1 << r.randrange(8)
    return name, bytes(b), "any", None


# .qlm: parse the v2 layout to know where its fields are.

def qlm_fields(b):
    """Offsets of structural fields: [(offset, size, what)] and float payload ranges."""
    fields = [(0, 4, "magic"), (4, 4, "version"), (8, 8, "length"), (16, 4, "header length")]
    h = struct.unpack_from("<I", b, 16)[0]
    o = 20 + h
    fields.append((o, 4, "record count"))
    count = struct.unpack_from("<I", b, o)[0]
    o += 4
    floats = []
    for _ in range(count):
        n = struct.unpack_from("<H", b, o)[0]
        fields.append((o, 2, "name length"))
        fields.append((o + 2, n, "name"))
        name = b[o + 2:o + 2 + n].decode()
        o += 2 + n
        rank = b[o]
        fields.append((o, 1, "rank"))
        dims = struct.unpack_from(f"<{rank}I", b, o + 1)
        for k in range(rank):
            fields.append((o + 1 + 4 * k, 4, "dimension"))
        o += 1 + 4 * rank
        elements = 1
        for d in dims:
            elements *= d
        kind = b[o]
        fields.append((o, 1, "payload kind"))
        o += 1
        if kind == 0:
            floats.append((o, 4 * elements, name))
            o += 4 * elements
        else:
            k = b[o + 1]
            fields.append((o, 1, "scheme"))
            fields.append((o + 1, 1, "code bits"))
            s = struct.unpack_from("<I", b, o + 2)[0]
            fields.append((o + 2, 4, "scale count"))
            o += 6 + 4 * s + (elements * k + 7) // 8
    return fields, floats


def fix_crc(b):
    b = bytearray(b)
    struct.pack_into("<Q", b, 8, len(b))
    struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])) & 0xFFFFFFFF)
    return bytes(b)


def with_header(b, header):
    h = struct.unpack_from("<I", b, 16)[0]
    return fix_crc(b[:16] + struct.pack("<I", len(header)) + header + b[20 + h:])


def qlm_mutation(r, base):
    b = bytearray(base)
    kind = r.choice(["flips", "truncate", "extend", "field", "field", "json", "json", "value"])
    if kind == "flips":
        for _ in range(r.randint(1, 3)):
            i = r.randrange(len(b))
            b[i] ^= 1 << r.randrange(8)
        return bytes(b), "refuse" if bytes(b) != base else "load"
    if kind == "truncate":
        return bytes(b[:r.randrange(len(b))]), "refuse"
    if kind == "extend":
        return bytes(b) + bytes(r.randrange(256) for _ in range(r.randint(1, 16))), "refuse"
    fields, floats = qlm_fields(base)
    if kind == "field":
        off, size, what = r.choice(fields)
        if size == 0:
            return bytes(b[:-1]), "refuse"
        i = off + r.randrange(size)
        old = b[i]
        b[i] = (b[i] + r.randint(1, 255)) % 256
        if what == "magic" or what == "length":
            return bytes(b), "refuse"          # checked before the CRC
        out = fix_crc(bytes(b))
        return out, "refuse"
    if kind == "value":
        off, size, name = r.choice(floats)
        i = off + 4 * r.randrange(size // 4)
        v = struct.unpack_from("<f", b, i)[0]
        struct.pack_into("<f", b, i, v * r.choice([0.5, 2.0, -1.0]) + 0.01)
        if name.endswith("running_var") or name.endswith(".clip"):
            return fix_crc(bytes(b)), "any"     # a negative variance or clip may be refused
        return fix_crc(bytes(b)), "load"
    header = json.loads(base[20:20 + struct.unpack_from("<I", base, 16)[0]])
    edit = r.choice(["precision", "spec", "inputShape", "format", "layername", "drop", "norm", "normlen", "garbage", "activation"])
    expect = "refuse"
    if edit == "precision":
        l = r.choice(header["layers"])
        w, a = re.match(r"w(\w+)a(\w+)", l["precision"]).groups()
        neww = r.choice([x for x in ["1", "t", "2", "3", "4", "5", "8", "16", "32", "0", "99", "x"] if x != w])
        l["precision"] = f"w{neww}a{a}"
    elif edit == "activation":
        l = r.choice(header["layers"])
        w, a = re.match(r"w(\w+)a(\w+)", l["precision"]).groups()
        l["precision"] = f"w{w}a{r.choice(['0', '99', 'x', 't'])}"
    elif edit == "spec":
        header["spec"] = re.sub(r"dense (\d+)", lambda m: f"dense {int(m.group(1)) + r.choice([1, 7, 1000, 800000000])}", header["spec"], count=1)
    elif edit == "inputShape":
        header["inputShape"] = r.choice([[5], [2, 2], [], [0], [-4], [4, 1, 1], [1 << 40]])
    elif edit == "format":
        header["format"] = "quantlab modle"
    elif edit == "layername":
        header["layers"][0]["name"] = "dense9"
    elif edit == "drop":
        del header[r.choice(["spec", "inputShape", "layers", "options", "normalization", "format"])]
    elif edit == "norm":
        n = header["normalization"]
        k = r.randrange(len(n["std"]))
        v = r.choice([0, -1, 1e39, "x", None, 0.5])
        which = r.choice(["std", "mean"])
        n[which][k] = v
        valid = isinstance(v, (int, float)) and abs(v) < 1e38 and (which == "mean" or v > 0)
        expect = "load" if valid else "refuse"
    elif edit == "normlen":
        header["normalization"]["mean"].append(0.5)
    else:
        raw = bytearray(json.dumps(header).encode())
        raw[r.randrange(len(raw))] = ord(r.choice("{}[]\",:0x "))
        return with_header(bytes(base), bytes(raw)), "any"
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return with_header(bytes(base), text), expect


# NumPy: .npy files in a directory and .npz archives, written by numpy itself.

def npy_bytes(arr):
    import io
    import numpy as np
    f = io.BytesIO()
    np.save(f, arr)
    return f.getvalue()


def npy_dataset(r):
    import numpy as np
    rs = np.random.RandomState(r.randrange(1 << 30))
    train = [i % 5 for i in range(12)]
    test = [(i * 2) % 5 for i in range(6)]
    arrays = {"x_train": rs.randint(0, 256, (12, 3, 8, 8)).astype(np.uint8), "y_train": np.array(train, np.int64),
              "x_test": rs.randint(0, 256, (6, 3, 8, 8)).astype(np.uint8), "y_test": np.array(test, np.int64)}
    return arrays, train, test


def npy_labels_expect(name, data, train, test):
    """The loader's rules: labels 0…9999, every class 1…max in the training labels."""
    labels = train + test
    if any(l < 0 or l >= 10000 for l in labels):
        return name, data, "refuse", None
    top = max(labels)
    if any(c not in train for c in range(1, top)):
        return name, data, "refuse", None
    return name, data, "hist", (train, test, top + 1)


def npy_mutation(r, files, train0, test0):
    """files: name.npy → bytes; header 128 bytes (NumPy's version 1.0 header for these)."""
    name = r.choice(sorted(files))
    b = bytearray(files[name])
    train, test = list(train0), list(test0)
    is_labels = name.startswith("y_")
    kind = r.choice(["header", "data", "data", "truncate", "extend", "flips"])
    if kind == "header":
        i = r.randrange(128)
        b[i] ^= 1 << r.randrange(8)
        return name, bytes(b), "any", None
    if kind == "truncate":
        return name, bytes(b[:r.randrange(len(b))]), "refuse", None
    if kind == "extend":
        return name, bytes(b) + bytes(r.randrange(256) for _ in range(r.randint(1, 20))), "refuse", None
    if kind == "data" and not is_labels:
        i = r.randrange(128, len(b))
        b[i] = (b[i] + r.randint(1, 255)) % 256
        return name, bytes(b), "same", None
    if kind == "data":
        k = r.randrange((len(b) - 128) // 8)
        v = r.choice([r.randrange(5), r.randrange(5, 12), 20000, -1, 1 << 40])
        struct.pack_into("<q", b, 128 + 8 * k, v)
        (train if name == "y_train.npy" else test)[k] = v
        return npy_labels_expect(name, bytes(b), train, test)
    for _ in range(r.randint(1, 3)):
        i = r.randrange(len(b))
        b[i] ^= 1 << r.randrange(8)
    if any(i < 128 for i in range(len(b)) if b[i] != files[name][i]):
        return name, bytes(b), "any", None
    if not is_labels:
        return name, bytes(b), "same", None
    vals = list(struct.unpack_from(f"<{(len(b) - 128) // 8}q", b, 128))
    if name == "y_train.npy":
        train = vals
    else:
        test = vals
    return npy_labels_expect(name, bytes(b), train, test)


def npz_mutation(r, arrays, train0, test0, compressed):
    import io
    import numpy as np
    save = np.savez_compressed if compressed else np.savez

    def archive(a):
        f = io.BytesIO()
        save(f, **a)
        return f.getvalue()
    base = archive(arrays)
    kind = r.choice(["labels", "flips", "flips", "truncate", "extend"])
    if kind == "labels":
        a = dict(arrays)
        which = r.choice(["y_train", "y_test"])
        y = a[which].copy()
        k = r.randrange(len(y))
        y[k] = r.choice([r.randrange(5), r.randrange(5, 12), 20000, -1])
        a[which] = y
        train, test = list(a["y_train"]), list(a["y_test"])
        return npy_labels_expect("data.npz", archive(a), [int(v) for v in train], [int(v) for v in test])
    b = bytearray(base)
    if kind == "truncate":
        return "data.npz", bytes(b[:r.randrange(len(b))]), "refuse", None
    if kind == "extend":
        return "data.npz", bytes(b) + bytes(r.randrange(256) for _ in range(r.randint(1, 20))), "any", None
    for _ in range(r.randint(1, 3)):
        i = r.randrange(len(b))
        b[i] ^= 1 << r.randrange(8)
    return "data.npz", bytes(b), "any", None


# ----------------------------------------------------------------------------- command lines

WORDS = ["data", "load", "sample", "info", "show", "model", "define", "preset", "list", "precision", "config",
         "add", "grid", "random", "remove", "cost", "trial", "run", "final", "set", "search", "halving",
         "hyperband", "correlate", "pareto", "plot", "curves", "scatter", "quantizer", "levels", "histogram",
         "export", "evaluate", "sql", "store", "open", "seed", "threads", "source", "session", "echo", "help",
         "all", "m", "a", "b", "net", "csv", "toy.csv", "w4a4", "w1a1", "wta2", "w32a32", "w3a2", "w0a9", "=", "|",
         "conv", "dense", "relu", "bn", "maxpool", "avgpool", "flatten", "dropout", "htanh", "k3", "s2", "p1",
         "conv*", "first=w8a8", "last=w8a8", "out.qlm", "a.qlm", "svg=p.svg", "csv=t.csv", "#", "\\", "'"]
OPTIONS = ["epochs", "batch", "lr", "val", "label", "labels", "split", "eta", "max", "min", "n", "w", "a", "layers",
           "metric", "epoch", "cost", "limit", "objective", "final", "svg", "prefix", "bins", "perchannel", "pact",
           "binary", "optimizer", "schedule", "augment", "momentum", "wd", "budget", "on", "input", "config", "layer",
           "size", "bootstrap", "seeds", "train", "images", "iterations", "population", "generations", "initial",
           "rounds", "proposals", "k", "threshold", "noise", "channel", "choices"]
NUMBERS = ["0", "1", "2", "3", "-1", "16", "0.5", "1e308", "-0", "nan", "inf", "9223372036854775807",
           "9223372036854775808", "99999999999999999999", "0x10", "1.", ".5", "10%", "0.1%", "100%", "101%", "1e-9",
           # numbers a command could allocate from
           "1e12", "10^9", "1000000000", "100000x100000", "4000x4000", "200x150", "1e400", "1000001"]
ODD = ["\"", "\"\"", "\"a b\"", "é", "日本", "🙂", "\u202e", "\t", "x" * 3000, "=" * 5, "a=b=c", "%", "$HOME", "~",
       "../x", "*", "?", "\\n", "'", "`", ";", "&&", "-", "--", "--help"]
VALID = [
    "data sample 30", "data sample 50%", "data info", "data show 3", "data show 3 split=test", "data sample all",
    "model define m = dense 8 | relu | dense 3", "model define d = dense 4 | bn | relu | dropout 0.5 | dense 3",
    "model show m", "model list", "precision m dense1=w4a4", "precision m first=w8a8 last=wta8",
    "config add a m w4a4", "config add b m w2a2 lr=0.01", "config grid m w=1,t,8 a=4,32 prefix=g",
    "config random m n=2", "config list", "config show a", "config remove b", "cost a", "cost all",
    "trial run all epochs=1 batch=16", "trial final a epochs=1", "trial show", "trial set batch=32",
    "search halving all max=2", "search hyperband all max=2", "correlate", "correlate metric=val_loss",
    "pareto", "plot curves", "plot scatter epoch=1", "plot pareto cost=bops", "quantizer levels w4a32",
    "quantizer histogram wta32 config=a", "sql \"select count(*) from runs\"", "export a out.qlm",
    "evaluate out.qlm", "evaluate out.qlm split=validation", "help", "help trial", "help data sample", "seed 7",
    "threads 1", "session", "echo hello", "store export runs csv=runs.csv", "quantizer levels w3a2 perchannel=yes",
]


# Bytes no typed text holds: NUL, invalid UTF-8 (a lone lead or continuation byte,
# 0xFF), a lone CR.
RAW = [b"\x00", b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\r"]


def damaged_line(r, line):
    """`line` as bytes, sometimes with RAW bytes put in or made 1 MB long."""
    b = line.encode()
    k = r.random()
    if k < 0.08:
        for _ in range(r.randint(1, 3)):
            i = r.randrange(len(b) + 1)
            b = b[:i] + r.choice(RAW) + b[i:]
    elif k < 0.083:     # 0.3%: about 30 lines of 10,000, 0.25 s each
        b += b" " + b"y" * (1 << 20)
    return b


# A session from someone else: each command that writes or reads a file, aimed outside
# the replay folder (an absolute path, `..`, `~`, a symbolic link to outside).
FOREIGN_COMMANDS = ["plot curves svg={p}", "plot curves png={p}", "pareto pdf={p}", "plot scatter svg={p}",
                    "compare file={p}", "compare format=csv file={p}", "export a {p}", "store export runs csv={p}",
                    "store open {p}", "config list csv={p}", "correlate csv={p}", "sql \"select 1\" csv={p}",
                    "session save {p}", "source {p}", "quantizer histogram w4a4 config=a svg={p}",
                    "plot panels curves,pareto svg={p}",
                    # reads by a named path (replay --allow-reads-anywhere lifts the rule)
                    "data load csv {p} label=label", "data load npy {p}", "data load mnist {p}", "evaluate {p}",
                    "trial resume {p}"]
FOREIGN_PATHS = ["{outside}/f.out", "../outside/f.out", "link/f.out", "link", "~/f.out", "sub/../../outside/f.out",
                 "./../outside/f.out", "sub/../link/f.out", "linkfile", "\"../outside/f out\"", "link/../../outside/f.out"]


def foreign_line(r, outside):
    return r.choice(FOREIGN_COMMANDS).format(p=r.choice(FOREIGN_PATHS).format(outside=outside))


def random_line(r):
    k = r.random()
    if k < 0.35:
        line = r.choice(VALID)
    elif k < 0.55:
        parts = [r.choice(WORDS) for _ in range(r.randint(1, 6))]
        for _ in range(r.randint(0, 3)):
            parts.insert(r.randrange(len(parts) + 1), f"{r.choice(OPTIONS)}={r.choice(NUMBERS + ODD + WORDS)}")
        line = " ".join(parts)
    else:
        line = r.choice(VALID)
        for _ in range(r.randint(1, 4)):
            op = r.randrange(7)
            if op == 6 and re.search(r"\d+", line):
                spans = [m.span() for m in re.finditer(r"\d+", line)]
                a, b = r.choice(spans)
                line = line[:a] + r.choice(NUMBERS + ["65536", "4000000000", "1048576", "99999"]) + line[b:]
                continue
            words = line.split(" ")
            i = r.randrange(len(words))
            if op == 0:
                words[i] = r.choice(NUMBERS)
            elif op == 1:
                words[i] = r.choice(ODD)
            elif op == 2:
                words.insert(i, f"{r.choice(OPTIONS)}={r.choice(NUMBERS + ODD)}")
            elif op == 3 and len(words) > 1:
                del words[i]
            elif op == 4:
                w = words[i]
                j = r.randrange(len(w) + 1)
                words[i] = w[:j] + r.choice("\"'=|#%é\\ \t0") + w[j:]
            else:
                words[i] = words[i].upper()
            line = " ".join(words)
    # Keep the tiny dataset: a bare `data load` reads Fashion-MNIST, and absolute paths
    # could write outside the folder.
    if re.search(r"\bdata\s+load\b", line) and "toy.csv" not in line:
        line = line.replace("load", "sample", 1)
    line = line.replace("/", "_")
    return line.replace("\n", " ").replace("\r", " ")


# ----------------------------------------------------------------------------- main

STRUCTURAL = ["idx-s", "idx.gz-s", "cifar10-s", "cifar100-s", "svhn-s", "npy-s", "npz-s", "npz.z-s", "csv-s", "qlm-s"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--mutations", type=int, default=300)
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--structural", default="30",
                    help="structural mutants per format (fuzz_structure.py): a count sampled by the seed, or 'all'")
    ap.add_argument("--memory-gb", type=float, default=4)
    args = ap.parse_args()
    global MEMORY
    MEMORY = int(args.memory_gb * (1 << 30))
    binary = os.path.abspath(args.bin)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    failures, passed = [], 0
    r0 = random.Random(args.seed)

    # The tiny CSV dataset everything else uses.
    toy_text, toy_labels = csv_text(60, random.Random(args.seed))
    cases = []          # (format, case dir, cmd, expectation, expected summary or None, note)

    def dataset_cases(fmt, files, load, expect_fn, mutate, count=args.mutations):
        base = os.path.join(work, fmt, "original")
        os.makedirs(os.path.join(base, "base"), exist_ok=True)
        for n, data in files.items():
            write(os.path.join(base, "base", n), data)
        write(os.path.join(base, "load.qlab"), (load.format(dir="base") + " val=0\ndata info\ndata sample all\n").encode())
        cases.append((fmt, base, [binary, "run", "load.qlab"], "valid", None, "the valid files"))
        r = random.Random(f"{args.seed}-{fmt}")
        for k in range(count):
            name, data, expectation, labels, *kind = mutate(r)
            d = os.path.join(work, fmt, f"m{k:03d}")
            os.makedirs(os.path.join(d, "base"), exist_ok=True)
            for n, orig in files.items():
                if n != name:
                    write(os.path.join(d, "base", n), orig)
            write(os.path.join(d, "base", name), data)
            shutil.copy(os.path.join(base, "load.qlab"), d)
            cases.append((fmt, d, [binary, "run", "load.qlab"], expectation,
                          expect_fn(labels) if labels else None, kind[0] if kind else f"{name}"))

    def chosen(fmt, mutants):
        """All of a structural list, or a sample of --structural of them (the seed picks)."""
        if args.structural == "all":
            return mutants
        return random.Random(f"{args.seed}-{fmt}-pick").sample(mutants, min(int(args.structural), len(mutants)))

    def structural_cases(fmt, files, load, expect_fn, mutants):
        """dataset_cases over a fixed list (fuzz_structure's mutants of `files`)."""
        mutants = chosen(fmt, mutants)
        it = iter(mutants)
        dataset_cases(fmt, files, load, expect_fn, lambda r: next(it), count=len(mutants))

    fmts = args.only.split(",") if args.only else ["idx", "idx.gz", "cifar10", "svhn", "svhn.z", "csv", "npy", "npz", "npz.z",
                                                   "qlm", "qlab", "foreign", "lines"] + STRUCTURAL
    r_idx = random.Random(f"{args.seed}-files")
    if "idx" in fmts:
        files, labels, shape = idx_files(r_idx)
        dataset_cases("idx", files, "data load mnist {dir}",
                      lambda l: expected_summary(10, shape, l[0], l[1]),
                      lambda r: idx_mutation(r, files, labels, shape))
    if "idx.gz" in fmts:
        files, labels, shape = idx_files(r_idx, n_train=24, n_test=10, rows=4, cols=7)
        gz = {n + ".gz": gzip.compress(d, mtime=0) for n, d in files.items()}

        def mutate_gz(r):
            if r.random() < 0.5:
                name, data, expectation, lab = idx_mutation(r, files, labels, shape)
                return name + ".gz", gzip.compress(data, mtime=0), expectation, lab
            name = r.choice(sorted(gz))
            b = bytearray(gz[name])
            kind = r.choice(["flips", "truncate", "extend"])
            if kind == "truncate":
                return name, bytes(b[:r.randrange(len(b))]), "refuse", None
            if kind == "extend":
                return name, bytes(b) + bytes(r.randrange(256) for _ in range(r.randint(1, 16))), "any", None
            for _ in range(r.randint(1, 3)):
                i = r.randrange(len(b))
                b[i] ^= 1 << r.randrange(8)
            return name, bytes(b), "any", None
        dataset_cases("idx.gz", gz, "data load fashion-mnist {dir}",
                      lambda l: expected_summary(10, shape, l[0], l[1]), mutate_gz)
    if "cifar10" in fmts:
        files, train, test = cifar_files(r_idx)
        dataset_cases("cifar10", files, "data load cifar10 {dir}",
                      lambda l: expected_summary(10, "3×32×32", l[0], l[1]),
                      lambda r: cifar_mutation(r, files, train, test))
    for fmt, compressed in (("svhn", False), ("svhn.z", True)):
        if fmt not in fmts:
            continue
        labels = {"train_32x32.mat": [1, 10, 5, 3], "test_32x32.mat": [10, 2, 7]}
        files = {n: svhn_file(r_idx, l, compressed) for n, l in labels.items()}
        dataset_cases(fmt, files, "data load svhn {dir}",
                      lambda l: expected_summary(10, "3×32×32", l[0], l[1]),
                      lambda r, files=files, labels=labels, c=compressed: svhn_mutation(r, files, labels, c))
    if "csv" in fmts:
        rc = random.Random(f"{args.seed}-csv")
        tr, trl = csv_text(30, rc)
        te, tel = csv_text(9, rc, first_label=1)
        files = {"train.csv": tr.encode(), "test.csv": te.encode()}
        labels = {"train.csv": trl, "test.csv": tel}
        dataset_cases("csv", files, "data load csv {dir} label=label",
                      lambda l: expected_summary(3, "4", l[0], l[1]),
                      lambda r: csv_mutation(r, files, labels))

    def npy_expect(l):
        train, test, classes = l if len(l) == 3 else (l[0], l[1], 5)
        return expected_summary(classes, "3×8×8", train, test)
    if "npy" in fmts:
        arrays, train, test = npy_dataset(r_idx)
        files = {n + ".npy": npy_bytes(a) for n, a in arrays.items()}
        dataset_cases("npy", files, "data load npy {dir}", npy_expect, lambda r: npy_mutation(r, files, train, test))
    for fmt, compressed in (("npz", False), ("npz.z", True)):
        if fmt not in fmts:
            continue
        arrays, train, test = npy_dataset(r_idx)
        import io
        import numpy as np
        f = io.BytesIO()
        (np.savez_compressed if compressed else np.savez)(f, **arrays)
        dataset_cases(fmt, {"data.npz": f.getvalue()}, "data load npy {dir}/data.npz", npy_expect,
                      lambda r, a=arrays, t=train, e=test, c=compressed: npz_mutation(r, a, t, e, c))

    # Structural mutants (fuzz_structure.py), from their own valid files.
    r_s = random.Random(f"{args.seed}-structural")
    for fmt, gz in (("idx-s", False), ("idx.gz-s", True)):
        if fmt in fmts:
            files, labels, shape = idx_files(r_s)
            base = {n + ".gz": gzip.compress(d, mtime=0) for n, d in files.items()} if gz else files
            structural_cases(fmt, base, "data load mnist {dir}", None, fs.idx_mutants(files, gz))
    if "cifar10-s" in fmts:
        files, _, _ = cifar_files(r_s)
        structural_cases("cifar10-s", files, "data load cifar10 {dir}", None, fs.cifar_mutants(files, 1, [10]))
    if "cifar100-s" in fmts:
        files = fs.cifar100_files(r_s)
        structural_cases("cifar100-s", files, "data load cifar100 {dir}", None, fs.cifar_mutants(files, 2, [20, 100]))
    if "svhn-s" in fmts:
        labels = {"train_32x32.mat": [1, 10, 5, 3, 2, 9], "test_32x32.mat": [10, 2, 7]}
        files = {n: svhn_file(r_s, l, False) for n, l in labels.items()}
        structural_cases("svhn-s", files, "data load svhn {dir}", None, fs.svhn_mutants(r_s, labels))
    if "npy-s" in fmts:
        arrays, _, _ = npy_dataset(r_s)
        structural_cases("npy-s", {n + ".npy": npy_bytes(a) for n, a in arrays.items()}, "data load npy {dir}", None,
                         fs.npy_mutants(arrays))
    for fmt, compressed in (("npz-s", False), ("npz.z-s", True)):
        if fmt in fmts:
            arrays, _, _ = npy_dataset(r_s)
            structural_cases(fmt, {"data.npz": fs.npz_bytes(arrays, compressed)}, "data load npy {dir}/data.npz", None,
                             fs.npz_mutants(arrays, compressed))
    if "csv-s" in fmts:
        tr, _ = csv_text(30, r_s)
        te, _ = csv_text(9, r_s, first_label=1)
        files = {"train.csv": tr.encode(), "test.csv": te.encode()}
        structural_cases("csv-s", files, "data load csv {dir} label=label", None, fs.csv_mutants(files))

    def setup_toy(d):
        os.makedirs(d, exist_ok=True)
        write(os.path.join(d, "toy.csv"), toy_text.encode())

    if "qlm" in fmts or "qlm-s" in fmts:
        d = os.path.join(work, "qlm", "base")
        setup_toy(d)
        write(os.path.join(d, "make.qlab"), b"data load csv toy.csv label=label\nmodel define m = dense 8 | relu | dense 5 | relu | dense 3\n"
              b"precision m dense1=w3a4 dense2=wta2 dense3=w1a32\nconfig add a m\ntrial final a epochs=1 batch=16\nexport a base.qlm\n")
        st, out, err, _ = run([binary, "run", "make.qlab"], d)
        if st != 0:
            failures.append(f"qlm: could not make the base model: {st} {err.strip()[:300]}")
        else:
            base = open(os.path.join(d, "base.qlm"), "rb").read()
            write(os.path.join(d, "eval.qlab"), b"data load csv toy.csv label=label\nevaluate m.qlm\n")
            shutil.copy(os.path.join(d, "base.qlm"), os.path.join(d, "m.qlm"))
            cases.append(("qlm", d, [binary, "run", "eval.qlab"], "load", None, "the valid model"))
            r = random.Random(f"{args.seed}-qlm")
            mutants = [qlm_mutation(r, base) + ("m.qlm",) for _ in range(args.mutations)] if "qlm" in fmts else []
            structural = chosen("qlm-s", fs.qlm_structural(base, qlm_fields(base)[0], fix_crc, with_header)) if "qlm-s" in fmts else []
            for k, (data, expectation, kind) in enumerate(mutants + structural):
                fmt = "qlm" if k < len(mutants) else "qlm-s"
                md = os.path.join(work, fmt, f"m{k:03d}")
                setup_toy(md)
                write(os.path.join(md, "m.qlm"), data)
                shutil.copy(os.path.join(d, "eval.qlab"), md)
                cases.append((fmt, md, [binary, "run", "eval.qlab"], expectation, None, kind))
    if "qlab" in fmts:
        d = os.path.join(work, "qlab", "base")
        setup_toy(d)
        script = ("seed 3\ndata load csv toy.csv label=label\nmodel define m = dense 6 | relu | dense 3\n"
                  "config add a m w4a4\nconfig add b m w2a32\ncost all\ntrial run all epochs=1 batch=16\ncorrelate\n")
        st, out, err, _ = run([binary, "--session", "base"], d, stdin=script.encode())
        path = os.path.join(d, "sessions", "base.qlab")
        if st != 0 or not os.path.exists(path):
            failures.append(f"qlab: could not record the base session: {st} {err.strip()[:300]}")
        else:
            base = open(path, "rb").read()
            cases.append(("qlab", d, [binary, "replay", "sessions/base.qlab", "--verify"], "valid-replay", None, "the valid session"))
            r = random.Random(f"{args.seed}-qlab")
            lines = base.decode().split("\n")
            results = [i for i, l in enumerate(lines) if l.startswith("#=") and re.search(r"\d", l)]
            for k in range(args.mutations):
                kind = r.choice(["result", "result", "flips", "truncate", "extend", "line"])
                expectation = "any-replay"
                ls = list(lines)
                if kind == "result":
                    i = r.choice(results)
                    digits = [m.start() for m in re.finditer(r"\d", ls[i])]
                    j = r.choice(digits)
                    ls[i] = ls[i][:j] + str((int(ls[i][j]) + r.randint(1, 9)) % 10) + ls[i][j + 1:]
                    data = "\n".join(ls).encode()
                    expectation = "verify"
                elif kind == "line":
                    i = r.randrange(len(ls))
                    ls[i] = random_line(r)
                    data = "\n".join(ls).encode()
                elif kind == "truncate":
                    data = base[:r.randrange(len(base))]
                elif kind == "extend":
                    data = base + r.choice([b"trial run all epochs=1\n", b"#= nothing\n", b"\xff\xfe\n", b"data sample 2\n"])
                else:
                    b = bytearray(base)
                    for _ in range(r.randint(1, 3)):
                        i = r.randrange(len(b))
                        b[i] ^= 1 << r.randrange(8)
                    data = bytes(b)
                md = os.path.join(work, "qlab", f"m{k:03d}")
                setup_toy(md)
                os.makedirs(os.path.join(md, "sessions"), exist_ok=True)
                write(os.path.join(md, "sessions", "base.qlab"), data)
                cases.append(("qlab", md, [binary, "replay", "sessions/base.qlab", "--verify"], expectation, None, kind))

    if "foreign" in fmts:
        # Replayed without --allow-writes-anywhere, no command may create or change a file
        # outside the case's folder: `outside` (HOME too) must stay as it was.
        outside = os.path.join(work, "foreign", "outside")
        os.makedirs(outside, exist_ok=True)
        write(os.path.join(outside, "victim.txt"), b"keep\n")
        r = random.Random(f"{args.seed}-foreign")
        setup = ("data load csv toy.csv label=label\nmodel define m = dense 6 | relu | dense 3\nconfig add a m w4a4\n"
                 "config add b m w2a32\ntrial run all epochs=1 batch=16\ntrial final all epochs=1 batch=16\n")
        for k in range(min(args.mutations, 100)):    # ~0.15 s each: 100 draws of 21 commands × 11 paths
            md = os.path.join(work, "foreign", f"m{k:03d}")
            setup_toy(md)
            os.makedirs(os.path.join(md, "sub"), exist_ok=True)
            os.symlink(outside, os.path.join(md, "link"))
            os.symlink(os.path.join(outside, "victim.txt"), os.path.join(md, "linkfile"))
            write(os.path.join(md, "s.qlab"), (setup + foreign_line(r, outside) + "\n").encode())
            cases.append(("foreign", md, [binary, "replay", "s.qlab"], "contained", None, "s.qlab"))

    # The originals' summaries, for "same" and "any".
    originals = {}

    def check(case):
        fmt, d, cmd, expectation, expected, note = case
        st, out, err, secs = run(cmd, d, home=os.path.join(work, "foreign", "outside") if fmt == "foreign" else None)
        where = f"{fmt} {os.path.relpath(d, work)} ({note}, expects {expectation})"
        if st == "hang":
            return f"{where}: hang (over {TIMEOUT} s)"
        if isinstance(st, str):
            return f"{where}: crash ({st}): {err.strip()[-300:]}"
        if expectation in ("valid", "valid-replay"):
            return None if st == 0 else f"{where}: the valid input failed: {err.strip()[:300]}"
        if expectation == "any-replay":
            return None
        if expectation == "nocrash":
            return None if st == 0 or "expected" in err else f"{where}: failed without an error message: {err.strip()[:300]}"
        if expectation == "contained":
            line = open(os.path.join(d, "s.qlab")).read().strip().split("\n")[-1]
            if st == 1 and "during replay" in err:
                return None
            if st == 0 and line.startswith("session save") and "not recording; nothing to save" in out:
                return None     # replay records nothing, so there is nothing to move
            return f"{where}: '{line}' was not refused: {st} {err.strip()[:300]}"
        if expectation == "verify":
            return None if st == 1 else f"{where}: a changed result line replayed with --verify and passed"
        if expectation == "refuse":
            if st == 0:
                return f"{where}: silent wrong load (loaded although it must be refused)"
            if fmt.endswith("-s"):
                return None if clear_error(err) else f"{where}: not one clear error line (file, expected, found): {err.strip()[:400]}"
            return None if "error" in err.lower() or "expected" in err else f"{where}: failed without an error message"
        if expectation == "load":
            return None if st == 0 else f"{where}: a valid change was refused: {err.strip()[:300]}"
        if st == 1:
            return None if expectation == "any" else f"{where}: a valid file was refused: {err.strip()[:300]}"
        s = summary(out)
        if fmt.startswith("qlm"):
            return None
        orig = originals[fmt]
        if expectation == "same" and s != orig:
            return f"{where}: loaded different data: {s} vs {orig}"
        if expectation == "any" and structure(s) != structure(orig):
            return f"{where}: silent wrong load: {structure(s)} vs {structure(orig)}"
        if expectation == "hist" and s != expected:
            return f"{where}: silent wrong load: {s} vs expected {expected}"
        return None

    # Valid bases first (their summaries are the reference).
    for c in [c for c in cases if c[3] in ("valid", "valid-replay") or (c[0] == "qlm" and c[5] == "the valid model")]:
        st, out, err, _ = run(c[2], c[1])
        if st != 0:
            failures.append(f"{c[0]}: the valid input failed ({st}): {err.strip()[:300]}")
        originals[c[0]] = summary(out)
    todo = [c for c in cases if c[3] not in ("valid", "valid-replay") and not (c[0] == "qlm" and c[5] == "the valid model")]
    passed += len(cases) - len(todo) - len(failures)

    # Command lines, in chunks piped into fresh shells.
    line_chunks = []
    if "lines" in fmts and args.lines > 0:
        rl = random.Random(f"{args.seed}-lines")
        chunk = 200
        for k in range(0, args.lines, chunk):
            d = os.path.join(work, "lines", f"c{k // chunk:03d}")
            setup_toy(d)
            ls = ["data load csv toy.csv label=label", "model define m = dense 8 | relu | dense 3", "config add a m w4a4"]
            raw = [l.encode() for l in ls] + [damaged_line(rl, random_line(rl)) for _ in range(min(chunk, args.lines - k))]
            write(os.path.join(d, "lines.txt"), b"\n".join(raw) + b"\n")
            line_chunks.append((d, min(chunk, args.lines - k)))

    def check_lines(item):
        d, n = item
        with open(os.path.join(d, "lines.txt"), "rb") as f:
            data = f.read()
        st, out, err, secs = run([binary, "--no-record"], d, stdin=data, timeout=TIMEOUT)
        if st == "hang":
            return n, f"lines {os.path.relpath(d, work)}: hang (over {TIMEOUT} s for {n} lines)"
        if st != 0:
            return n, f"lines {os.path.relpath(d, work)}: crash ({st}); last output: {(out + err).strip()[-400:]}"
        return n, None

    t0 = time.time()
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for result in pool.map(check, todo):
            if result:
                failures.append(result)
            else:
                passed += 1
        for n, result in pool.map(check_lines, line_chunks):
            if result:
                failures.append(result)
            else:
                passed += n
    if "foreign" in fmts:
        left = sorted(os.listdir(os.path.join(work, "foreign", "outside")))
        victim = open(os.path.join(work, "foreign", "outside", "victim.txt"), "rb").read()
        if left != ["victim.txt"] or victim != b"keep\n":
            failures.append(f"foreign: replayed sessions wrote outside their folder: {left}, victim.txt {victim[:40]!r}")
    for f in failures[:60]:
        print("FAIL", f)
    counts, kinds = {}, {}
    for c in todo:
        counts[c[0]] = counts.get(c[0], 0) + 1
        if c[0].endswith("-s"):
            kinds[c[5]] = kinds.get(c[5], 0) + 1
    if kinds:
        print("structural kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"cases: {', '.join(f'{k} {v}' for k, v in counts.items())}, command lines {sum(n for _, n in line_chunks)} "
          f"({time.time() - t0:.0f} s)")
    print(f"fuzz: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
