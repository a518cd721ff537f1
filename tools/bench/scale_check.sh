#!/usr/bin/env bash
# Issue 5's memory targets as runs of `aisle bench` (one BPR-MF epoch, no evaluation, no checkpoint):
#
#   table    a 100M-row x 64-dim f32 table with its optimizer state trains on one GPU: a synthetic
#            shop of TABLE_ROWS users with one interaction each, so user_factors has TABLE_ROWS rows;
#            one epoch per optimizer in TABLE_OPTIMIZERS (row-wise Adagrad: 4 bytes of state a row;
#            sparse Adam: two f32 moments a row, 3x the table).
#   stream   STREAM_ROWS interactions (1B) of the synthetic generator go through one BPR epoch
#            (STREAM_USERS users, STREAM_ITEMS items).
#
#   tools/bench/scale_check.sh AISLE WORKDIR STAGE...
#     AISLE    the aisle binary (e.g. .device-carry/aisle on the GPU machine, build/aisle here)
#     WORKDIR  where the synthetic shops are generated (kept: a later call reuses them) and the
#              results go (WORKDIR/results.jsonl, one `aisle bench --json` object per run, with
#              the stage, the optimizer and the generator's seconds added)
#     STAGE    table-data, table, stream-data, stream (each fits the device tool's 10-minute
#              command limit on its own; "table" and "stream" generate their data when missing)
#   DEVICE (cuda), FACTORS (64), BATCH (65536), THREADS (all): the bench's settings.
#
# Peak host memory is the process's max RSS, which counts the memory-mapped dataset columns it
# touched (30 bytes a row, file-backed, reclaimable) beside its own allocations.
set -euo pipefail
aisle=${1:?usage: scale_check.sh AISLE WORKDIR STAGE...}
work=${2:?usage: scale_check.sh AISLE WORKDIR STAGE...}
shift 2
[[ $# -gt 0 ]] || { echo "scale_check.sh: name at least one stage (table-data, table, stream-data, stream)" >&2; exit 2; }
aisle=$(cd "$(dirname "$aisle")" && pwd)/$(basename "$aisle")
[[ -x $aisle ]] || { echo "scale_check.sh: $aisle is not an executable" >&2; exit 2; }
mkdir -p "$work"
work=$(cd "$work" && pwd)

: "${DEVICE:=cuda}" "${FACTORS:=64}" "${BATCH:=65536}" "${THREADS:=0}"
: "${TABLE_ROWS:=100000000}" "${TABLE_ITEMS:=100000}" "${TABLE_OPTIMIZERS:=rowwise_adagrad adam}"
: "${STREAM_ROWS:=1000000000}" "${STREAM_USERS:=10000000}" "${STREAM_ITEMS:=1000000}"

# $1 = directory, then `aisle data synth` options. Generates unless a finished shop is there.
synth() {
  local dir=$1
  shift
  if [[ -f $dir/meta.json ]]; then
    echo "reusing $dir"
    return
  fi
  local t0 t1
  t0=$(date +%s.%N)
  "$aisle" data synth --out "$dir" --force --threads "$THREADS" "$@"
  t1=$(date +%s.%N)
  python3 -c "print($t1 - $t0)" >"$dir.seconds"
}

# $1 = stage, $2 = dataset dir, $3 = optimizer. One epoch, all rows in train: nothing to evaluate.
bench() {
  local stage=$1 data=$2 optimizer=$3 recipe="$work/$1.yaml"
  cat >"$recipe" <<EOF
name: scale-$stage
seed: 1
device: $DEVICE
data:
  source: dataset
  path: $data
  split:
    method: random
    train: 1.0
    test: 0.0
model:
  type: bpr
  factors: $FACTORS
train:
  batch_size: $BATCH
  optimizer: $optimizer
  lr: 0.05
EOF
  echo "== $stage: one BPR epoch over $data, optimizer $optimizer, on $DEVICE"
  local json rc=0
  json=$("$aisle" bench "$recipe" --epochs 1 --json) || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "$stage ($optimizer): aisle bench exited $rc" >&2
    python3 -c "import json,sys; print(json.dumps({'stage': sys.argv[1], 'optimizer': sys.argv[2], 'exit': int(sys.argv[3])}))" \
      "$stage" "$optimizer" "$rc" >>"$work/results.jsonl"
    return $rc
  fi
  python3 - "$stage" "$optimizer" "$data" "$json" >>"$work/results.jsonl" <<'PY'
import json, os, sys
stage, optimizer, data, out = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
out.update(stage=stage, optimizer=optimizer, dataset=data)
meta = json.load(open(os.path.join(data, "meta.json")))
out["rows"] = meta["counts"]["interactions"]
if os.path.exists(data + ".seconds"):
    out["generate_seconds"] = float(open(data + ".seconds").read())
print(json.dumps(out))
PY
  tail -1 "$work/results.jsonl" | python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
dev = ", peak device %.1f GiB" % (j["peak_device_MiB"] / 1024) if "peak_device_MiB" in j else ""
print("   epoch %.1f s (%.2fM examples/s), wall %.1f s, peak host %.1f GiB%s" % (
    j["epoch_seconds_median"], j["examples_per_second_median"] / 1e6, j["wall_seconds"], j["peak_host_MiB"] / 1024, dev))'
}

for stage in "$@"; do
  case "$stage" in
    table-data) synth "$work/shop-table" --users "$TABLE_ROWS" --items "$TABLE_ITEMS" --interactions "$TABLE_ROWS" ;;
    table)
      synth "$work/shop-table" --users "$TABLE_ROWS" --items "$TABLE_ITEMS" --interactions "$TABLE_ROWS"
      for optimizer in $TABLE_OPTIMIZERS; do bench table "$work/shop-table" "$optimizer" || true; done
      ;;
    stream-data) synth "$work/shop-stream" --users "$STREAM_USERS" --items "$STREAM_ITEMS" --interactions "$STREAM_ROWS" ;;
    stream)
      synth "$work/shop-stream" --users "$STREAM_USERS" --items "$STREAM_ITEMS" --interactions "$STREAM_ROWS"
      bench stream "$work/shop-stream" rowwise_adagrad || true
      ;;
    *) echo "scale_check.sh: unknown stage '$stage' (table-data, table, stream-data, stream)" >&2; exit 2 ;;
  esac
done
