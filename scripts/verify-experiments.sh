#!/usr/bin/env bash
# Replays the long shipped sessions (scripts/long-sessions.txt) with --verify.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product quantlab
for s in $(bash scripts/sessions.sh long); do
  echo "== replay --verify $s"
  .build/release/quantlab replay "$s" --verify
done
