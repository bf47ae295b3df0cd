#!/usr/bin/env bash
# The Python virtual environments of the checks, created once in the repository and installed
# from PyPI only when an import fails (so a second run makes no network request):
#
#   bash scripts/venvs.sh kernel   # .venv-kernel: jupyter_client, jupyter_kernel_test, nbconvert, nbclient (scripts/test-kernel.sh)
#   bash scripts/venvs.sh qonnx    # .venv-qonnx: qonnx, onnx, onnxruntime (scripts/test-qonnx.sh)
#   bash scripts/venvs.sh peer     # .venv-peer: torch, brevitas (scripts/bench-peers.sh; about 5.4 GB, not in CI)
#
# Prints the environment's path. scripts/test.sh runs both while the compiler has the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
ensure() {  # ensure DIR "IMPORTS" PACKAGES...
  local venv=$PWD/$1 imports=$2; shift 2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
  "$venv/bin/python" -c "import $imports" 2>/dev/null \
    || "$venv/bin/pip" install -q --disable-pip-version-check "$@" >&2
  echo "$venv"
}
case "${1:-}" in
  kernel) ensure .venv-kernel "jupyter_client, jupyter_kernel_test, nbconvert, nbclient, nbformat" \
            jupyter_client jupyter_kernel_test nbconvert nbclient nbformat ;;
  qonnx) ensure .venv-qonnx "qonnx, onnx, onnxruntime" qonnx onnx onnxruntime ;;
  peer) ensure .venv-peer "torch, brevitas" torch brevitas ;;
  *) echo "usage: $0 kernel|qonnx|peer" >&2; exit 2 ;;
esac
