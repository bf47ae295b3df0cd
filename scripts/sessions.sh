#!/usr/bin/env bash
# Lists the shipped sessions: `long` (those matched by scripts/long-sessions.txt) or `short`
# (every other sessions/*.qlab), one path a line.
set -euo pipefail
cd "$(dirname "$0")/.."
patterns=$(grep -v '^#' scripts/long-sessions.txt | grep -v '^[[:space:]]*$')
is_long() { local p; for p in $patterns; do case "$1" in $p) return 0 ;; esac; done; return 1; }
for s in sessions/*.qlab; do
  if is_long "$s"; then [ "${1:-}" = long ] && echo "$s"
  else [ "${1:-}" = short ] && echo "$s"; fi
done
exit 0
