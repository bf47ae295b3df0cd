#!/usr/bin/env bash
# Replays the long experiment sessions (sessions/experiment-*.qlab, grad-precision.qlab) with --verify.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product quantlab
for s in sessions/experiment-*.qlab sessions/grad-precision.qlab; do
  echo "== replay --verify $s"
  .build/release/quantlab replay "$s" --verify
done
