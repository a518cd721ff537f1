#!/usr/bin/env bash
# Products added after export, on real data: GraphSAGE (recipes/online-retail-graphsage.yaml) is
# trained on the UCI Online Retail lines before a cut-off date and exported; the products first
# sold after it are added with `aisle add-items` from their description and price (and, as the
# control, with no values at all; with FIRST_DAYS also with their first buyers); each is scored against the later purchases of customers the
# model knows (tools/bench/new_products.py).
#
#   tools/bench/online_retail_new_products.sh ONLINE_RETAIL.csv[.xz] AISLE [CUTOFF] [EPOCHS] [WORKDIR] [--set KEY=VALUE ...]
#   e.g. tools/bench/online_retail_new_products.sh ../shared/data/online-retail/online_retail.csv.xz build-base/aisle
set -euo pipefail
src=$1 aisle=$2 cutoff=${3:-2011-10-01} epochs=${4:-10} work=${5:-$(mktemp -d /tmp/aisle-new-products.XXXX)}
shift $(( $# < 5 ? $# : 5 ))  # the rest goes to `aisle train`
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
# FIRST_DAYS=7 (environment): the products' purchases in their first week become their first
# interactions (add-items --interactions) and are left out of the scoring.
first_days=${FIRST_DAYS:-0}
python3 "$here/new_products.py" split "$src" "$cutoff" "$work" "$first_days"
"$aisle" train "$here/../../recipes/online-retail-graphsage.yaml" --run-dir "$work/run" --force --quiet \
  --set data.input="$work/before.csv" --set train.epochs="$epochs" --set eval.every="$epochs" \
  --set export.dir="$work/artifact" --set export.overwrite=true "$@"
kinds="new blank"
[ "$first_days" -gt 0 ] && kinds="new buyers blank"
for kind in $kinds; do
  start=$(date +%s.%N)
  if [ "$kind" = buyers ]; then
    "$aisle" add-items --artifact "$work/artifact" --items "$work/new_products.csv" \
      --interactions "$work/first_buyers.csv" --out "$work/added-$kind" --force
  else
    "$aisle" add-items --artifact "$work/artifact" --items "$work/${kind}_products.csv" --out "$work/added-$kind" --force
  fi
  echo "add-items ($kind): $(echo "$(date +%s.%N) - $start" | bc) s"
  python3 "$here/new_products.py" score "$work/added-$kind" "$work/later_purchases.csv"
done
echo "work directory: $work"
