#!/usr/bin/env python3
"""Checks quantlab's QONNX exports with the tools users deploy with.

For each MODEL.onnx given (written by `export CONFIG MODEL.onnx reference=N`, which also
writes MODEL.reference.npz: the first N test images as raw values (x), labels (y) and
quantlab's logits for them):

  1. onnx.checker.check_model accepts the file (full check, with shape inference);
  2. for 1×28×28 inputs, the input is the raw Fashion-MNIST test pixels (x equals the IDX
     file's first N images); other inputs (a CSV's features, raw values as stored) are
     taken as written;
  3. qonnx's executor (qonnx.core.onnx_exec.execute_onnx on a ModelWrapper, batch dimension
     set to N) gives the same predictions (argmax) as quantlab for at least AGREE of the
     images, and logits within TOL (max |difference| / max |quantlab logit|) of quantlab's on
     every image, where an activation that sits at a rounding tie may round the other way:
     an image over TOL is re-run by qonnx's executor with activation values whose x/s lies
     within TIE of a half-integer (a tie, given that the two programs' values differ there by
     at most 1.4e-4 of a step, measured) rounded to the other neighbouring code, and must
     then come within SAME (`explain_by_ties`; searched when at most SEARCH of the images are
     over TOL, else the model fails). Images over TOL that no such rounding explains
     (a binary activation at 0, which is not searched) are allowed on at most 1 - AGREE of
     them; the largest difference over all images is printed;
  4. for a model without Quant nodes (float), onnxruntime gives the same, within TOL on every image.

Why ties: quantlab rounds round(clamp(x, 0, c)·(L/c)) on an integer-exact convolution,
qonnx round(clamp(x/s, 0, L)) on a float32 one; the pre-rounding values differ by a few
ulps. Where that straddles a half-integer, the code differs by one step, and one step
early in a network moves the activations after it (rn-w8a8: 3% of images, logits by up to
2.5e-3 of the largest). With the same codes the logits agree to 2e-7.

Prints one line per model and `qonnx: N passed, M failed`; exits 1 when M > 0.
"""
import copy
import gzip
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_node, execute_onnx

AGREE = 0.999          # the bar: same prediction for ≥ 99.9% of the images
TOL = 1e-3             # logits, relative to the largest |logit|, on every image
SAME = 1e-5            # logits where every activation code agrees (measured: 2e-7)
TIE = 1e-3             # an activation with |x/s - (k + 1/2)| < TIE (in steps) may round either way
DEPTH = 4              # rounds of tie flips tried per image (a flip can make another value a tie)
EXPAND = 4             # rows per image a round builds on: those that came closest to quantlab
ROWS = 64              # re-runs per image and round, at most
SEARCH = 0.05          # the search runs when at most this share of the images is over TOL
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


def run(model, x, overrides):
    """qonnx's executor, node by node as execute_onnx runs them, on the batch x; after each
    activation Quant node, overrides[name] (a list of (row, flat index, code)) replaces
    single values by code·s. Returns the logits and the full context."""
    model = copy.deepcopy(model)
    set_batch(model, len(x))
    w = ModelWrapper(model)
    ctx = w.make_empty_exec_context()
    ctx[w.graph.input[0].name] = x
    opsets = w.get_opset_imports()
    for node in w.graph.node:
        execute_node(node, ctx, w.graph, opsets.get(node.domain, 1))
        for row, j, code in overrides.get(node.output[0], []):
            s = float(np.asarray(ctx[node.input[1]]).reshape(-1)[0])
            ctx[node.output[0]][row].reshape(-1)[j] = np.float32(code * s)
    return ctx[w.graph.output[0].name], ctx


def activation_quants(model):
    """The unsigned (activation) Quant nodes with a per-tensor scale, in graph order."""
    inits = {t.name: t for t in model.graph.initializer}
    out = []
    for node in model.graph.node:
        signed = [a.i for a in node.attribute if a.name == "signed"]
        if node.op_type == "Quant" and signed == [0] and np.prod(inits[node.input[1]].dims) == 1:
            bits = int(onnx.numpy_helper.to_array(inits[node.input[3]]))
            out.append((node, 2 ** bits - 1))
    return out


def explain_by_ties(single, xs, refs, scale):
    """Which of these images come within SAME of quantlab's logits `refs` once some
    activations at a rounding tie round the other way (one step each, qonnx's executor
    running the rest). Rounds: run every candidate row (an image and its flips), keep the
    images that match, and give the others new rows, built on the EXPAND rows that came
    closest: one more tie value flipped (at the node of the last flip or later), or all the
    ties of one node (a value repeated over a blank background flips everywhere at once).
    Returns the indices explained and, for each, the number of values flipped and the
    logit difference left."""
    quants = activation_quants(single)
    rows = [(i, ()) for i in range(len(xs))]
    done = {}
    for _ in range(DEPTH + 1):
        if not rows:
            break
        overrides = {}
        for r, (_, flips) in enumerate(rows):
            for name, j, code in flips:
                overrides.setdefault(name, []).append((r, j, code))
        out, ctx = run(single, xs[[i for i, _ in rows]], overrides)
        left = np.abs(out - refs[[i for i, _ in rows]]).max(1) / scale
        best = {}
        for r, (i, flips) in enumerate(rows):
            if left[r] <= SAME and i not in done:
                done[i] = (len(flips), left[r])
            best.setdefault(i, []).append(r)
        following = []
        for i, rs in best.items():
            if i in done:
                continue
            per = []
            for r in sorted(rs, key=lambda r: left[r])[:EXPAND]:        # the rows that came closest
                flips = rows[r][1]
                flipped = {(name, j) for name, j, _ in flips}
                last = max((k for k, (node, _) in enumerate(quants) for name, _, _ in flips if node.output[0] == name), default=0)
                for node, top in quants[last:]:
                    s = np.float32(np.asarray(ctx[node.input[1]]).reshape(-1)[0])
                    v = np.clip(ctx[node.input[0]][r].reshape(-1) / s, 0, top)
                    ties = [j for j in np.flatnonzero(np.abs(v - np.floor(v) - 0.5) < TIE) if (node.output[0], j) not in flipped]
                    other = [(node.output[0], j, float(np.floor(v[j]) if np.round(v[j]) > v[j] else np.floor(v[j]) + 1)) for j in ties]
                    per += [(i, flips + (f,)) for f in other]
                    if len(other) > 1:
                        per.append((i, flips + tuple(other)))
            following += per[:ROWS]
        rows = following
    return sorted(done), [done[i] for i in sorted(done)]


def check(path):
    ref = np.load(path[:-5] + ".reference.npz")
    x, y, logits = ref["x"], ref["y"], ref["logits"]
    n = len(x)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ops = [node.op_type for node in model.graph.node]
    quantized = any(op in ("Quant", "BipolarQuant") for op in ops)
    if x.shape[1:] == (1, 28, 28):
        with gzip.open(IDX) as f:
            pixels = np.frombuffer(f.read(), np.uint8, offset=16)[: n * 784].reshape(n, 1, 28, 28)
        assert np.array_equal(x, pixels.astype(np.float32)), "reference inputs are not the raw test pixels"

    single = onnx.load(path)
    set_batch(model, n)
    w = ModelWrapper(model)
    t0 = time.process_time()
    out = execute_onnx(w, {w.graph.input[0].name: x})[w.graph.output[0].name]
    agree = float(np.mean(out.argmax(1) == logits.argmax(1)))
    scale = float(np.abs(logits).max())
    diff = np.abs(out - logits).max(1) / scale
    over = np.flatnonzero(diff > TOL)
    # Ties are rare (rn-w8a8: 1.3% of images over TOL); past SEARCH the model fails unsearched.
    search = quantized and 0 < len(over) <= SEARCH * n
    explained, found = explain_by_ties(single, x[over], logits[over], scale) if search else ([], [])
    unexplained = len(over) - len(explained)
    cpu = time.process_time() - t0
    line = (f"{path}: {len(ops)} nodes ({ops.count('Quant')} Quant, {ops.count('BipolarQuant')} BipolarQuant), "
            f"qonnx agrees on {agree * 100:.1f}% of {n} (accuracy {np.mean(out.argmax(1) == y) * 100:.1f}% vs quantlab "
            f"{np.mean(logits.argmax(1) == y) * 100:.1f}%), max logit diff {diff.max():.2e} of max |logit| {scale:.2f}, "
            f"{len(over)} images over {TOL:g}")
    if len(over):
        flips = [k for k, _ in found]
        line += (f" ({len(explained)} within {max((d for _, d in found), default=0):.1e} once {sum(flips)} activations at a"
                 f" rounding tie round the other way, {max(flips, default=0)} at most per image; {unexplained} not)")
    line += f", {cpu:.1f} CPU s"
    ok = agree >= AGREE and unexplained <= (1 - AGREE) * n and (quantized or diff.max() <= TOL)
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
