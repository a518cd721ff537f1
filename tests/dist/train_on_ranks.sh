#!/usr/bin/env bash
# The same BPR recipe on 1, 2 and 4 ranks (mpirun on CPU ranks), end to end through `aisle train`:
#   - 2 and 4 ranks, replicated or row-sharded tables, reach the one-process parameters (and so
#     does LightGCN on 4 ranks, whose dense gradients are all-reduced);
#   - a run checkpointed on 4 sharded ranks resumes on 2 ranks (re-cut shards) to the same end,
#     and `aisle export` on one process assembles the whole model from the shards, bit for bit;
#   - a rank killed mid-run ends the job promptly with mpirun's message.
# usage: train_on_ranks.sh AISLE COMPARE_ARTIFACTS MPIRUN RECIPE WORK_DIR
set -euo pipefail
aisle=$1 compare=$2 mpirun=$3 recipe=$4 work=$5
rm -rf "$work"
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# 30 steps per epoch; 250 is not a multiple of 4, so some ranks get padded shares.
small=(--quiet --set data.users=300 --set data.items=200 --set data.interactions=9000 --set train.batch_size=250
       --set train.lr=0.02 --set eval.every=0 --set train.checkpoint_every=1 --set export.overwrite=true)
tolerance=2e-5

train() {  # train RUN RANKS EMBEDDINGS EPOCHS [extra args]
  local run=$1 ranks=$2 embeddings=$3 epochs=$4
  shift 4
  local launcher=()
  if ((ranks > 1)); then launcher=("$mpirun" --oversubscribe -np "$ranks"); fi
  "${launcher[@]}" "$aisle" train "$recipe" --run-dir "$work/$run" "${small[@]}" --set train.epochs="$epochs" \
    --set dist.embeddings="$embeddings" --set export.dir="$work/$run/artifact" "$@"
}
same() {  # same A B TOLERANCE WHAT
  echo "-- $4"
  "$compare" "$1" "$2" "$3" || { echo "FAILED: $4"; exit 1; }
}

train one 1 replicated 2 --force
train two 2 replicated 2 --force
train two-sharded 2 sharded 2 --force
train four-sharded 4 sharded 2 --force
grep -q '"ranks": 4' "$work/four-sharded/summary.json" || { echo "FAILED: summary.json does not record 4 ranks"; exit 1; }
same "$work/one/artifact" "$work/two/artifact" "$tolerance" "2 replicated ranks = 1 process"
same "$work/one/artifact" "$work/two-sharded/artifact" "$tolerance" "2 sharded ranks = 1 process"
same "$work/one/artifact" "$work/four-sharded/artifact" "$tolerance" "4 sharded ranks = 1 process"
same "$work/two/artifact" "$work/two-sharded/artifact" "$tolerance" "sharded = replicated on 2 ranks"
[[ -d "$work/four-sharded/checkpoints/.shards/epoch-0002-step-00000000/rank-00003" ]] ||
  { echo "FAILED: no per-rank shard of the 4-rank checkpoint"; exit 1; }

# LightGCN: data parallel with dense gradients all-reduced in buckets.
train lightgcn-one 1 replicated 2 --force --set model.type=lightgcn --set model.layers=2
train lightgcn-four 4 replicated 2 --force --set model.type=lightgcn --set model.layers=2
same "$work/lightgcn-one/artifact" "$work/lightgcn-four/artifact" "$tolerance" "LightGCN on 4 ranks = 1 process"

# One process assembles the whole model from the 4 shards of the last checkpoint.
"$aisle" export "$work/four-sharded" --out "$work/four-exported" --force > /dev/null
same "$work/four-sharded/artifact" "$work/four-exported" 0 "export on 1 process = the 4-rank artifact"

# Resharded resume: drop the final checkpoint of the 4-rank run, continue epoch 2 on 2 ranks.
rm -rf "$work/four-sharded/checkpoints/epoch-0002-step-00000000" "$work/four-sharded/artifact"
train four-sharded 2 sharded 2 --resume
same "$work/one/artifact" "$work/four-sharded/artifact" "$tolerance" "4 ranks, resumed on 2 = 1 process"

# A rank killed mid-run: mpirun ends the whole job with an error instead of hanging.
train killed 2 sharded 100000 --force > "$work/killed.log" 2>&1 &
job=$!
for _ in $(seq 600); do
  [[ -d "$work/killed/checkpoints/epoch-0001-step-00000000" ]] && break
  sleep 0.1
done
victim=$(pgrep -f -- "--run-dir $work/killed" | while read -r pid; do
  [[ $(ps -o comm= -p "$pid") == aisle ]] && echo "$pid"; done | tail -n 1)
[[ -n "$victim" ]] || { echo "FAILED: no rank of the killed run found"; cat "$work/killed.log"; exit 1; }
start=$SECONDS
kill -9 "$victim"
status=0
timeout 60 tail --pid="$job" -f /dev/null || { echo "FAILED: the job outlived its killed rank by 60 s"; exit 1; }
wait "$job" || status=$?
echo "-- killed rank: mpirun exited $status after $((SECONDS - start)) s"
((status != 0)) || { echo "FAILED: the job with a killed rank exited 0"; exit 1; }
grep -q "exited on signal 9" "$work/killed.log" || { echo "FAILED: no message naming the killed rank"; cat "$work/killed.log"; exit 1; }
echo "all rank checks passed"
