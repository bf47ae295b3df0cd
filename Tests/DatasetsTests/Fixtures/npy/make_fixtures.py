#!/usr/bin/env python3
"""Writes the NumPy fixtures NumPyTests reads, with NumPy itself (run from this folder:
python3 make_fixtures.py; the committed files were made with NumPy 2.4.6).

Every case is a small dataset whose values follow formulas the Swift tests recompute:
    pixel(n, c, h, w) = (n*31 + c*17 + h*7 + w*3) % 256         (uint8 images)
    value(n, c, h, w) = pixel(n, c, h, w) / 8                   (float32 images, exact)
    label(n) = (n*3 + 1) % 5 for train, (n*3 + 2) % 5 for test
with train N=5, test N=3, C=2, H=5, W=6 (MNIST-like cases: C=1 and the channel axis dropped).
"""
import os
import shutil
import numpy as np
from numpy.lib import format as npf

N_TRAIN, N_TEST, C, H, W = 5, 3, 2, 5, 6


def images(n, c=C, dtype=np.uint8):
    i = np.indices((n, c, H, W))
    p = (i[0] * 31 + i[1] * 17 + i[2] * 7 + i[3] * 3) % 256
    return p.astype(np.uint8) if dtype == np.uint8 else (p / 8).astype(dtype)


def labels(n, test, dtype=np.int64):
    return ((np.arange(n) * 3 + (2 if test else 1)) % 5).astype(dtype)


def save(path, arr, version=None, fortran=False):
    if fortran:
        arr = np.asfortranarray(arr)
        assert arr.flags.f_contiguous and (arr.ndim < 2 or min(arr.shape) == 1 or not arr.flags.c_contiguous)
    with open(path, "wb") as f:
        npf.write_array(f, arr, version=version, allow_pickle=False)


def case(name, layout="nchw", dtype=np.uint8, version=None, fortran=False, label_dtype=np.int64,
         column=False, channels=C, mnist=False):
    d = name
    os.makedirs(d, exist_ok=True)
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        x = images(n, channels, dtype)
        if mnist:
            x = x[:, 0]
        elif layout == "nhwc":
            x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        y = labels(n, split == "test", label_dtype)
        if column:
            y = y.reshape(n, 1)
        save(f"{d}/x_{split}.npy", x, version, fortran)
        save(f"{d}/y_{split}.npy", y, version, fortran)


for d in os.listdir("."):
    if os.path.isdir(d):
        shutil.rmtree(d)
for f in os.listdir("."):
    if f.endswith(".npz") or f.endswith(".npy"):
        os.remove(f)

case("u8-nchw-v1")
case("u8-nhwc-v1", layout="nhwc", label_dtype=np.uint8)
case("u8-nchw-fortran", fortran=True, label_dtype=np.int32)
case("u8-nhwc-fortran", layout="nhwc", fortran=True, label_dtype=">i4", column=True)
case("f4-nchw-v2", dtype=np.float32, version=(2, 0), label_dtype=np.int16)
case("f4be-nhwc-v3", layout="nhwc", dtype=">f4", version=(3, 0), label_dtype=np.uint64)
case("u8-mnist-v1", mnist=True, channels=1, label_dtype=np.uint8)
case("u8-ambiguous", layout="nhwc", channels=8)        # N×5×6×8: the channel axis is not clear

# .npz archives: numpy.savez (stored) and numpy.savez_compressed (deflated).
arrays = {"x_train": images(N_TRAIN), "y_train": labels(N_TRAIN, False),
          "x_test": images(N_TEST), "y_test": labels(N_TEST, True)}
np.savez("stored.npz", **arrays)
np.savez_compressed("deflated.npz", **arrays)
np.savez("named.npz", images=np.ascontiguousarray(images(N_TRAIN).transpose(0, 2, 3, 1)), labels=labels(N_TRAIN, False))
np.savez_compressed("mnist.npz", x_train=images(N_TRAIN, 1)[:, 0], y_train=labels(N_TRAIN, False, np.uint8),
                    x_test=images(N_TEST, 1)[:, 0], y_test=labels(N_TEST, True, np.uint8))

# Refused dtypes.
os.makedirs("refused", exist_ok=True)
save("refused/f8.npy", images(2, dtype=np.float64))
save("refused/bool-labels.npy", np.array([True, False]))
save("refused/onehot.npy", np.eye(5, dtype=np.int64))
save("refused/structured.npy", np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]))
print("numpy", np.__version__)
