#!/usr/bin/env bash
# Installs the Debian packages quantlab needs, when missing. Safe to re-run.
set -euo pipefail
packages=(libopenblas-dev libdnnl-dev libedit-dev zlib1g-dev libsqlite3-dev dataset-fashion-mnist tmux pkg-config libzmq3-dev libcairo2-dev fonts-dejavu-core poppler-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH (expected Swift 6.x, e.g. /opt/swift/usr/bin)"; exit 1; }
# NumPy for the release fuzz's .npy/.npz cases (scripts/fuzz_release.py writes them with numpy itself).
python3 -c "import numpy" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check numpy
