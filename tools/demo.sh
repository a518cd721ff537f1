#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build Aisle, and run the demo recipe
# (BPR-MF on synthetic shop data, evaluated against a popularity baseline). Extra arguments are
# passed to `aisle demo`, e.g. `bash tools/demo.sh --set device=cuda`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/scripts/install-deps.sh
bash tools/scripts/build.sh build -DAISLE_CUDA=AUTO
./build/aisle demo recipes/demo-bpr.yaml "$@"
