#!/usr/bin/env bash
# Plot files as other programs see them: the labelled Pareto plot of the plot tests is
# written as SVG, PNG and PDF; pdfinfo (poppler-utils) must open the PDF as one page of
# the plot's size, pdftoppm must render it to an image with ink, and the PNG must have
# the SVG's pixel size and a plausible share of non-background pixels (decoded here).
# Needs the test build; arguments go to `swift test` (scripts/test.sh: -c release, its build).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
QUANTLAB_PLOT_DIR="$dir" swift test --skip-build "$@" --filter PlotOutputTests/writesFilesToLookAtWhenAsked >/dev/null
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
def png_ink(path):
    """Share of non-background (not near-white) pixels: IDAT inflated and unfiltered (PNG spec, filters 0-4)."""
    b = open(path, "rb").read()
    pos, idat, hdr = 8, b"", None
    while pos < len(b):
        n, kind = struct.unpack(">I4s", b[pos:pos + 8])
        body = b[pos + 8:pos + 8 + n]
        if kind == b"IHDR": hdr = struct.unpack(">IIBBBBB", body)
        if kind == b"IDAT": idat += body
        pos += 12 + n
    width, height, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, f"{path}: unexpected PNG format {hdr}"
    bpp = 4 if ctype == 6 else 3
    raw, stride, prev, dark = zlib.decompress(idat), width * bpp, bytearray(width * bpp), 0
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a, up = line[i - bpp] if i >= bpp else 0, prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + up) & 255
            elif f == 3: line[i] = (line[i] + (a + up) // 2) & 255
            elif f == 4:
                p = a + up - c; pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
        dark += sum(1 for x in range(0, stride, bpp) if min(line[x:x + 3]) < 200 and (bpp == 3 or line[x + 3] > 0))
        prev = line
    return dark / (width * height)
png_share = png_ink(f"{d}/pareto.png")
assert 0.005 < png_share < 0.5, f"the PNG has {png_share:.1%} non-background pixels"
# pdftoppm -gray writes a binary PGM: "P5\nW H\n255\n" then one byte per pixel.
raw = open(f"{d}/page-1.pgm", "rb").read()
head = raw.split(b"\n", 3)
rw, rh = map(int, head[1].split())
pixels = head[3]
assert abs(rw - w) <= 1 and abs(rh - h) <= 1, f"pdftoppm page is {rw}x{rh}, expected {w}x{h}"
ink = sum(1 for v in pixels if v < 200) / len(pixels)
assert 0.005 < ink < 0.5, f"the rendered PDF has {ink:.1%} dark pixels"
print(f"plots: SVG {w}x{h}, PNG {pw}x{ph} ({png_share:.1%} non-background), PDF one page rendered {rw}x{rh} by pdftoppm, {ink:.1%} ink")
PY
