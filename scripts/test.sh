#!/usr/bin/env bash
# Installs what is missing, runs every test (debug build), then replays each shipped
# session with --verify on a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build 2>&1 | tee /tmp/quantlab-test.log
swift build -c release --product quantlab
status=0
for s in sessions/*.qlab; do
  case "$s" in sessions/experiment-*) continue ;; esac   # long experiments: scripts/verify-experiments.sh
  log=$(mktemp)
  if .build/release/quantlab replay "$s" --verify >"$log" 2>&1; then
    echo "replay --verify $s: $(tail -n 1 "$log")"
  else
    echo "replay --verify $s FAILED:"; tail -n 20 "$log"; status=1
  fi
  rm -f "$log"
done
exit $status
