#!/usr/bin/env python3
"""Times one implicit-ALS iteration of Aisle and of the `implicit` package on the same data.

Both read the same Aisle dataset directory (written by `aisle data import`): every row is a
training row, repeated (user, item) rows are summed, and both run conjugate-gradient ALS with the
same factors, CG steps and thread count. An iteration is the users' half-step plus the items'.

  Aisle:     `aisle train` on a generated recipe (all rows train, no evaluation, no checkpoints);
             the per-epoch seconds come from the run's metrics.jsonl (they include Aisle's
             per-step loss, which `implicit` skips). Or pass --aisle-seconds F=S ... to compare
             with times measured elsewhere.
  implicit:  implicit.cpu.als.AlternatingLeastSquares(use_cg=True, cg_steps, num_threads), timed
             per iteration by its fit() callback, with OPENBLAS_NUM_THREADS=1 as it recommends.

The first iteration of each run is a warm-up; the median of the rest is reported, with the load
average before and after each measurement (the timings mean little on a busy machine).
Setup: python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install implicit numpy scipy
Usage:
  /tmp/peers-venv/bin/python tools/peers/als_vs_implicit.py --aisle build/aisle \\
      --dataset /tmp/ml-1m --dataset /tmp/retail --factors 64 128 --threads 2
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", action="append", required=True, help="Aisle dataset directory (repeatable)")
    p.add_argument("--factors", type=int, nargs="+", default=[64, 128])
    p.add_argument("--iterations", type=int, default=5, help="timed iterations after one warm-up")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cg-steps", type=int, default=3)
    p.add_argument("--reg", type=float, default=0.1)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--aisle", help="the aisle binary (runs `aisle train`)")
    p.add_argument("--aisle-seconds", nargs="*", default=[], metavar="FACTORS=SECONDS",
                   help="Aisle seconds per iteration measured elsewhere, instead of --aisle (one dataset)")
    return p.parse_args()


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def user_items(dataset):
    """The dataset's rows as a users x items CSR matrix of summed values (float32)."""
    import numpy as np
    import scipy.sparse as sp
    meta = json.load(open(os.path.join(dataset, "meta.json")))
    col = lambda name, dtype: np.fromfile(os.path.join(dataset, "interactions", name), dtype=dtype)
    users, items, values = col("user.i64", "<i8"), col("item.i64", "<i8"), col("value.f32", "<f4")
    shape = (int(meta["counts"]["users"]), int(meta["counts"]["items"]))
    m = sp.coo_matrix((values.astype(np.float64), (users, items)), shape=shape).tocsr()  # sums repeats
    m.sum_duplicates()
    return m.astype(np.float32), len(users)


def time_implicit(matrix, factors, args):
    from implicit.cpu.als import AlternatingLeastSquares
    model = AlternatingLeastSquares(factors=factors, regularization=args.reg, alpha=args.alpha, use_cg=True,
                                    iterations=args.iterations + 1, num_threads=args.threads, random_state=42)
    model.cg_steps = args.cg_steps
    seconds = []
    model.fit(matrix, show_progress=False, callback=lambda it, elapsed, loss: seconds.append(elapsed))
    return seconds[1:]


def time_aisle(dataset, factors, args):
    with tempfile.TemporaryDirectory(prefix="als-vs-implicit-") as tmp:
        recipe = os.path.join(tmp, "recipe.yaml")
        with open(recipe, "w") as f:
            f.write(f"""name: als-vs-implicit
seed: 42
device: cpu
data: {{source: dataset, path: {json.dumps(os.path.abspath(dataset))}, split: {{method: random, train: 1.0, test: 0.0}}}}
model: {{type: als, factors: {factors}, solver: cg, cg_steps: {args.cg_steps}, reg: {args.reg}, alpha: {args.alpha}}}
train: {{epochs: {args.iterations + 1}, checkpoint_every: 0}}
eval: {{every: 0}}
""")
        run_dir = os.path.join(tmp, "run")
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        subprocess.run([args.aisle, "train", recipe, "--run-dir", run_dir, "--quiet"], check=True, env=env)
        epochs = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
        seconds = [e["seconds"] for e in epochs if e.get("event") == "epoch"]
    return seconds[1:]


def main():
    args = parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy loads OpenBLAS; implicit's advice
    given = {int(k): float(v) for k, v in (s.split("=") for s in args.aisle_seconds)}
    if not args.aisle and not given:
        sys.exit("als_vs_implicit: pass --aisle BINARY or --aisle-seconds FACTORS=SECONDS")
    import implicit
    print(f"implicit {implicit.__version__}, {args.threads} threads, cg_steps {args.cg_steps}, "
          f"{args.iterations} timed iterations after a warm-up, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{os.cpu_count()} CPUs")
    print("| dataset | rows | users x items | factors | Aisle s/iter | implicit s/iter | implicit / Aisle | load before -> after |")
    print("|---|---|---|---|---|---|---|---|")
    for dataset in args.dataset:
        matrix, rows = user_items(dataset)
        for factors in args.factors:
            before = load()
            if args.aisle:
                aisle_s = statistics.median(time_aisle(dataset, factors, args))
            else:
                aisle_s = given[factors]
            implicit_s = statistics.median(time_implicit(matrix, factors, args))
            print(f"| {os.path.basename(os.path.normpath(dataset))} | {rows} | {matrix.shape[0]} x {matrix.shape[1]} "
                  f"(nnz {matrix.nnz}) | {factors} | {aisle_s:.3f} | {implicit_s:.3f} | {implicit_s / aisle_s:.2f} | "
                  f"{before} -> {load()} |", flush=True)


if __name__ == "__main__":
    main()
