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
#                                      into DIR/payload.tar.xz, with a copy of this script (which
#                                      unpacks the payload beside itself on first use).
#   DIR/gpu_check.sh run [--bench] [--train] [--no-sanitizer]
#                                      on the GPU machine, from the repository root: checks the
#                                      packed binaries (tests, then memcheck and racecheck unless
#                                      --no-sanitizer); --bench also runs the CUDA microbenchmarks;
#                                      --train trains the shipped recipes on the GPU (quickstart, and
#                                      the MovieLens-100K, Gowalla and Online Retail ones when `pack`
#                                      found ../shared/data; the Gowalla LightGCN and NGCF recipes
#                                      for one epoch and a full-ranking evaluation). Logs go to $OUT/gpu-check.tgz (or
#                                      DIR/results) with the printed table in $OUT/gpu-check.txt
#                                      ($GPU_CHECK_NAME replaces gpu-check when set).
#                                      GPU_CHECK_TESTS, GPU_CHECK_BENCHES, GPU_CHECK_PEERS: space-separated
#                                      names (bpr_mf_test, bench_eval, torch_bpr) to run only those;
#                                      GPU_CHECK_FILTER: a gtest filter (default *Cuda*);
#                                      GPU_CHECK_SANITIZER_TIMEOUT: seconds per sanitizer run (240).
#   DIR/gpu_check.sh scale WORKDIR STAGE...
#                                      on the GPU machine: the 100M-row table and 1B-interaction
#                                      BPR epochs (tools/bench/scale_check.sh; stages table-data,
#                                      table, stream-data, stream, one per device call).
#   DIR/gpu_check.sh graph MODEL [EPOCHS]
#                                      on the GPU machine: MODEL (lightgcn, ngcf, graphsage) on the
#                                      GPU against its PyTorch peer on the same GPU
#                                      (tools/bench/graph_vs_torch.sh with DEVICE=cuda; Gowalla from
#                                      the pack, GraphSAGE on the synthetic shop; PyG from the pack
#                                      (GPU_CHECK_PACK_PYG=1 at pack time) when the machine has
#                                      none). Output in $OUT/graph-MODEL.txt. (`run --train`
#                                      times one LightGCN and one NGCF epoch with a full-ranking
#                                      evaluation: issue 6's under 1 s.)
#   DIR/gpu_check.sh quality start|wait RUNDIR [SECONDS]
#                                      on the GPU machine: issue 6's LightGCN quality run
#                                      (recipes/gowalla-lightgcn.yaml, 1,000 epochs, evaluated every
#                                      25) in the background; `wait` prints its curve after up to
#                                      SECONDS, into $OUT/quality.txt too. Start it first in a
#                                      lease and keep timed stages until it ends: it shares the GPU.
#                                      Beside it runs the PyTorch reference implementation
#                                      (peers/torch_lightgcn_quality.py, RUNDIR.peer.jsonl), so the
#                                      two curves meet at the same epochs.
#   DIR/gpu_check.sh agenda start|wait RESULTS [SECONDS]
#                                      on the GPU machine: all of the above in one background job
#                                      (quality run; tests; sanitizers on the never-run suites;
#                                      benchmarks and recipes; graph peers; the 100M-row table),
#                                      followed by `wait` calls that return the log and
#                                      $OUT/agenda.tgz. The order a first GPU session should use.
# Exit status is non-zero when any CUDA test fails or a sanitizer reports an error.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-local}

run_checks() {  # $1 = directory holding tests/ (test binaries); $2 = where results go; $3 = 1 to sanitize
  local tests_dir=$1 out=$2 sanitize=${3:-1} status=0
  mkdir -p "$out"
  local sanitizer
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  [[ -x $sanitizer ]] || sanitizer=""
  [[ $sanitize == 1 ]] || sanitizer=""
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null \
    | sed 's/^/gpu: /' || echo "gpu: nvidia-smi unavailable"
  printf '\n%-22s %6s %6s %7s  %s\n' "test binary" "passed" "failed" "skipped" "memcheck"
  local total_passed=0 total_skipped=0
  for bin in "$tests_dir"/*_test; do
    [[ -x $bin ]] || continue
    [[ -n ${GPU_CHECK_TESTS:-} && " $GPU_CHECK_TESTS " != *" $(basename "$bin") "* ]] && continue
    local name log passed failed skipped mem
    name=$(basename "$bin")
    log="$out/$name.log"
    "$bin" --gtest_filter="${GPU_CHECK_FILTER:-*Cuda*}" >"$log" 2>&1
    local rc=$?
    passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    [[ $rc -ne 0 ]] && status=1
    total_passed=$((total_passed + ${passed:-0}))
    total_skipped=$((total_skipped + ${skipped:-0}))
    if [[ -n $sanitizer && ${passed:-0} -gt 0 ]]; then
      # memcheck slows kernels 10-100x: bound each binary so one slow suite cannot eat the lease
      # Sanitizers slow kernels 10-100x: bound each run so one slow suite cannot eat the lease.
      mem=""
      for tool in memcheck racecheck; do
        if timeout "${GPU_CHECK_SANITIZER_TIMEOUT:-240}" "$sanitizer" --tool $tool --error-exitcode 99 "$bin" \
            --gtest_filter="${GPU_CHECK_FILTER:-*Cuda*}" \
            >"$out/$name.$tool.log" 2>&1; then
          mem+="$tool clean "
        else
          mem+="$tool ERRORS($name.$tool.log) "
          status=1
        fi
      done
    else
      mem=$([[ -z $sanitizer ]] && echo "no sanitizer run" || echo "not run (nothing passed)")
    fi
    printf '%-22s %6s %6s %7s  %s\n' "$name" "${passed:-0}" "${failed:-0}" "${skipped:-0}" "$mem"
  done
  if [[ $total_passed -eq 0 && $total_skipped -gt 0 ]]; then
    echo "no CUDA test ran: every one skipped (no usable GPU; see the *.log files)" >&2
    status=1
  fi
  return $status
}

run_benchmarks() {  # $1 = directory holding bench/ ; $2 = results dir. Run from the repository root.
  mkdir -p "$2"
  for b in "$1"/bench/bench_*; do
    [[ -x $b ]] || continue
    [[ -n ${GPU_CHECK_BENCHES:-} && " $GPU_CHECK_BENCHES " != *" $(basename "$b") "* ]] && continue
    "$b" --benchmark_filter='.*[Cc]uda.*' --benchmark_min_time=0.2 \
      --benchmark_out="$2/$(basename "$b").json" --benchmark_out_format=json >"$2/$(basename "$b").txt" 2>&1
  done
  # The PyTorch peers on the same GPU, then one table joining both sides by benchmark name.
  if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    for peer in tools/bench/peers/torch_*.py; do
      [[ $peer == */torch_common.py ]] && continue
      [[ -n ${GPU_CHECK_PEERS:-} && " $GPU_CHECK_PEERS " != *" $(basename "$peer" .py) "* ]] && continue
      local extra=""
      [[ $peer == */torch_bpr.py && -f $1/data/gowalla/train.txt.xz ]] && extra=$1/data/gowalla/train.txt.xz
      # shellcheck disable=SC2086
      timeout 300 python3 "$peer" cuda $extra >"$2/peer_$(basename "$peer" .py).jsonl" 2>"$2/peer_$(basename "$peer" .py).err"
    done
  fi
  echo
  python3 tools/bench/compare.py "$2"
}

run_training() {  # $1 = packed dir (aisle binary, data/); $2 = results dir. Trains each recipe on cuda.
  local dir=$1 out=$2 status=0
  mkdir -p "$out/runs"
  local -a jobs=("quickstart|recipes/quickstart.yaml|")
  [[ -f $dir/data/ml-100k/u.data.xz ]] && jobs+=("ml100k-mf|recipes/movielens-100k-mf.yaml|--set data.input=$dir/data/ml-100k/u.data.xz")
  local gowalla="--set data.input=$dir/data/gowalla/train.txt.xz --set data.test=$dir/data/gowalla/test.txt.xz"
  if [[ -f $dir/data/gowalla/train.txt.xz ]]; then
    jobs+=("gowalla-bpr|recipes/gowalla-bpr.yaml|$gowalla")
    # The graph recipes run for 1,000 epochs: one epoch and one full-ranking evaluation each here.
    for m in lightgcn ngcf; do
      jobs+=("gowalla-$m|recipes/gowalla-$m.yaml|$gowalla --set train.epochs=1 --set eval.every=1 --set train.checkpoint_every=0")
    done
  fi
  [[ -f $dir/data/online-retail/online_retail.csv.xz ]] && jobs+=("retail-als|recipes/online-retail-als.yaml|--set data.input=$dir/data/online-retail/online_retail.csv.xz")
  printf '\n%-16s %5s %9s %9s %15s  %s\n' "recipe" "exit" "wall_s" "train_s" "epoch/eval_s" "device, test metrics"
  for job in "${jobs[@]}"; do
    IFS='|' read -r name recipe extra <<<"$job"
    local rd="$out/runs/$name" t0 t1 rc
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    timeout 300 "$dir/aisle" train "$recipe" --set device=cuda --set export.dir="$rd/artifact" $extra \
      --run-dir "$rd" --force --quiet >"$out/runs/$name.log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    [[ $rc -ne 0 ]] && status=1
    read -r train_s epoch_eval rest <<<"$(python3 tools/bench/run_summary.py "$rd")"
    printf '%-16s %5s %9.1f %9s %15s  %s\n' "$name" "$rc" "$(python3 -c "print($t1 - $t0)")" "$train_s" "$epoch_eval" "$rest"
  done
  return $status
}

use_pack() {  # the unpacked pack: its libaisle and non-CUDA libraries, with the GPU machine's CUDA
  # `pack` leaves one compressed payload (the binaries alone pass the device tool's 64 MiB carry
  # limit): unpack it beside this script once, or into a scratch folder where that is read-only.
  if [[ -f $here/payload.tar.xz && ! -d $here/tests ]]; then
    local into=$here
    [[ -w $here ]] || into=$(mktemp -d)
    tar xJf "$here/payload.tar.xz" -C "$into" 2>/dev/null \
      || python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$here/payload.tar.xz" "$into" \
      || { echo "gpu_check.sh: cannot unpack $here/payload.tar.xz" >&2; exit 1; }
    [[ $into == "$here" ]] || { cp "$here/gpu_check.sh" "$into/"; here=$into; }
  fi
  export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
  # A CUDA library the toolkit there lacks (cuBLAS, or NCCL, which CUDA toolkits do not ship and
  # libaisle links since the NCCL backend): use the copies in PyTorch's pip wheels (nvidia/*/lib).
  if [[ -n $(missing_libraries) ]]; then
    for d in $(python3 -c 'import nvidia, os; print(" ".join(os.path.join(p, s, "lib") for p in nvidia.__path__ for s in os.listdir(p)))' 2>/dev/null); do
      [[ -d $d ]] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
    done
  fi
  local missing
  missing=$(missing_libraries)
  [[ -z $missing ]] || echo "gpu_check.sh: libaisle still lacks: $missing (the packed binaries will not start)" >&2
}

missing_libraries() {  # the shared libraries the packed libaisle needs and the loader cannot find
  [[ -f $here/lib/libaisle.so ]] || return 0
  ldd "$here/lib/libaisle.so" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' '
}

# Jobs that outlive a device call (quality, agenda) run in their own process session, their pid in
# a file, and later calls follow them by polling.
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }  # PIDFILE
launch() {  # PIDFILE LOG COMMAND...: COMMAND in the background, appending to LOG
  local pidfile=$1 log=$2
  shift 2
  setsid nohup "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}
follow() {  # PIDFILE SECONDS: wait while the job lives, at most SECONDS
  local end=$((SECONDS + $2))
  while alive "$1" && ((SECONDS < end)); do sleep 5; done
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
    # With GPU_CHECK_PACK_PYG=1: PyTorch Geometric and the packages it imports (11 MB), for the
    # graph peers on a GPU machine that has PyTorch but no package registry (`graph` puts them on
    # PYTHONPATH only when the machine has no torch_geometric of its own; xxhash and psutil carry
    # compiled parts built for this machine's Python, so a different Python there fails the PyG
    # cases). Opt-in because the device tool carries 64 MiB in all.
    [[ ${GPU_CHECK_PACK_PYG:-0} == 1 ]] && { python3 - "$dest/python" <<'PY' || echo "no torch_geometric here: not packed"
import importlib, os, shutil, sys
names = ["torch_geometric", "psutil", "xxhash", "tqdm", "requests", "urllib3", "idna", "charset_normalizer", "certifi"]
for name in names:
    path = os.path.dirname(importlib.import_module(name).__file__)
    shutil.copytree(path, os.path.join(sys.argv[1], name), ignore=shutil.ignore_patterns("__pycache__"))
PY
    }
    # Public datasets for `run --train` (never committed; they travel only in the pack).
    for d in ml-100k gowalla online-retail; do
      [[ -d $root/../shared/data/$d ]] && mkdir -p "$dest/data" && cp -r "$root/../shared/data/$d" "$dest/data/"
    done
    # One xz payload: 68 MB of files (datasets included) -> 19 MB, 2026-11-24.
    chmod -R u+w "$dest"
    (cd "$dest" && tar cf - --exclude=gpu_check.sh . | xz -T0 -6 > ../.payload.$$ && rm -rf ./* \
      && mv ../.payload.$$ payload.tar.xz && cp "$here/gpu_check.sh" gpu_check.sh) \
      || { echo "gpu_check.sh: packing $dest failed" >&2; exit 1; }
    du -sh "$dest"
    (( $(du -sm "$dest" | cut -f1) < 64 )) || echo "warning: $dest is over the device tool's 64 MiB carry limit" >&2
    ;;
  scale)
    # Issue 5's 100M-row table and 1B-interaction epochs with the packed aisle (see
    # tools/bench/scale_check.sh); results in WORKDIR/results.jsonl, copied to $OUT when set.
    use_pack
    shift
    work=${1:?usage: gpu_check.sh scale WORKDIR STAGE...}
    shift
    mkdir -p "$(dirname "$work")"
    status=0
    bash tools/bench/scale_check.sh "$here/aisle" "$work" "$@" 2>&1 | tee -a "$work.log" || status=1
    [[ -n ${OUT:-} && -f $work/results.jsonl ]] && cp "$work/results.jsonl" "$work.log" "$OUT/"
    exit $status
    ;;
  graph)
    use_pack
    model=${2:?usage: gpu_check.sh graph MODEL [EPOCHS]}
    epochs=${3:-3}
    python3 -c 'import torch_geometric' 2>/dev/null || export PYTHONPATH="$here/python:${PYTHONPATH:-}"
    data=""
    [[ $model == graphsage ]] || data=$here/data/gowalla
    [[ $model == lightgcn ]] && export PEER_CASES=${PEER_CASES:-coo,csr_sym,pyg}
    report="${OUT:-$here}/graph-$model.txt"
    {
      echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
      nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /'
      DEVICE=cuda MODEL=$model bash tools/bench/graph_vs_torch.sh "$data" "$here/aisle" "$(nproc)" "$epochs"
    } 2>&1 | tee "$report"
    exit "${PIPESTATUS[0]}"
    ;;
  quality)
    # Issue 6's quality target (LightGCN on Gowalla, the paper's 1,000 epochs) on the GPU, in the
    # background so that the other stages can share the lease: `start` launches or resumes the run
    # in its own process session (it lives until the machine is given back) and returns; `wait`
    # follows it for up to SECONDS and prints the curve. The run checkpoints every 10 epochs, so a
    # machine taken back mid-run loses at most 10 epochs of a run resumed in the same RUNDIR.
    use_pack
    action=${2:?usage: gpu_check.sh quality start|wait RUNDIR [SECONDS]}
    rd=${3:?usage: gpu_check.sh quality start|wait RUNDIR [SECONDS]}
    case $action in
      start)
        [[ -f $here/data/gowalla/train.txt.xz ]] || { echo "gpu_check.sh quality: no Gowalla in the pack" >&2; exit 1; }
        alive "$rd.pid" && { echo "already running: pid $(cat "$rd.pid")"; exit 0; }
        resume=() extra=()
        [[ -d $rd/checkpoints ]] && resume=(--resume)
        # GPU_CHECK_QUALITY_SET="device=cpu train.epochs=2": further overrides (a dry run without a GPU).
        for kv in ${GPU_CHECK_QUALITY_SET:-}; do extra+=(--set "$kv"); done
        mkdir -p "$(dirname "$rd")"
        launch "$rd.pid" "$rd.log" "$here/aisle" train recipes/gowalla-lightgcn.yaml --set device=cuda \
          --set data.input="$here/data/gowalla/train.txt.xz" --set data.test="$here/data/gowalla/test.txt.xz" \
          --set train.checkpoint_every=10 --set eval.every=25 "${extra[@]}" --run-dir "$rd" "${resume[@]}" --quiet
        echo "quality run started in $rd (pid $(cat "$rd.pid")${resume:+, resumed})"
        # Beside it, the PyTorch implementation of the reference code (tools/bench/peers/
        # torch_lightgcn_quality.py: same model, sampling and metrics; it matched Aisle within ~1% over
        # epochs 1-5 on the CPU), so the two curves can be compared at the same epochs on one GPU. It
        # cannot resume: each session's peer starts from epoch 0. Off with GPU_CHECK_QUALITY_PEER=0
        # and in dry runs; the agenda stops it before timing anything.
        if [[ ${GPU_CHECK_QUALITY_PEER:-1} == 1 && -z ${GPU_CHECK_QUALITY_SET:-} ]] && ! alive "$rd.peer.pid" &&
          python3 -c 'import torch' 2>/dev/null; then
          launch "$rd.peer.pid" "$rd.peer.jsonl" python3 tools/bench/peers/torch_lightgcn_quality.py cuda \
            "$here/data/gowalla/train.txt.xz" "$here/data/gowalla/test.txt.xz" --epochs 1000 --eval-every 25
          echo "PyTorch reference run started: $rd.peer.jsonl (pid $(cat "$rd.peer.pid"))"
        fi
        ;;
      wait)
        follow "$rd.pid" "${4:-0}"
        alive "$rd.pid" && echo "still running" || echo "not running"
        tail -n 3 "$rd.log" 2>/dev/null
        python3 tools/bench/quality_curve.py "$rd" | tee ${OUT:+"$OUT/quality.txt"}
        [[ -n ${OUT:-} && -f $rd/metrics.jsonl ]] && cp "$rd/metrics.jsonl" "$OUT/quality-metrics.jsonl"
        if [[ -f $rd.peer.jsonl ]]; then
          echo "PyTorch reference ($(alive "$rd.peer.pid" && echo running || echo stopped)):"
          grep '^{' "$rd.peer.jsonl" | tail -n 4
          [[ -n ${OUT:-} ]] && cp "$rd.peer.jsonl" "$OUT/quality-peer.jsonl"
        fi
        ;;
      *) echo "gpu_check.sh quality: unknown action '$action' (start or wait)" >&2; exit 2 ;;
    esac
    ;;
  agenda)
    # A GPU session's whole list as one background job, so that no device time is lost between
    # calls (the machine stays warm while calls follow each other): `agenda start DIR`, then
    # `agenda wait DIR 540` calls until it reports "finished". Stages, each bounded, in order:
    # the LightGCN quality run in the background; every CUDA test; memcheck and racecheck on the
    # suites of the code that has never run on a GPU; then, once the quality run is done (timings
    # want the GPU to themselves), the benchmarks with the recipes trained on the GPU, the graph
    # models against PyTorch, and the 100M-row table. Results: DIR/*.txt, DIR/agenda.log.
    action=${2:?usage: gpu_check.sh agenda start|wait DIR [SECONDS]}
    dir=${3:?usage: gpu_check.sh agenda start|wait DIR [SECONDS]}
    mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
    case $action in
      start)
        alive "$dir/agenda.pid" && { echo "agenda already running (pid $(cat "$dir/agenda.pid"))"; exit 0; }
        launch "$dir/agenda.pid" "$dir/agenda.log" bash "$here/gpu_check.sh" agenda run "$dir"
        echo "agenda started (pid $(cat "$dir/agenda.pid")): $dir/agenda.log"
        ;;
      run)  # the background job itself
        stage() {  # NAME LIMIT_S COMMAND...: one bounded stage whose outputs land in DIR
          local name=$1 limit=$2 rc
          shift 2
          echo "== $(date -u +%H:%M:%S) $name (limit ${limit} s)"
          OUT=$dir GPU_CHECK_NAME=$name timeout "$limit" "$@" >"$dir/$name.out" 2>&1
          rc=$?
          echo "== $(date -u +%H:%M:%S) $name exit $rc"
        }
        me="$here/gpu_check.sh"
        "$me" quality start "$dir/quality-run"
        stage tests 480 "$me" run --no-sanitizer
        stage sanitizer 600 env GPU_CHECK_SANITIZER_TIMEOUT=90 GPU_CHECK_TESTS="sort_test scatter_test \
negative_sampler_test neighbor_sampler_test segment_reduce_test embedding_update_test half_table_test \
layer_norm_test embedding_test mask_items_test spmm_test" "$me" run
        echo "== $(date -u +%H:%M:%S) waiting for the quality run (up to 20 min)"
        "$me" quality wait "$dir/quality-run" 1200 >"$dir/quality.out" 2>&1
        alive "$dir/quality-run.peer.pid" && kill -- -"$(cat "$dir/quality-run.peer.pid")" 2>/dev/null  # timings next
        stage bench 600 env GPU_CHECK_TESTS=none "$me" run --bench --train
        for m in lightgcn ngcf graphsage; do stage "graph-$m" 480 "$me" graph "$m"; done
        stage scale-table 1200 "$me" scale "$dir/scale/work" table-data table
        echo "== $(date -u +%H:%M:%S) finished"
        ;;
      wait)
        follow "$dir/agenda.pid" "${4:-0}"
        alive "$dir/agenda.pid" && echo "agenda still running" || echo "agenda not running"
        cat "$dir/agenda.log" 2>/dev/null
        "$here/gpu_check.sh" quality wait "$dir/quality-run" 0 2>/dev/null | tail -n 12
        if [[ -n ${OUT:-} ]]; then
          cp "$dir/agenda.log" "$OUT/" 2>/dev/null
          tar czf "$OUT/agenda.tgz" -C "$dir" --exclude=checkpoints --exclude=artifact --exclude=data \
            --exclude=scale --exclude='*.pid' .
        fi
        ;;
      *) echo "gpu_check.sh agenda: unknown action '$action' (start or wait)" >&2; exit 2 ;;
    esac
    ;;
  run)
    use_pack
    shift
    bench=0 train=0 sanitize=1
    for arg in "$@"; do
      case "$arg" in
        --bench) bench=1 ;;
        --train) train=1 ;;
        --no-sanitizer) sanitize=0 ;;
        *) echo "gpu_check.sh run: unknown option '$arg'" >&2; exit 2 ;;
      esac
    done
    work=$(mktemp -d)
    (
      status=0
      echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
      run_checks "$here/tests" "$work/tests" "$sanitize" || status=1
      [[ $bench == 1 ]] && { run_benchmarks "$here" "$work/bench" || status=1; }
      [[ $train == 1 ]] && { run_training "$here" "$work/train" || status=1; }
      exit $status
    ) 2>&1 | tee "$work/summary.txt" ${OUT:+"$OUT/${GPU_CHECK_NAME:-gpu-check}.txt"}
    status=${PIPESTATUS[0]}
    if [[ -n ${OUT:-} ]]; then
      name=${GPU_CHECK_NAME:-gpu-check}  # lets one device call keep the results of several runs
      tar czf "$OUT/$name.tgz" -C "$work" --exclude=checkpoints --exclude=artifact --exclude=data .
    else
      rm -rf "$here/results" && mv "$work" "$here/results"
    fi
    exit $status
    ;;
  *)
    echo "usage: gpu_check.sh [local | pack DIR | run [--bench] [--train] [--no-sanitizer] | scale WORKDIR STAGE..." \
      "| graph MODEL [EPOCHS] | quality start|wait RUNDIR [SECONDS] | agenda start|wait RESULTS [SECONDS]]" >&2
    exit 2
    ;;
esac
