#!/usr/bin/env bash
# QONNX export checked with the deployment tools: creates (once) a Python virtual environment
# .venv-qonnx/ with qonnx, onnx and onnxruntime from PyPI, trains fmnist2 and a small residual
# network (identity, 1×1-projection and option-A `pad` blocks with BatchNorm, gap) briefly:
# fmnist2 and the residual network at float, w8a8, w4a4, wta8 and w1a1, and the residual one
# binary with float shortcuts and 8-bit ends (Hybrid-Net); a network of hard tanh, average
# pooling, BatchNorm and dropout at 3-bit weights and 2-bit activations per channel, 5-bit
# PACT, per-channel ternary, BinaryConnect, binary with 8-bit ends, w16a16 and one precision
# per layer; 10,000 training images, one epoch each; and a tabular (CSV, float features)
# network of dense, hard tanh and BatchNorm at w4a4, w3a3 per channel, float and binary with
# 8-bit ends. It exports each as QONNX with the first 1,000 test images' reference logits, and runs
# Tests/qonnx/check_qonnx.py: onnx.checker, qonnx's executor vs quantlab on 1,000
# Fashion-MNIST test images (same prediction on >= 99.9%; logits within 1e-3 of the largest
# |logit|, or within 1e-5 once activations at a rounding tie, |x/s - (k + 1/2)| < 1e-3, round
# one step the other way: the residual w8a8 model has ~1% such images, logits up to 2.5e-3
# apart before), and onnxruntime for the float model.
#
#   scripts/test-qonnx.sh [--skip-build]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ -d /opt/swift/usr/bin ] && export PATH=/opt/swift/usr/bin:$PATH
[ "${1:-}" = "--skip-build" ] || swift build -c release --product quantlab >&2
quantlab="$root/.build/release/quantlab"
venv=$(bash scripts/venvs.sh qonnx)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/export.qlab" <<'QLAB'
seed 5
threads 2
data load fashion-mnist val=50000
model preset fmnist2
config add float fmnist2 w32a32
config add w8a8 fmnist2 w8a8
config add w4a4 fmnist2 w4a4
config add wta8 fmnist2 wta8
config add w1a1 fmnist2 w1a1
model define rn = conv 8 k3 nobias | bn | relu | maxpool 2 | res(conv 8 k3 nobias | bn | relu | conv 8 k3 nobias | bn) | relu | res(conv 16 k3 s2 nobias | bn | relu | conv 16 k3 nobias | bn ; conv 16 k1 s2 nobias | bn) | relu | res(conv 32 k3 s2 nobias | bn | relu | conv 32 k3 nobias | bn ; pad 32 s2) | relu | gap | dense 10
config add rn-float rn w32a32
config add rn-w8a8 rn w8a8
config add rn-w4a4 rn w4a4
config add rn-wta8 rn wta8
config add rn-w1a1 rn w1a1
config add rn-hybrid rn w1a1 first=w8a8 last=w8a8 shortcut*=w32a32
model define hp = conv 8 k3 | htanh | avgpool 2 | conv 16 k3 | bn | htanh | avgpool 2 | dropout 0.2 | dense 32 | relu | dense 10
config add hp-w3a2pc hp w3a2 perchannel=yes
config add hp-w5a3pact hp w5a3 pact=yes
config add hp-tern-pc hp wta4 perchannel=yes
config add hp-bc hp w1a1 binary=connect
config add hp-bin-ends hp w1a1 first=w8a8 last=w8a8
config add hp-w16a16 hp w16a16
config add hp-mixed hp conv1=w2a6 conv2=wta3 dense1=w7a5 dense2=w4a32
trial final all epochs=1
QLAB
configs="float w8a8 w4a4 wta8 w1a1 rn-float rn-w8a8 rn-w4a4 rn-wta8 rn-w1a1 rn-hybrid
         hp-w3a2pc hp-w5a3pact hp-tern-pc hp-bc hp-bin-ends hp-w16a16 hp-mixed"
for c in $configs; do echo "export $c $c.onnx reference=1000" >> "$work/export.qlab"; done
(cd "$work" && OMP_NUM_THREADS=1 "$quantlab" run export.qlab >/dev/null)
# Tabular: 600 rows of 5 float features in 3 classes (input float32 1×5, no 1/255 scaling).
"$venv/bin/python" -c "
import numpy as np
r = np.random.RandomState(3)
y = np.arange(600) % 3
x = y[:, None] * 1.5 + r.normal(0, 1, (600, 5)) * np.arange(1, 6)
np.savetxt('$work/tab.csv', np.column_stack([x, y]), fmt=['%.4f'] * 5 + ['%d'], delimiter=',',
           header='f1,f2,f3,f4,f5,label', comments='')"
cat > "$work/tab.qlab" <<'QLAB'
seed 3
data load csv tab.csv label=label
model define tab = dense 16 | htanh | dense 16 | bn | relu | dropout 0.1 | dense 3
config add t-w4a4 tab w4a4
config add t-w3a3pc tab w3a3 perchannel=yes
config add t-float tab w32a32
config add t-w1a1 tab w1a1 first=w8a8 last=w8a32
trial final all epochs=3
QLAB
tabular="t-w4a4 t-w3a3pc t-float t-w1a1"
for c in $tabular; do echo "export $c $c.onnx reference=100" >> "$work/tab.qlab"; done
(cd "$work" && OMP_NUM_THREADS=1 "$quantlab" run tab.qlab >/dev/null)
cd "$work" && "$venv/bin/python" "$root/Tests/qonnx/check_qonnx.py" $(for c in $configs $tabular; do echo "$c.onnx"; done)
