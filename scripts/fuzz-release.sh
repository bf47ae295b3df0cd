#!/usr/bin/env bash
# Fuzzes the release build (what users run): 300 damaged files per format (IDX, IDX .gz,
# CIFAR-10, SVHN .mat plain and compressed, CSV, NumPy .npy, .npz stored and deflated, .qlm, .qlab),
# 30 structural mutants per format (scripts/fuzz_structure.py: one header field, size, offset
# or dtype at a time; --structural all runs all ~4,500) and 10,000 random command lines, each
# run by the release binary with a 30 s and 4 GB (address space) limit. Fails on any crash,
# hang or silent wrong load (see scripts/fuzz_release.py for the exact rules). Deterministic
# for a seed; about 2–4 minutes on 2 cores.
#
#   scripts/fuzz-release.sh [--skip-build] [--seed N] [--mutations N] [--structural N|all] [--lines N] [--keep]
#
# Prints `fuzz: N passed, M failed`; exit status 1 when M > 0.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /opt/swift/usr/bin ] && export PATH=/opt/swift/usr/bin:$PATH

build=1 keep=0 args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --skip-build) build=0 ;;
        --keep) keep=1 ;;
        --seed|--mutations|--structural|--memory-gb|--lines|--jobs|--only) args+=("$1" "$2"); shift ;;
        *) echo "usage: $0 [--skip-build] [--seed N] [--mutations N] [--structural N|all] [--memory-gb G] [--lines N] [--jobs N] [--only FORMATS] [--keep]" >&2; exit 2 ;;
    esac
    shift
done

if [ "$build" = 1 ]; then
    swift build -c release --product quantlab >&2
fi
bin="$(swift build -c release --show-bin-path)/quantlab"
[ -x "$bin" ] || { echo "fuzz: no release binary at $bin (build with: swift build -c release --product quantlab)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/quantlab-fuzz.XXXXXX")"
status=0
python3 scripts/fuzz_release.py --bin "$bin" --work "$work" "${args[@]}" || status=$?
if [ "$keep" = 1 ] || [ "$status" != 0 ]; then
    echo "fuzz: cases kept in $work" >&2
else
    rm -rf "$work"
fi
exit "$status"
