#!/usr/bin/env bash
# QONNX export checked with the deployment tools: creates (once) a Python virtual environment
# .venv-qonnx/ with qonnx, onnx and onnxruntime from PyPI, trains fmnist2 briefly at float,
# w8a8, w4a4, wta8 and w1a1 (10,000 training images, one epoch), exports each as QONNX with
# the first 1,000 test images' reference logits, and runs Tests/qonnx/check_qonnx.py:
# onnx.checker, qonnx's executor vs quantlab on 1,000 Fashion-MNIST test images, and
# onnxruntime for the float model.
#
#   scripts/test-qonnx.sh [--skip-build]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ -d /opt/swift/usr/bin ] && export PATH=/opt/swift/usr/bin:$PATH
[ "${1:-}" = "--skip-build" ] || swift build -c release --product quantlab >&2
quantlab="$root/.build/release/quantlab"
venv="$root/.venv-qonnx"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import qonnx, onnx, onnxruntime" 2>/dev/null \
  || "$venv/bin/pip" install -q --disable-pip-version-check qonnx onnx onnxruntime
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
trial final all epochs=1
export float float.onnx reference=1000
export w8a8 w8a8.onnx reference=1000
export w4a4 w4a4.onnx reference=1000
export wta8 wta8.onnx reference=1000
export w1a1 w1a1.onnx reference=1000
QLAB
(cd "$work" && OMP_NUM_THREADS=1 "$quantlab" run export.qlab >/dev/null)
cd "$work" && "$venv/bin/python" "$root/Tests/qonnx/check_qonnx.py" float.onnx w8a8.onnx w4a4.onnx wta8.onnx w1a1.onnx
