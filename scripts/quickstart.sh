#!/usr/bin/env bash
# Installs what is missing, builds quantlab (release) and runs the quick-start
# session on Fashion-MNIST.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product quantlab
.build/release/quantlab run sessions/quickstart.qlab
echo
echo "Start the shell with: .build/release/quantlab"
