#!/usr/bin/env bash
# Installs what is missing and builds once: the release build (what users run) with the tests.
# Runs every test on it, then with its quantlab binary: replays the short shipped sessions with
# --verify, each in a scratch folder (the long ones: scripts/verify-experiments.sh), the plot
# files, the end-to-end trust checks, the release fuzz (damaged files of every format, 10,000
# command lines), the Jupyter kernel tests (jupyter_kernel_test, nbconvert --execute of a small
# notebook), the Slurm checks (scripts/test-slurm.sh, on a one-node cluster it starts and stops)
# and the QONNX export checks (onnx.checker, qonnx's executor and onnxruntime against quantlab).
# The Python environments and Slurm install while the compiler runs; after the tests and the
# kernel checks, the others run in two lanes side by side (no two share a folder, a store or the cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/install-deps.sh
logs=$(mktemp -d "${TMPDIR:-/tmp}/quantlab-ci.XXXXXX")
(bash scripts/venvs.sh kernel && bash scripts/venvs.sh qonnx && bash scripts/slurm-local.sh install) >"$logs/prepare" 2>&1 &
prepare=$!
# Testable imports need -enable-testing in release; the scripts below get --skip-build, so
# nothing is rebuilt without it (other flags would recompile every module).
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release --skip-build 2>&1 | tee /tmp/quantlab-test.log
status=0
wait "$prepare" || { echo "installing the Python environments or Slurm FAILED:"; tail -n 30 "$logs/prepare"; status=1; }

seconds() {  # seconds FILE: the children's user+sys seconds in FILE, written by `times` (run in the lane's shell itself)
  tail -n 1 "$1" | awk '{ gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }'
}
step() {  # step NAME COMMAND...: runs it, prints its wall and CPU time and last line (in one write), returns its status
  local name=$1; shift
  local log="$logs/step-$BASHPID-$RANDOM" start=$SECONDS
  times >"$log.t0"
  if "$@" >"$log" 2>&1; then
    times >"$log.t1"
    echo "$name ($((SECONDS - start)) s, CPU $(awk -v a="$(seconds "$log.t0")" -v b="$(seconds "$log.t1")" 'BEGIN { printf "%.0f", b - a }') s): $(tail -n 1 "$log")"
  else
    printf '%s FAILED:\n%s\n' "$name" "$(tail -n 30 "$log")"; return 1
  fi
}
replay() {  # replay SESSION: replay --verify in a fresh folder (the session's store and files are its own)
  local dir; dir=$(mktemp -d "$logs/replay.XXXXXX")
  mkdir "$dir/sessions" && cp "$1" "$dir/sessions/"
  (cd "$dir" && "$root/.build/release/quantlab" replay "sessions/$(basename "$1")" --verify) && rm -rf "$dir"
}
# The kernel checks run alone: their start-up limit (300 ms to kernel_info_reply) is for an idle
# machine (best 699 ms measured beside other work at load 20).
step "kernel" bash scripts/test-kernel.sh --skip-build || status=1
# Lane 1 keeps both cores busy (two trials side by side, two fuzz processes); lane 2 has waits
# (Slurm's scheduler, Ctrl-C timings) and single-threaded Python.
lane1() {
  local s ok=0 start=$SECONDS
  for s in $(bash scripts/sessions.sh short); do step "replay --verify $s" replay "$s" || ok=1; done
  echo "replays took $((SECONDS - start)) s; not replayed here (scripts/verify-experiments.sh):" $(bash scripts/sessions.sh long)
  step "fuzz (release)" bash scripts/fuzz-release.sh --skip-build || ok=1
  return $ok
}
lane2() {
  local ok=0
  step "plots (SVG, PNG, PDF)" bash scripts/test-plots.sh -c release || ok=1
  step "trust-e2e" bash scripts/trust-e2e.sh || ok=1
  step "slurm" bash scripts/test-slurm.sh || ok=1
  step "qonnx" bash scripts/test-qonnx.sh --skip-build || ok=1
  return $ok
}
lane1 & one=$!
lane2 & two=$!
wait "$one" || status=1
wait "$two" || status=1
times >"$logs/total"
echo "scripts/test.sh: $SECONDS s, CPU $(seconds "$logs/total" | awk '{ printf "%.0f", $1 }') s (user+sys of every step it waited for)"
if [ $status = 0 ]; then rm -rf "$logs"; else echo "logs and failed replays kept in $logs"; fi
exit $status
