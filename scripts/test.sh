#!/usr/bin/env bash
# Installs what is missing, runs every test (debug build), then on the release build (what
# users run): replays each shipped session with --verify, the end-to-end trust checks, the
# release fuzz (damaged files of every format, 10,000 command lines) and the Jupyter kernel
# tests (jupyter_kernel_test, nbconvert --execute of the quickstart notebook).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build 2>&1 | tee /tmp/quantlab-test.log
swift build -c release --product quantlab
status=0
step() {  # step NAME COMMAND...: runs it, prints its last line, keeps going on failure
  local name=$1; shift
  local log; log=$(mktemp)
  if "$@" >"$log" 2>&1; then
    echo "$name: $(tail -n 1 "$log")"
  else
    echo "$name FAILED:"; tail -n 30 "$log"; status=1
  fi
  rm -f "$log"
}
for s in sessions/*.qlab; do
  case "$s" in sessions/experiment-*) continue ;; esac   # long experiments: scripts/verify-experiments.sh
  step "replay --verify $s" .build/release/quantlab replay "$s" --verify
done
step "plots (SVG, PNG, PDF)" bash scripts/test-plots.sh
step "trust-e2e" bash scripts/trust-e2e.sh
step "fuzz (release)" bash scripts/fuzz-release.sh --skip-build
step "kernel" bash scripts/test-kernel.sh
exit $status
