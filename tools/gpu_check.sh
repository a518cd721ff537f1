#!/usr/bin/env bash
# GPU check: run every CUDA test (the *Cuda* suites: CUDA-vs-CPU parity and GPU-only checks) and
# compute-sanitizer memcheck on them, then print a short table. Three ways to use it:
#
#   tools/gpu_check.sh                 on a GPU machine that has the build dependencies: builds
#                                      build-gpu (CUDA on, sm_90 unless CMAKE_CUDA_ARCHITECTURES is
#                                      set) and checks it.
#   tools/gpu_check.sh pack DIR        on a machine without a GPU (or without network on the GPU
#                                      side): builds for sm_90 and packs the test and benchmark
#                                      binaries, libaisle and the non-CUDA shared libraries they need
#                                      into DIR, with a copy of this script.
#   DIR/gpu_check.sh run [--bench]     on the GPU machine: checks the packed binaries; --bench also
#                                      runs the CUDA microbenchmarks into DIR/results/.
# Exit status is non-zero when any CUDA test fails or memcheck reports an error.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-local}

run_checks() {  # $1 = directory holding tests/ (test binaries); $2 = where results go
  local tests_dir=$1 out=$2 status=0
  mkdir -p "$out"
  local sanitizer
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  [[ -x $sanitizer ]] || sanitizer=""
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null \
    | sed 's/^/gpu: /' || echo "gpu: nvidia-smi unavailable"
  printf '\n%-22s %6s %6s %7s  %s\n' "test binary" "passed" "failed" "skipped" "memcheck"
  local total_passed=0 total_skipped=0
  for bin in "$tests_dir"/*_test; do
    [[ -x $bin ]] || continue
    local name log passed failed skipped mem
    name=$(basename "$bin")
    log="$out/$name.log"
    "$bin" --gtest_filter='*Cuda*' >"$log" 2>&1
    local rc=$?
    passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    [[ $rc -ne 0 ]] && status=1
    total_passed=$((total_passed + ${passed:-0}))
    total_skipped=$((total_skipped + ${skipped:-0}))
    if [[ -n $sanitizer && ${passed:-0} -gt 0 ]]; then
      # memcheck slows kernels 10-100x: bound each binary so one slow suite cannot eat the lease
      if timeout 600 "$sanitizer" --tool memcheck --error-exitcode 99 "$bin" --gtest_filter='*Cuda*' \
          >"$out/$name.memcheck.log" 2>&1; then
        mem=clean
      else
        mem="ERRORS (see $name.memcheck.log)"
        status=1
      fi
    else
      mem=$([[ -z $sanitizer ]] && echo "no compute-sanitizer" || echo "not run (nothing passed)")
    fi
    printf '%-22s %6s %6s %7s  %s\n' "$name" "${passed:-0}" "${failed:-0}" "${skipped:-0}" "$mem"
  done
  if [[ $total_passed -eq 0 && $total_skipped -gt 0 ]]; then
    echo "no CUDA test ran: every one skipped (no usable GPU; see the *.log files)" >&2
    status=1
  fi
  return $status
}

run_benchmarks() {  # $1 = directory holding bench/ ; $2 = results dir
  mkdir -p "$2"
  for b in "$1"/bench/bench_*; do
    [[ -x $b ]] || continue
    "$b" --benchmark_filter='.*[Cc]uda.*' --benchmark_min_time=0.2 \
      --benchmark_out="$2/$(basename "$b").json" --benchmark_out_format=json | tee "$2/$(basename "$b").txt"
  done
}

case "$mode" in
  local)
    root=$(cd "$here/.." && pwd)
    cmake -S "$root" -B "$root/build-gpu" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAISLE_CUDA=ON || exit 1
    cmake --build "$root/build-gpu" --parallel "$(nproc)" || exit 1
    run_checks "$root/build-gpu/tests" "$root/build-gpu/gpu-check"
    ;;
  pack)
    dest=${2:?usage: gpu_check.sh pack DIR}
    root=$(cd "$here/.." && pwd)
    cmake -S "$root" -B "$root/build-gpu" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAISLE_CUDA=ON \
      -DCMAKE_CUDA_ARCHITECTURES="${CMAKE_CUDA_ARCHITECTURES:-90}" || exit 1
    cmake --build "$root/build-gpu" --parallel "$(nproc)" || exit 1
    rm -rf "$dest" && mkdir -p "$dest/tests" "$dest/bench" "$dest/lib"
    cp "$root"/build-gpu/tests/*_test "$dest/tests/"
    cp "$root"/build-gpu/bench/bench_* "$dest/bench/" 2>/dev/null || true
    cp "$root/build-gpu/aisle" "$dest/" 2>/dev/null || true
    cp -P "$root"/build-gpu/src/libaisle.so* "$dest/lib/"
    # Non-CUDA shared libraries (the GPU machine has its own CUDA toolkit and C library).
    for f in "$dest"/tests/* "$dest"/bench/* "$dest"/aisle "$dest"/lib/libaisle.so; do ldd "$f" 2>/dev/null; done \
      | awk '/=> \// {print $3}' | sort -u \
      | grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so|/usr/local/cuda|libcuda\.so|libaisle' \
      | while read -r lib; do cp -L "$lib" "$dest/lib/"; done
    strip --strip-unneeded "$dest"/tests/* "$dest"/bench/* "$dest"/aisle "$dest"/lib/*.so* 2>/dev/null || true
    cp "$0" "$dest/gpu_check.sh"
    du -sh "$dest"
    ;;
  run)
    export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
    # No cuBLAS in the toolkit there? Use the copy that ships with PyTorch's pip wheels.
    if ! ls /usr/local/cuda/lib64/libcublas.so.* >/dev/null 2>&1; then
      for d in $(python3 -c 'import nvidia, os; print(" ".join(os.path.join(p, s, "lib") for p in nvidia.__path__ for s in os.listdir(p)))' 2>/dev/null); do
        [[ -d $d ]] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
      done
    fi
    out=${OUT:-$here/results}
    run_checks "$here/tests" "$out"
    status=$?
    [[ ${2:-} == --bench ]] && run_benchmarks "$here" "$out"
    exit $status
    ;;
  *)
    echo "usage: gpu_check.sh [local | pack DIR | run [--bench]]" >&2
    exit 2
    ;;
esac
