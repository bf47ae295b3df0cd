#!/usr/bin/env bash
# Installs what is missing, runs every test (debug build), then on the release build (what
# users run): replays the shipped sessions with --verify (the long ones: scripts/verify-experiments.sh), the end-to-end trust checks, the
# release fuzz (damaged files of every format, 10,000 command lines) and the Jupyter kernel
# tests (jupyter_kernel_test, nbconvert --execute of a small notebook), the Slurm checks
# (scripts/test-slurm.sh, on a one-node cluster it starts and stops) and the QONNX export checks
# (onnx.checker, qonnx's executor and onnxruntime against quantlab).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build 2>&1 | tee /tmp/quantlab-test.log
swift build -c release --product quantlab
status=0
step() {  # step NAME COMMAND...: runs it, prints its last line, keeps going on failure
  local name=$1; shift
  local log; log=$(mktemp); local start=$SECONDS
  if "$@" >"$log" 2>&1; then
    echo "$name ($((SECONDS - start)) s): $(tail -n 1 "$log")"
  else
    echo "$name FAILED:"; tail -n 30 "$log"; status=1
  fi
  rm -f "$log"
}
# The shipped sessions one after another (they share the working folder's quantlab.db), except the
# long ones of scripts/long-sessions.txt (replayed by scripts/verify-experiments.sh).
long=$(bash scripts/sessions.sh long)
start=$SECONDS
for s in $(bash scripts/sessions.sh short); do
  step "replay --verify $s" .build/release/quantlab replay "$s" --verify
done
echo "replays took $((SECONDS - start)) s; not replayed here (scripts/verify-experiments.sh):" $long
step "plots (SVG, PNG, PDF)" bash scripts/test-plots.sh
step "trust-e2e" bash scripts/trust-e2e.sh
step "fuzz (release)" bash scripts/fuzz-release.sh --skip-build
step "kernel" bash scripts/test-kernel.sh
step "slurm" bash scripts/test-slurm.sh
step "qonnx" bash scripts/test-qonnx.sh --skip-build
exit $status
