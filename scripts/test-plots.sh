#!/usr/bin/env bash
# Plot files as other programs see them: the labelled Pareto plot of the plot tests is
# written as SVG, PNG and PDF; pdfinfo (poppler-utils) must open the PDF as one page of
# the plot's size, pdftoppm must render it to an image with ink, and the PNG must have
# the SVG's pixel size. Needs the debug test build (scripts/test.sh builds it first).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
QUANTLAB_PLOT_DIR="$dir" swift test --skip-build --filter PlotOutputTests/writesFilesToLookAtWhenAsked >/dev/null
size=$(sed -n 's/.*<svg [^>]*width="\([0-9]*\)" height="\([0-9]*\)".*/\1x\2/p' "$dir/pareto.svg" | head -1)
info=$(pdfinfo "$dir/pareto.pdf")
echo "$info" | grep -q '^Pages: *1$' || { echo "pdfinfo: not one page"; echo "$info"; exit 1; }
echo "$info" | grep -q "^Page size: *${size%x*} x ${size#*x} pts" || { echo "pdfinfo: page is not ${size} pts"; echo "$info"; exit 1; }
pdftoppm -gray -r 72 "$dir/pareto.pdf" "$dir/page"
python3 - "$dir" "$size" <<'PY'
import struct, sys, zlib
d, size = sys.argv[1], sys.argv[2]
w, h = map(int, size.split("x"))
def png(path):
    b = open(path, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    return struct.unpack(">II", b[16:24])
pw, ph = png(f"{d}/pareto.png")
assert (pw, ph) == (w, h), f"PNG is {pw}x{ph}, the SVG {w}x{h}"
# pdftoppm -gray writes a binary PGM: "P5\nW H\n255\n" then one byte per pixel.
raw = open(f"{d}/page-1.pgm", "rb").read()
head = raw.split(b"\n", 3)
rw, rh = map(int, head[1].split())
pixels = head[3]
assert abs(rw - w) <= 1 and abs(rh - h) <= 1, f"pdftoppm page is {rw}x{rh}, expected {w}x{h}"
ink = sum(1 for v in pixels if v < 200) / len(pixels)
assert 0.005 < ink < 0.5, f"the rendered PDF has {ink:.1%} dark pixels"
print(f"plots: SVG {w}x{h}, PNG {pw}x{ph}, PDF one page rendered {rw}x{rh} by pdftoppm, {ink:.1%} ink")
PY
