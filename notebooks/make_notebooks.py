"""Writes notebooks/quickstart.ipynb and notebooks/teaching-precision.ipynb from the
shipped sessions, with markdown explaining each step. Each code cell keeps the key
results of its commands in metadata (quantlab.results), so
`quantlab replay notebooks/NAME.ipynb --verify` checks them like the session.

    python3 notebooks/make_notebooks.py
"""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent


def commands(session):
    header, entries = [], []
    for line in (root / "sessions" / session).read_text().splitlines():
        if not entries and (line.startswith("# quantlab session") or (line.startswith("# ") and ":" in line.split()[1])):
            header.append(line)
        elif line.startswith("#="):
            entries[-1][1].append(line[2:].strip())
        elif line.strip() and not line.startswith("#"):
            entries.append((line, []))
    return header, entries


def build(session, sections, rename=None):
    header, entries = commands(session)
    rename = rename or {}
    by_line = {}
    for line, results in entries:
        by_line.setdefault(line, []).append(results)
    cells = []
    for n, (text, lines) in enumerate(sections):
        cells.append({"cell_type": "markdown", "id": f"md-{n:02d}", "metadata": {}, "source": text.strip().splitlines(True)})
        if not lines:
            continue
        results = [by_line[line].pop(0) for line in lines]
        shown = [rename.get(line, line) for line in lines]
        outputs = []
        flat = [r for rs in results for r in rs]
        if flat:
            outputs.append({"output_type": "stream", "name": "stdout", "text": "\n".join("#= " + r for r in flat) + "\n"})
        cells.append({"cell_type": "code", "id": f"code-{n:02d}", "execution_count": None,
                      "metadata": {"quantlab": {"results": results}}, "outputs": outputs,
                      "source": "\n".join(shown).splitlines(True)})
    used = sum(len(lines) for _, lines in sections)
    assert used == len(entries), f"{session}: {used} of {len(entries)} commands placed"
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "quantlab", "display_name": "quantlab", "language": "quantlab"},
            "language_info": {"name": "quantlab", "file_extension": ".qlab", "mimetype": "text/x-quantlab", "codemirror_mode": "shell"},
            "quantlab": {"header": header},
        },
        "cells": cells,
    }


quickstart = [
    ("""# quantlab quick start

Which per-layer precision should a network use, and can a short run tell? This notebook is
`sessions/quickstart.qlab` as cells: it trains six precision configurations of a small CNN on
Fashion-MNIST for three epochs, trains each once more to the end, measures how well the early
accuracy predicted the final one, and plots the curves. About a minute on 2 cores.

Each cell holds quantlab commands, one per line, exactly as typed at the `qlab>` prompt.
Press Shift-Tab on a command for its help, Tab to complete names and options.""", []),
    ("""## 1. Reproducible set-up
`seed` fixes every random stream (weights, sampling, batches); `threads` is how many trials
train side by side, each on one compute thread, so results do not depend on it.""", ["seed 42", "threads 2"]),
    ("""## 2. Data
Fashion-MNIST comes with Debian's `dataset-fashion-mnist`. A stratified sample of 3,000
training images (300 per class) is enough to compare configurations early; the
validation split stays whole. The key results (`#=` lines) include the dataset's
fingerprint, so a replay on other data fails loudly.""",
     ["data load fashion-mnist", "data sample 3000"]),
    ("""## 3. The network and its precision
Two conv blocks and two dense layers. `precision` sets the default precision of the first
and last layer to 8-bit weights and activations (`w8a8`), a common choice: they are small
and sensitive.""",
     ["model define net = conv 16 k3 | bn | relu | maxpool 2 | conv 32 k3 | bn | relu | maxpool 2 | dense 64 | relu | dense 10",
      "precision net first=w8a8 last=w8a8"]),
    ("""## 4. Configurations
A configuration is the model with a precision per layer. Besides float and uniform 8-bit,
the middle layers get 4-bit, 2-bit, ternary (`t`) and binary (`1`) weights with 4-bit
activations. `config list` shows them as a table.""",
     ["config add float net w32a32", "config add w8a8 net w8a8", "config add w4a4 net conv2=w4a4 dense1=w4a4",
      "config add w2a4 net conv2=w2a4 dense1=w2a4", "config add wta4 net conv2=wta4 dense1=wta4",
      "config add w1a4 net conv2=w1a4 dense1=w1a4", "config list"]),
    ("""## 5. Short trials
Three epochs each, two trials at a time. The progress display below the cell is updated in
place; the key results are each epoch's training loss and validation accuracy.""",
     ["trial run all epochs=3"]),
    ("""## 6. Final runs
One more full epoch per configuration from the same initial weights gives the "final"
test accuracy that the early numbers try to predict.""", ["trial final all epochs=1"]),
    ("""## 7. Did the early accuracy predict the final one?
Pearson, Spearman and Kendall correlations between validation accuracy at each epoch and
final test accuracy, with bootstrap intervals; then which configuration an early pick
would have chosen and its regret (lost final accuracy).""", ["correlate bootstrap=200"]),
    ("""## 8. The curves
`plot` commands give an SVG picture in a notebook (and a text plot at the terminal;
`svg=FILE` also writes the file).""", ["plot curves svg=out/quickstart-curves.svg"]),
]

teaching = [
    ("""# Precision trade-offs: what each bit buys

A 10-minute lesson on the seed paper's CNN trained on Fashion-MNIST: (1) the levels a quantized
layer can hold, on the model's own weights; (2) what quantization does to their histogram; (3) what
each configuration costs; (4) what it buys in accuracy; (5) the Pareto front and a figure for a slide.""", []),
    ("""## Set-up, data and model
The seed paper's CNN on a 5,000-image stratified sample of Fashion-MNIST; the first and last
layers stay at 8 bits.""",
     ["seed 7", "threads 2", "data load fashion-mnist", "data show 0", "data sample 5000", "model preset seedcnn as=cnn",
      "precision cnn first=w8a8 last=w8a8"]),
    ("""## (1) How many values can a weight take?
On conv2's own (initial) weights: a symmetric `k`-bit quantizer has 2^(k-1)-1 positive levels,
their negatives and zero, spaced by the scale s = max|w| / n. Ternary weights (TWN) keep -α, 0, +α;
binary weights (XNOR-Net) ±α with α the mean |w| of each output channel. Per channel, every output
channel has its own scale. The activation levels follow each view.""",
     ["quantizer levels w8a8 layer=conv2", "quantizer levels w4a8 layer=conv2", "quantizer levels w2a8 layer=conv2",
      "quantizer levels wta8 layer=conv2", "quantizer levels w1a8 layer=conv2", "quantizer levels w4a8 layer=conv2 perchannel=yes"]),
    ("""## (2) What quantization does to a layer
Histograms of conv2's weights before and after 4-bit and ternary quantization, with bins centred
on the levels: after quantization every level is one spike.""",
     ["quantizer histogram w4a8 layer=conv2", "quantizer histogram wta8 layer=conv2"]),
    ("""## (3) One layer, six precisions, and what they cost
`config grid` varies only the second convolution's weights (float, 8, 4, 2-bit, ternary,
binary) with 8-bit activations; two more configurations quantize every layer to w4a4 and w1a1.
Weight memory packed at the true bit width, MACs, bit operations (MACs × weight bits ×
input activation bits) and an energy estimate from the 45 nm figures (Horowitz, ISSCC 2014,
as QKeras's qtools encodes them). An estimate, not a measurement.""",
     ["config grid cnn w=32,8,4,2,t,1 a=8 layers=conv2 prefix=c2-", "config add all-w4a4 cnn w4a4", "config add all-w1a1 cnn w1a1",
      "cost c2-w8a8", "cost all"]),
    ("""## (4) What it buys
Three short epochs for every configuration, then one final epoch each; then conv2's trained
weights and the activation clip learned in training.""",
     ["trial run all epochs=3", "trial final all epochs=1", "trial show c2-w1a8", "quantizer levels c2-w4a8", "quantizer histogram c2-w4a8"]),
    ("""## (5) Accuracy against cost
The Pareto front: the configurations no other beats on both accuracy and memory (or bit
operations). The plots are SVG display data.""",
     ["pareto cost=memory svg=out/teaching-pareto.svg png=out/teaching-pareto.png", "pareto cost=bops",
      "plot curves svg=out/teaching-curves.svg",
      "plot panels curves,pareto svg=out/teaching-panels.svg pdf=out/teaching-panels.pdf size=560x380"]),
]

rename_q = {"plot curves svg=out/quickstart-curves.svg": "plot curves"}
rename_t = {"pareto cost=memory svg=out/teaching-pareto.svg png=out/teaching-pareto.png": "pareto cost=memory",
            "plot curves svg=out/teaching-curves.svg": "plot curves",
            "plot panels curves,pareto svg=out/teaching-panels.svg pdf=out/teaching-panels.pdf size=560x380": "plot panels curves,pareto"}
for name, session, sections, rename in [("quickstart", "quickstart.qlab", quickstart, rename_q),
                                        ("teaching-precision", "teaching-precision.qlab", teaching, rename_t)]:
    nb = build(session, sections, rename)
    (root / "notebooks" / f"{name}.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote notebooks/{name}.ipynb: {len(nb['cells'])} cells")
