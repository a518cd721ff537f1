#!/usr/bin/env bash
# Configures and builds Aisle into a build directory.
# usage: tools/scripts/build.sh BUILD_DIR [extra cmake -D options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: build.sh BUILD_DIR [cmake options]}
shift
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" --parallel "$(nproc)"
