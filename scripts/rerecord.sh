#!/usr/bin/env bash
# Re-records shipped sessions on this machine: runs each file's commands (and its own
# comments) through the release shell, recording to sessions/NAME.qlab afresh. Use it when
# a deliberate change moves recorded numbers, and say why in the commit.
#   bash scripts/rerecord.sh sessions/quickstart.qlab [more.qlab ...]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/quantlab
[ -x "$bin" ] || swift build -c release --product quantlab
for s in "$@"; do
  name=$(basename "$s" .qlab)
  old=$(mktemp)
  cp "$s" "$old"
  # Drop the generated header (the first block of '# key: value' lines), recorded
  # results, failure notes, stop and end markers; keep the commands and the author's comments.
  awk 'BEGIN { header = 1 }
       header && /^# (quantlab session|version|date|seed|threads|cpu|blas|isa):?/ { next }
       { header = 0 }
       /^#=/ || /^# (failed|error|stopped|end):/ { next }
       { print }' "$old" > "$old.cmds"
  rm -f "$s"
  if ! "$bin" shell --session "$name" < "$old.cmds" > "$old.log" 2>&1; then
    echo "re-recording $s failed; the old file is back"; cp "$old" "$s"; tail -20 "$old.log"; exit 1
  fi
  if grep -q '^# failed:' "$s"; then
    echo "warning: $s has failed commands:"; grep -A1 '^# failed:' "$s" | head -20
  fi
  echo "re-recorded $s ($(grep -c '^#=' "$s") results)"
  rm -f "$old" "$old.cmds" "$old.log"
done
