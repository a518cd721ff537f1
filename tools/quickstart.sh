#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build Aisle, train the quickstart recipe
# (BPR on a synthetic shop generated on the fly: train, evaluate, export an artifact), then serve
# recommendations from the artifact. Extra arguments go to `aisle train`, e.g.
# `bash tools/quickstart.sh --set device=cuda --set train.epochs=30`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/scripts/install-deps.sh
bash tools/scripts/build.sh build -DAISLE_CUDA=AUTO
./build/aisle train recipes/quickstart.yaml --force "$@"
echo "top 10 for user 7 (items they already have excluded):"
./build/aisle recommend --artifact runs/quickstart/artifact --user 7 -k 10 --exclude-seen
