#!/usr/bin/env bash
# The whole test suite, as CI runs it, from a fresh machine:
#  1. install dependencies (Debian packages);
#  2. release build with the CUDA backend compiled when nvcc is present, and every test
#     (CUDA tests skip cleanly without a GPU);
#  3. a CPU-only build under AddressSanitizer + UndefinedBehaviorSanitizer, and every test again;
#  4. a short libFuzzer run on the delimited-file parser.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)

bash tools/scripts/install-deps.sh
bash tools/scripts/install-python-checks.sh   # PyPI safetensors, to check exported artifacts

echo "== release build (AISLE_CUDA=AUTO) =="
bash tools/scripts/build.sh build -DAISLE_CUDA=AUTO
ctest --test-dir build --output-on-failure --parallel "$jobs"

echo "== sanitizer build (ASan + UBSan, CPU backend) =="
bash tools/scripts/build.sh build-sanitize -DAISLE_CUDA=OFF -DAISLE_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAISLE_BUILD_BENCHMARKS=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure --parallel "$jobs"

echo "== fuzzing the delimited-file parser (libFuzzer, ASan + UBSan, 60 s) =="
bash tools/fuzz/run.sh 60 "$root/build-sanitize/fuzz"

echo "== all tests passed =="
