#!/usr/bin/env bash
# quantlab's training figures side by side with PyTorch eager fp32 and Brevitas w4a4, in one run:
#
#   bash scripts/bench-peers.sh [--rounds N] [--quick]
#
# For cifar3 and fmnist2 it alternates quantlab (`quantlab bench NET.PRECISION …` for fp32, w8a8,
# w8a8g8, w8a8gbf16, w4a4, w1a1) and the peer script (`torch_trial_bench.py --threads 1 --net NET`),
# A B A B (N rounds, default 2), so a change of load falls on both; then `quantlab bench infer`.
# It prints the load average before every run and at the end, and a Markdown table for the README:
# images per CPU-second (the mean of the rounds, the range in brackets) and the ratios of issue 11.
# The peer's clock is swapped for process CPU time (time.process_time) so both sides count CPU
# seconds, as `quantlab bench`'s `.cpu` lines do; "2 trials / 1" divides wall-clock images/s
# (two trials side by side against one), so it needs an idle machine to mean anything; beside
# it, the two trials' images per CPU-second against one's and the share of their wall time
# they waited for a CPU (`.waiting`) tell contention between the trials from other load.
#
# The peer Python: $QL_PEER_PYTHON, else .venv-peer (scripts/venvs.sh peer: torch and brevitas
# from PyPI, about 5.4 GB with PyTorch's CUDA libraries, created on first use). The peer script:
# $QL_PEER_SCRIPT, else ../shared/peers/torch_trial_bench.py. Needs the release build
# (swift build -c release). Not part of scripts/test.sh (the install is too big for CI).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2 quick=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --quick) quick=--quick; shift ;;
    *) echo "usage: $0 [--rounds N] [--quick]" >&2; exit 2 ;;
  esac
done
case "$rounds" in ''|*[!0-9]*|0) echo "$0: --rounds expects a whole number ≥ 1, found '$rounds'" >&2; exit 2 ;; esac
ql=.build/release/quantlab
[ -x "$ql" ] || { echo "$0: $ql is missing; build it first: swift build -c release" >&2; exit 1; }
peer=${QL_PEER_SCRIPT:-../shared/peers/torch_trial_bench.py}
[ -f "$peer" ] || { echo "$0: the peer script $peer is missing (set QL_PEER_SCRIPT)" >&2; exit 1; }
python=${QL_PEER_PYTHON:-}
if [ -z "$python" ]; then python=$(bash scripts/venvs.sh peer)/bin/python; fi
"$python" -c "import torch, brevitas" 2>/dev/null \
  || { echo "$0: $python cannot import torch and brevitas (QL_PEER_PYTHON)" >&2; exit 1; }

precisions="w32a32 w8a8 w8a8g8 w8a8gbf16 w4a4 w1a1"
raw=$(mktemp "${TMPDIR:-/tmp}/bench-peers.XXXXXX")
trap 'rm -f "$raw"' EXIT
load() { echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) ($1)" >&2; }   # progress goes to stderr, the table to stdout
# Every figure goes to $raw as "round key value" (images per CPU-second unless the key says
# otherwise) and to the terminal as it arrives.
quantlab_round() {  # quantlab_round ROUND NET
  local entries="" p
  for p in $precisions; do entries="$entries $2.$p"; done
  load "round $1, quantlab $2"
  # shellcheck disable=SC2086
  "$ql" bench $entries $quick | tee /dev/stderr | awk -v r="$1" -v net="$2" '
    $1 ~ /^train\./ { split($1, k, "."); key = net "." k[3] "." k[4]; print r, key "." (k[5] == "" ? "wall" : k[5]), $2 }'
}
peer_round() {  # peer_round ROUND NET
  load "round $1, PyTorch $2"
  "$python" - "$peer" --threads 1 --net "$2" <<'EOF' | tee /dev/stderr | awk -v r="$1" -v net="$2" '
    { split($NF, v, "="); print r, net ".peer." $2, v[2] }'
import runpy, sys, time
time.perf_counter = time.process_time   # images per process CPU-second, as quantlab bench's .cpu lines
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
EOF
}
for net in cifar3 fmnist2; do
  for r in $(seq "$rounds"); do
    quantlab_round "$r" "$net" >>"$raw"
    peer_round "$r" "$net" >>"$raw"
  done
done
load "quantlab bench infer"
"$ql" bench infer $quick | tee /dev/stderr | awk '$1 ~ /^infer\./ { print 1, $1, $2 }' >>"$raw"
load "end"

# The table: mean over rounds (range), then the ratios of the means.
awk -v rounds="$rounds" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" '
  { sum[$2] += $3; n[$2]++; if (!($2 in lo) || $3 < lo[$2]) lo[$2] = $3; if (!($2 in hi) || $3 > hi[$2]) hi[$2] = $3 }
  function mean(k) { return n[k] ? sum[k] / n[k] : 0 }
  function cell(k) {
    if (!n[k]) return "—"
    return n[k] > 1 ? sprintf("%.0f (%.0f–%.0f)", mean(k), lo[k], hi[k]) : sprintf("%.0f", mean(k))
  }
  function ratio(a, b, target) {
    if (!n[a] || !n[b] || mean(b) == 0) return "—"
    return sprintf("%.2f×%s", mean(a) / mean(b), mean(a) / mean(b) >= target ? "" : " (below)")
  }
  # The wall ratio, then what explains a shortfall: images per CPU-second of two trials
  # against one (below 1: the trials contend) and the share of wall time the trial
  # threads waited for a CPU (other processes).
  function sideBySide(k) {
    if (!n[k ".2trials.waiting"]) return ratio(k ".2trials.wall", k ".1trial.wall", 1.8)
    return sprintf("%s; per CPU-s %s, waiting %.1f %%", ratio(k ".2trials.wall", k ".1trial.wall", 1.8),
                   ratio(k ".2trials.cpu", k ".1trial.cpu", 0), mean(k ".2trials.waiting"))
  }
  END {
    printf "\nbench-peers.sh, %s, %d round%s of quantlab then peer (A B A B …), load average at the end %s; release, one thread.\n\n", date, rounds, rounds == 1 ? "" : "s", load
    print "| training, images per CPU-second | cifar3 | fmnist2 |"
    print "|---|---|---|"
    printf "| PyTorch eager fp32 | %s | %s |\n", cell("cifar3.peer.fp32"), cell("fmnist2.peer.fp32")
    printf "| Brevitas w4a4 | %s | %s |\n", cell("cifar3.peer.brevitas-w4a4"), cell("fmnist2.peer.brevitas-w4a4")
    split("w32a32 w8a8 w8a8g8 w8a8gbf16 w4a4 w1a1", ps, " ")
    for (i = 1; i <= 6; i++) {
      p = ps[i]; label = p == "w32a32" ? "fp32" : p
      printf "| quantlab %s | %s | %s |\n", label, cell("cifar3." p ".1trial.cpu"), cell("fmnist2." p ".1trial.cpu")
    }
    print ""
    print "| ratio (means) | target | cifar3 | fmnist2 |"
    print "|---|---|---|---|"
    printf "| fp32 / PyTorch fp32 | ≥ 1.4 | %s | %s |\n", ratio("cifar3.w32a32.1trial.cpu", "cifar3.peer.fp32", 1.4), ratio("fmnist2.w32a32.1trial.cpu", "fmnist2.peer.fp32", 1.4)
    printf "| w4a4 / Brevitas w4a4 | — | %s | %s |\n", ratio("cifar3.w4a4.1trial.cpu", "cifar3.peer.brevitas-w4a4", 0), ratio("fmnist2.w4a4.1trial.cpu", "fmnist2.peer.brevitas-w4a4", 0)
    split("w8a8:1.25 w8a8g8:2 w8a8gbf16:0 w4a4:0 w1a1:0", rs, " ")
    for (i = 1; i <= 5; i++) {
      split(rs[i], pt, ":"); p = pt[1]; t = pt[2]
      printf "| %s / own fp32 | %s | %s | %s |\n", p, (t > 0 ? "≥ " t : "—"), ratio("cifar3." p ".1trial.cpu", "cifar3.w32a32.1trial.cpu", t), ratio("fmnist2." p ".1trial.cpu", "fmnist2.w32a32.1trial.cpu", t)
    }
    for (i = 1; i <= 2; i++) {
      p = i == 1 ? "w4a4" : "w1a1"
      printf "| %s / w8a8 | ≥ 1 | %s | %s |\n", p, ratio("cifar3." p ".1trial.cpu", "cifar3.w8a8.1trial.cpu", 1), ratio("fmnist2." p ".1trial.cpu", "fmnist2.w8a8.1trial.cpu", 1)
    }
    for (i = 1; i <= 6; i++) {
      p = ps[i]; label = p == "w32a32" ? "fp32" : p
      printf "| %s 2 trials / 1 (wall images/s) | ≥ 1.8 | %s | %s |\n", label, sideBySide("cifar3." p), sideBySide("fmnist2." p)
    }
    print ""
    print "| packed inference (bench infer), images per CPU-second | packed | float | × | target |"
    print "|---|---|---|---|---|"
    split("fmnist2 cifar3", nets, " "); split("w8a8 w4a4 wta8 w1a8 w1a1", ips, " ")
    for (i = 1; i <= 2; i++) for (j = 1; j <= 5; j++) {
      k = "infer." nets[i] "." ips[j]
      t = ips[j] == "w8a8" ? 2.5 : ips[j] == "w1a1" ? 5 : 0
      printf "| %s %s | %s | %s | %s | %s |\n", nets[i], ips[j], cell(k ".packed"), cell(k ".float"), ratio(k ".packed", k ".float", t), (t > 0 ? "≥ " t : "—")
    }
  }' "$raw"
