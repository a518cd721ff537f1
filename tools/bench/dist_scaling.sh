#!/usr/bin/env bash
# Throughput of a recipe on 1, 2, 4, ... ranks (mpirun on this machine's CPUs, or GPUs with
# --set device=cuda): epoch seconds (median of the epochs after the first), examples/s in all and
# per rank, and scaling efficiency (speed-up over one process / ranks), for replicated and
# row-sharded embedding tables. Threads per rank follow OMP_NUM_THREADS (set it to cores / ranks).
#   tools/bench/dist_scaling.sh AISLE RECIPE "1 2 4" [--set key=value ...]
# Example (Gowalla BPR on CPU ranks):
#   tools/bench/dist_scaling.sh build/aisle recipes/gowalla-bpr.yaml "1 2" --set data.input=.../train.txt.xz \
#     --set data.test=.../test.txt.xz --set device=cpu --set train.epochs=3
set -euo pipefail
aisle=$1 recipe=$2 ranks=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
printf "%-10s %5s %12s %14s %16s %10s\n" embeddings ranks epoch_s examples/s examples/s/rank efficiency
for embeddings in replicated sharded; do
  base=""
  for n in $ranks; do
    launcher=()
    if ((n > 1)); then launcher=(mpirun --oversubscribe --bind-to none -np "$n"); fi
    "${launcher[@]}" "$aisle" train "$recipe" --run-dir "$work/$embeddings-$n" --force --quiet \
      --set eval.every=0 --set dist.embeddings="$embeddings" "$@" \
      > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
    python3 - "$work/$embeddings-$n/metrics.jsonl" "$n" "$embeddings" "${base:-0}" > "$work/row" 2> "$work/seconds" <<'PY'
import json, statistics, sys
path, n, embeddings, base = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
epochs = [json.loads(l) for l in open(path) if '"event":"epoch"' in l.replace(" ", "")]
times = [e["seconds"] for e in epochs[1:]] or [e["seconds"] for e in epochs]
t = statistics.median(times)
examples = epochs[-1]["examples"]
rate = examples / t
eff = (base / t) / n if base > 0 else 1.0
print(f"{embeddings:<10} {n:5d} {t:12.3f} {rate:14.0f} {rate / n:16.0f} {eff:10.2f}")
print(t, file=sys.stderr)
PY
    cat "$work/row"
    if [[ -z "$base" ]]; then base=$(cat "$work/seconds"); fi
  done
done
