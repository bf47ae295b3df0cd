#!/usr/bin/env bash
# The Jupyter kernel end to end: builds quantlab (release), creates a Python virtual
# environment in .venv-kernel/ with jupyter_client, jupyter_kernel_test, nbconvert and
# nbclient (no ipykernel), installs the kernel spec into it, runs Tests/kernel/test_kernel.py
# (jupyter_kernel_test's KernelTests, progress, interrupt, session replay) and executes
# a small notebook made from Tests/kernel/smoke.qlab (and every shipped notebook with --all) with nbconvert, checking that its plot is
# SVG display data and that the session the kernel recorded replays with --verify.
#
#   scripts/test-kernel.sh [--skip-build] [--all]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=1 all=0
for a in "$@"; do
  case "$a" in
    --skip-build) build=0 ;;
    --all) all=1 ;;
    *) echo "usage: $0 [--skip-build] [--all]" >&2; exit 2 ;;
  esac
done
if [ "$build" = 1 ]; then
  bash scripts/install-deps.sh
  swift build -c release --product quantlab
fi
quantlab="$root/.build/release/quantlab"
[ -x "$quantlab" ] || { echo "no release binary at $quantlab (build with: swift build -c release --product quantlab)" >&2; exit 2; }
venv=$(bash scripts/venvs.sh kernel)
"$quantlab" kernel install --prefix "$venv"
export PATH="$venv/bin:$PATH" QUANTLAB="$quantlab"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== start-up"
python "$root/Tests/kernel/measure_startup.py" "$quantlab" 5 300

echo "== jupyter_kernel_test (in $work)"
(cd "$work" && python "$root/Tests/kernel/test_kernel.py")

echo "== nbconvert --execute"
# A small notebook made here from Tests/kernel/smoke.qlab (seconds); the shipped notebooks too with
# --all (quickstart about 4 minutes of CPU, teaching-precision several more).
mkdir -p "$work/nb"
"$quantlab" notebook Tests/kernel/smoke.qlab -o "$work/nb/smoke.ipynb"
notebooks=("$work/nb/smoke.ipynb")
[ "$all" = 1 ] && notebooks+=(notebooks/*.ipynb)
for nb in "${notebooks[@]}"; do
  [ -e "$work/nb/$(basename "$nb")" ] || cp "$nb" "$work/nb/"
  name=$(basename "$nb")
  (cd "$work/nb" && jupyter nbconvert --to notebook --execute "$name" --output "executed-$name" --ExecutePreprocessor.timeout=1800)
  python - "$work/nb/executed-$name" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
errors = [o for o in outputs if o["output_type"] == "error"]
assert not errors, errors
svg = [o for o in outputs if o["output_type"] == "display_data" and "image/svg+xml" in o.get("data", {})]
if "quickstart" in sys.argv[1] or "smoke" in sys.argv[1]:
    assert svg, f"{sys.argv[1]} has no SVG plot"
print(f"{sys.argv[1]}: {len(outputs)} outputs, {len(svg)} SVG plots, no errors")
PY
done
echo "== sessions recorded by nbconvert replay with --verify"
for s in "$work"/nb/sessions/*.qlab; do
  (cd "$work/nb" && "$quantlab" replay "$s" --verify | tail -n 1)
done
