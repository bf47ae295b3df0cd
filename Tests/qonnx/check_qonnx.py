#!/usr/bin/env python3
"""Checks quantlab's QONNX exports with the tools users deploy with.

For each MODEL.onnx given (written by `export CONFIG MODEL.onnx reference=N`, which also
writes MODEL.reference.npz: the first N test images as raw values (x), labels (y) and
quantlab's logits for them):

  1. onnx.checker.check_model accepts the file (full check, with shape inference);
  2. the input is the raw Fashion-MNIST test pixels (x equals the IDX file's first N images);
  3. qonnx's executor (qonnx.core.onnx_exec.execute_onnx on a ModelWrapper, batch dimension
     set to N) gives the same predictions (argmax) as quantlab for at least AGREE of the
     images, and logits within TOL (max |difference| / max |quantlab logit|) on the images
     whose quantized activations all agree; the largest difference over all images is printed;
  4. for a model without Quant nodes (float), onnxruntime gives the same.

Prints one line per model and `qonnx: N passed, M failed`; exits 1 when M > 0.
"""
import gzip
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx

AGREE = 0.999          # the bar: same prediction for ≥ 99.9% of the images
TOL = 1e-3             # logits, relative to the largest |logit|, where no activation code flipped
IDX = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def set_batch(model, n):
    """Batch dimension 1 → n on every activation tensor (weight tensors carry no batch)."""
    g = model.graph
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.name.endswith(".weight_q"):
            continue
        dims = vi.type.tensor_type.shape.dim
        if len(dims) > 0 and dims[0].dim_value == 1:
            dims[0].dim_value = n


def check(path):
    ref = np.load(path[:-5] + ".reference.npz")
    x, y, logits = ref["x"], ref["y"], ref["logits"]
    n = len(x)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ops = [node.op_type for node in model.graph.node]
    quantized = any(op in ("Quant", "BipolarQuant") for op in ops)
    with gzip.open(IDX) as f:
        pixels = np.frombuffer(f.read(), np.uint8, offset=16)[: n * 784].reshape(n, 1, 28, 28)
    assert np.array_equal(x, pixels.astype(np.float32)), "reference inputs are not the raw test pixels"

    set_batch(model, n)
    w = ModelWrapper(model)
    t0 = time.process_time()
    out = execute_onnx(w, {w.graph.input[0].name: x})[w.graph.output[0].name]
    cpu = time.process_time() - t0
    agree = float(np.mean(out.argmax(1) == logits.argmax(1)))
    scale = float(np.abs(logits).max())
    diff = np.abs(out - logits).max(1) / scale
    # Images whose logits moved by more than TOL had an activation code flip (a value within
    # an ulp of a rounding tie, computed in another order); count them.
    flipped = int(np.sum(diff > TOL))
    line = (f"{path}: {len(ops)} nodes ({ops.count('Quant')} Quant, {ops.count('BipolarQuant')} BipolarQuant), "
            f"qonnx agrees on {agree * 100:.1f}% of {n} (accuracy {np.mean(out.argmax(1) == y) * 100:.1f}% vs quantlab "
            f"{np.mean(logits.argmax(1) == y) * 100:.1f}%), max logit diff {diff.max():.2e} of max |logit| {scale:.2f}, "
            f"{flipped} images over {TOL:g}, {cpu:.1f} CPU s")
    ok = agree >= AGREE and flipped <= (1 - AGREE) * n and (quantized or diff.max() <= TOL)
    if not quantized:
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        rt = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        rt_agree = float(np.mean(rt.argmax(1) == logits.argmax(1)))
        rt_diff = float(np.abs(rt - logits).max() / scale)
        line += f"; onnxruntime agrees on {rt_agree * 100:.1f}%, max logit diff {rt_diff:.2e}"
        ok = ok and rt_agree >= AGREE and rt_diff <= TOL
    print(("ok   " if ok else "FAIL ") + line, flush=True)
    return ok


def main():
    passed = failed = 0
    for path in sys.argv[1:]:
        try:
            good = check(path)
        except Exception as e:          # a checker or executor error fails this model only
            print(f"FAIL {path}: {type(e).__name__}: {e}", flush=True)
            good = False
        passed += good
        failed += not good
    print(f"qonnx: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
