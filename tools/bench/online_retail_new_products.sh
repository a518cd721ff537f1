#!/usr/bin/env bash
# Products added after export, on real data: GraphSAGE (recipes/online-retail-graphsage.yaml) is
# trained on the UCI Online Retail lines before a cut-off date and exported; the products first
# sold after it are added with `aisle add-items` from their description and price (and, as the
# control, with no values at all); each is scored against the later purchases of customers the
# model knows (tools/bench/new_products.py).
#
#   tools/bench/online_retail_new_products.sh ONLINE_RETAIL.csv[.xz] AISLE [CUTOFF] [EPOCHS] [WORKDIR] [--set KEY=VALUE ...]
#   e.g. tools/bench/online_retail_new_products.sh ../shared/data/online-retail/online_retail.csv.xz build-base/aisle
set -euo pipefail
src=$1 aisle=$2 cutoff=${3:-2011-10-01} epochs=${4:-10} work=${5:-$(mktemp -d /tmp/aisle-new-products.XXXX)}
shift $(( $# < 5 ? $# : 5 ))  # the rest goes to `aisle train`
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
python3 "$here/new_products.py" split "$src" "$cutoff" "$work"
"$aisle" train "$here/../../recipes/online-retail-graphsage.yaml" --run-dir "$work/run" --force --quiet \
  --set data.input="$work/before.csv" --set train.epochs="$epochs" --set eval.every="$epochs" \
  --set export.dir="$work/artifact" --set export.overwrite=true "$@"
for kind in new blank; do
  start=$(date +%s.%N)
  "$aisle" add-items --artifact "$work/artifact" --items "$work/${kind}_products.csv" --out "$work/added-$kind" --force
  echo "add-items ($kind): $(echo "$(date +%s.%N) - $start" | bc) s"
  python3 "$here/new_products.py" score "$work/added-$kind" "$work/later_purchases.csv"
done
echo "work directory: $work"
