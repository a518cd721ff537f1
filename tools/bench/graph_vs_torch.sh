#!/usr/bin/env bash
# A graph model's training epoch on Gowalla (GraphSAGE: on the synthetic shop) on this machine's
# CPU (or its GPU with DEVICE=cuda), Aisle against PyTorch, side by side: Aisle's recipes/gowalla-$MODEL.yaml (GraphSAGE:
# recipes/synthetic-graphsage.yaml; evaluation off; the epoch time from the run's metrics.jsonl,
# the median of the epochs after the first when there are several) and
# tools/bench/peers/torch_$MODEL.py with the same settings and the same thread count (OMP_NUM_THREADS
# for Aisle, torch.set_num_threads for PyTorch), then each peer case's time over Aisle's: the
# speed-up (issue 6's CPU target for LightGCN is >= 2x, issue 5's for every model 1.5x). The
# 1-minute load average and the time are printed before and after each run, as both runs see
# whatever else the machine is doing.
#   tools/bench/graph_vs_torch.sh [GOWALLA_DIR] [AISLE] [THREADS] [EPOCHS]
# GOWALLA_DIR holds train.txt and test.txt (plain or .xz; default: shared/data/gowalla beside the
# checkout), AISLE defaults to build-base/aisle, THREADS to 2, EPOCHS to 3. With MODEL=graphsage
# the first argument is instead SHOP_DIR, the peer's copy of the recipe's synthetic shop as an Aisle
# dataset directory (e.g. a run's data/ folder; default: made with `aisle data synth` in a scratch
# directory). Aisle runs the recipe as it is, generating the shop into its run directory; then the
# script checks that the two shops' files are the same (meta.json's sha256s) and that the peer
# printed Aisle's data and graph lines (rows after dedup and split, nodes, edges per item feature,
# items without training rows). Environment:
#   MODEL              lightgcn (default), ngcf or graphsage
#   DEVICE             cpu (default) or cuda: Aisle's device= and the peer's device argument; on
#                      the GPU machine `gpu_check.sh graph MODEL` runs this with the packed aisle
#   PYTHON             a python3 with torch (default python3); torch_geometric adds LightGCN's pyg case
#   PEER_CASES         the peer's --cases (default coo,csr_sym: the reference code's COO adjacency
#                      and the symmetric-CSR variant; add pyg for PyG's LightGCN; GraphSAGE: pyg)
#   PEER_WARMUP_STEPS  steps of the peer's warm-up epoch (default 10; 0 runs a whole epoch)
#   PEER_STEPS         steps the peer times in each epoch (default 0: all). With N > 0 the peer's
#                      epochs are cut short and the speed-up compares time per step (Aisle's
#                      whole epochs against the peer's first N steps): NGCF's PyTorch epoch takes
#                      over ten minutes on 2 cores.
#   ORDER              aisle-first (default) or peer-first, to alternate between repeats
# Example: MODEL=ngcf PEER_STEPS=60 tools/bench/graph_vs_torch.sh ../shared/data/gowalla build-base/aisle 2 1
#          MODEL=graphsage tools/bench/graph_vs_torch.sh "" build-base/aisle 2 5
# One Gowalla epoch takes minutes on a 2-core CPU (every step propagates the whole graph).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
aisle=${2:-build-base/aisle}
threads=${3:-2}
epochs=${4:-3}
python=${PYTHON:-python3}
warmup=${PEER_WARMUP_STEPS:-10}
order=${ORDER:-aisle-first}
model=${MODEL:-lightgcn}
device=${DEVICE:-cpu}
[[ $device == cpu || $device == cuda ]] || { echo "DEVICE must be cpu or cuda, not '$device'" >&2; exit 2; }
peer_steps=${PEER_STEPS:-0}
[[ $model =~ ^(lightgcn|ngcf|graphsage)$ ]] || { echo "MODEL must be lightgcn, ngcf or graphsage, not '$model'" >&2; exit 2; }

pick() {  # the first of DIR/NAME and DIR/NAME.xz that exists
  if [[ -f "$1/$2" ]]; then echo "$1/$2"; elif [[ -f "$1/$2.xz" ]]; then echo "$1/$2.xz"; else
    echo "no $1/$2 or $1/$2.xz" >&2; exit 2; fi
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ $model == graphsage ]]; then
  shop=${1:-$work/shop}
  # recipes/synthetic-graphsage.yaml's data keys (the peer checks meta.json against them too):
  # made before either run, so that the peer can go first.
  [[ -f $shop/meta.json ]] || "$aisle" data synth --users 10000 --items 3000 --interactions 400000 --seed 42 \
    --categories 40 --days 365 --out "$shop" > /dev/null
  peer_input=$(realpath "$shop")
  recipe=synthetic-graphsage label=synthetic cases=${PEER_CASES:-pyg}
  aisle_data=(--set export.dir="\"\"")
else
  data=${1:-$root/../shared/data/gowalla}
  peer_input=$(realpath "$(pick "$data" train.txt)")
  recipe=gowalla-$model label=gowalla cases=${PEER_CASES:-coo,csr_sym}
  # The peers walk a shuffled permutation of the pairs: Aisle does the same here (the recipes draw
  # uniform users instead, at the same cost: |train| triples an epoch either way).
  aisle_data=(--set data.input="$peer_input" --set data.test="$(realpath "$(pick "$data" test.txt)")"
              --set train.pair_sampling=rows)
fi
load() { echo "$(cut -d' ' -f1 /proc/loadavg) at $(date +%T)"; }

run_aisle() {
  echo "aisle: $epochs epoch(s) on $device, $threads thread(s), load $(load)" >&2
  OMP_NUM_THREADS=$threads "$aisle" train "$root/recipes/$recipe.yaml" --run-dir "$work/run" --force \
    --quiet --set device="$device" "${aisle_data[@]}" --set train.epochs="$epochs" \
    --set eval.every=0 --set train.checkpoint_every=0 > "$work/aisle.log" 2>&1 || { cat "$work/aisle.log"; exit 1; }
  python3 - "$work/run" > "$work/aisle.ms" <<'PY'
import json, math, statistics, sys
events = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
epochs = [e for e in events if e.get("event") == "epoch"]
# Steps per epoch from the progress ticks (one every train.log_every seconds), else from the
# training rows and the batch size (one-process runs).
steps = next((e["steps"] for e in events if e.get("event") == "step"), 0) or math.ceil(
    events[0]["train_rows"] / json.load(open(sys.argv[1] + "/summary.json"))["hyperparameters"]["batch_size"])
times = [e["seconds"] for e in epochs[1:]] or [e["seconds"] for e in epochs]
print(statistics.median(times) * 1e3, steps)
print("aisle epochs_s:", [round(e["seconds"], 2) for e in epochs], file=sys.stderr)
PY
  echo "aisle done, load $(load)" >&2
}

run_peer() {
  echo "peer: $cases, warm-up $warmup step(s) + $epochs epoch(s) (steps: ${peer_steps/#0/all}), $threads thread(s), load $(load)" >&2
  (cd "$here/peers" && OMP_NUM_THREADS=$threads "$python" -W ignore "torch_$model.py" "$device" "$peer_input" \
    --epochs "$epochs" --threads "$threads" --warmup-steps "$warmup" --steps "$peer_steps" --cases "$cases") \
    > "$work/peer.jsonl" 2> "$work/peer.log" || { cat "$work/peer.log" >&2; exit 1; }
  cat "$work/peer.log" "$work/peer.jsonl" >&2
  echo "peer done, load $(load)" >&2
}

if [[ $order == peer-first ]]; then run_peer; run_aisle; else run_aisle; run_peer; fi
if [[ $model == graphsage ]]; then  # the peer prints Aisle's setup lines for the data and the graph
  python3 -c 'import json, sys; sys.exit(len({json.dumps(json.load(open(p))["files"]) for p in sys.argv[1:]}) != 1)' \
    "$peer_input/meta.json" "$work/run/data/meta.json" \
    || { echo "$peer_input is not the shop Aisle generated ($work/run/data)" >&2; exit 1; }
  lines='^  (deduplicated|split temporal|graph:)'
  diff <(grep -E "$lines" "$work/aisle.log") <(grep -E "$lines" "$work/peer.log") >&2 \
    || { echo "the peer's data or graph differs from Aisle's (above)" >&2; exit 1; }
  echo "data and graph: the peer's lines are Aisle's:" >&2
  grep -E "$lines" "$work/peer.log" >&2
fi

python3 - "$work/aisle.ms" "$work/peer.jsonl" "$threads" "$model" "$label" <<'PY'
import json, sys
aisle_ms, aisle_steps = open(sys.argv[1]).read().split()
aisle_ms, aisle_steps = float(aisle_ms), int(aisle_steps)
model = sys.argv[4]
print(f"{'case':<34} {'threads':>7} {'epoch_s':>9} {'ms/step':>8} {'speed-up of aisle':>18}")
print(f"{'aisle ' + model + ' (' + sys.argv[5] + ')':<34} {sys.argv[3]:>7} {aisle_ms / 1e3:9.2f} {aisle_ms / max(aisle_steps, 1):8.1f} {'':>18}")
for line in open(sys.argv[2]):
    row = json.loads(line)
    if "ms" not in row:
        print(f"{row['name']:<34} {row.get('note', '')}")
        continue
    if row.get("full_epoch", True):
        print(f"{row['name']:<34} {row['threads']:>7} {row['ms'] / 1e3:9.2f} {row['ms_per_step']:8.1f} {row['ms'] / aisle_ms:18.2f}")
    else:  # a cut-short epoch: compare the time per step
        print(f"{row['name']:<34} {row['threads']:>7} {'-':>9} {row['ms_per_step']:8.1f} "
              f"{row['ms_per_step'] / (aisle_ms / aisle_steps):18.2f}  (per step; first {row['steps']} steps)")
PY
