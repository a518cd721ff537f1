#!/usr/bin/env python3
"""Seconds per training epoch of Surprise's SVD and Aisle's biased MF (model.type: mf) on MovieLens-1M.

Both train on the very same 80/20 split (written here, imported by Aisle as a `given` split) with the
same number of factors; both are per-rating SGD on one thread (Aisle runs with OMP_NUM_THREADS=1
unless the environment sets it). Needs Surprise and NumPy, e.g.
    python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install scikit-surprise numpy
Usage:
    mf_vs_surprise.py --ratings ml-1m/ratings.dat --aisle build/aisle
    mf_vs_surprise.py --pairs ratings_user_movie_pairs.tsv.xz --aisle build/aisle
        (no ratings.dat: ratings are planted on the real user-movie pairs; same shape and count,
         so the timing holds, but the RMSEs printed say nothing about MovieLens)
    mf_vs_surprise.py --ratings ... --aisle-epoch-seconds 0.12   (time Surprise only; compare with a given number)
"""
import argparse
import json
import lzma
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def read_ratings(path):
    """ML-1M ratings.dat (user::item::rating::timestamp) -> int arrays users, items and float ratings."""
    users, items, ratings = [], [], []
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt", encoding="latin-1") as f:
        for line in f:
            u, i, r, _ = line.rstrip("\n").split("::")
            users.append(int(u))
            items.append(int(i))
            ratings.append(float(r))
    return np.array(users), np.array(items), np.array(ratings)


def planted_ratings(path, seed):
    """The real (user, movie) pairs with 1-5 star ratings from a planted rank-10 model plus noise."""
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt") as f:
        pairs = np.loadtxt(f, dtype=np.int64, delimiter="\t")
    users, items = pairs[:, 0], pairs[:, 1]
    rng = np.random.default_rng(seed)
    nu, ni = users.max() + 1, items.max() + 1
    bu, bi = rng.normal(0, 0.4, nu), rng.normal(0, 0.5, ni)
    p, q = rng.normal(0, 0.3, (nu, 10)), rng.normal(0, 0.3, (ni, 10))
    r = 3.58 + bu[users] + bi[items] + np.einsum("nk,nk->n", p[users], q[items]) + rng.normal(0, 0.85, len(users))
    return users, items, np.clip(np.rint(r), 1, 5)


def write_dat(path, users, items, ratings):
    with open(path, "w") as f:
        for u, i, r in zip(users, items, ratings):
            f.write(f"{u}::{i}::{int(r)}::0\n")


def time_surprise(train_path, test_rows, factors, epochs, seed):
    from surprise import SVD, Dataset, Reader, accuracy

    reader = Reader(line_format="user item rating timestamp", sep="::", rating_scale=(1, 5))
    trainset = Dataset.load_from_file(train_path, reader=reader).build_full_trainset()
    algo = SVD(n_factors=factors, n_epochs=epochs, random_state=seed)  # lr 0.005, reg 0.02: Surprise's defaults
    wall, cpu = time.perf_counter(), time.process_time()
    algo.fit(trainset)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rmse = accuracy.rmse(algo.test(test_rows), verbose=False)
    return wall / epochs, cpu / epochs, rmse


def run_aisle(aisle, work, train_path, test_path, factors, epochs, seed):
    """Trains with `aisle train`; returns (CPU seconds of the whole run, per-epoch wall seconds, summary)."""
    recipe = os.path.join(work, "mf.yaml")
    with open(recipe, "w") as f:
        f.write(f"""name: mf-vs-surprise
seed: {seed}
device: cpu
data: {{source: import, format: movielens-1m, input: {train_path}, test: {test_path}, split: {{method: given}}}}
model: {{type: mf, factors: {factors}}}
train: {{epochs: {epochs}, checkpoint_every: 0}}
eval: {{protocol: ratings, every: 0}}
""")
    run_dir = os.path.join(work, "run")
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([aisle, "train", recipe, "--run-dir", run_dir, "--force", "--quiet"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    seconds = []
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        for line in f:
            event = json.loads(line)
            if event.get("event") == "epoch":
                seconds.append(event["seconds"])
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    return cpu, seconds, summary


def time_aisle(aisle, work, train_path, test_path, factors, epochs, seed):
    """Per-epoch wall (the trainer's own epoch timer) and CPU seconds: the CPU time of a run of 1 + epochs
    epochs less that of a 1-epoch run, so import, setup and evaluation cancel out."""
    cpu_1, _, _ = run_aisle(aisle, work, train_path, test_path, factors, 1, seed)
    cpu_n, seconds, summary = run_aisle(aisle, work, train_path, test_path, factors, 1 + epochs, seed)
    return statistics.median(seconds[1:]), (cpu_n - cpu_1) / epochs, summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--ratings", help="MovieLens-1M ratings.dat (plain or .xz)")
    src.add_argument("--pairs", help="ratings_user_movie_pairs.tsv[.xz]: plant ratings on these pairs (timing only)")
    ap.add_argument("--aisle", help="the aisle binary (build/aisle)")
    ap.add_argument("--aisle-epoch-seconds", type=float, help="skip running Aisle; compare with this many seconds")
    ap.add_argument("--factors", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side; medians are reported")
    ap.add_argument("--work", help="scratch directory (default: a new temporary one)")
    a = ap.parse_args()
    if not a.aisle and a.aisle_epoch_seconds is None:
        ap.error("give --aisle or --aisle-epoch-seconds")

    work = a.work or tempfile.mkdtemp(prefix="mf-vs-surprise-")
    os.makedirs(work, exist_ok=True)
    users, items, ratings = read_ratings(a.ratings) if a.ratings else planted_ratings(a.pairs, a.seed)
    order = np.random.default_rng(a.seed).permutation(len(users))
    n_test = int(round(0.2 * len(users)))
    test, train = order[:n_test], order[n_test:]
    train_path, test_path = os.path.join(work, "train.dat"), os.path.join(work, "test.dat")
    write_dat(train_path, users[train], items[train], ratings[train])
    write_dat(test_path, users[test], items[test], ratings[test])
    print(f"{len(train)} training and {len(test)} test ratings ({'planted on the real pairs' if a.pairs else a.ratings}), "
          f"{a.factors} factors, {a.epochs} epochs; load average before: {os.getloadavg()[0]:.2f}")

    test_rows = [(str(users[j]), str(items[j]), float(ratings[j])) for j in test]
    # Each side runs --repeat times, alternating; medians damp a shared machine's noise.
    s_runs, a_runs = [], []
    for _ in range(a.repeat):
        s_runs.append(time_surprise(train_path, test_rows, a.factors, a.epochs, a.seed))
        if a.aisle_epoch_seconds is None:
            a_runs.append(time_aisle(os.path.abspath(a.aisle), work, train_path, test_path, a.factors, a.epochs, a.seed))
    s_wall = statistics.median(r[0] for r in s_runs)
    s_cpu = statistics.median(r[1] for r in s_runs)
    print(f"Surprise SVD: {s_wall:.3f} s/epoch wall, {s_cpu:.3f} s/epoch CPU (medians of {a.repeat}); "
          f"test RMSE {s_runs[0][2]:.4f} (Surprise's defaults, {a.epochs} epochs)")

    if a.aisle_epoch_seconds is not None:
        a_wall = a_cpu = a.aisle_epoch_seconds
        print(f"Aisle mf: {a_wall:.3f} s/epoch (given)")
    else:
        a_wall = statistics.median(r[0] for r in a_runs)
        a_cpu = statistics.median(r[1] for r in a_runs)
        rmse = a_runs[0][2].get("test_metrics", {}).get("RMSE", float("nan"))
        print(f"Aisle mf: {a_wall:.3f} s/epoch wall, {a_cpu:.3f} s/epoch CPU (medians of {a.repeat}); "
              f"test RMSE {rmse:.4f} (the model's defaults, {1 + a.epochs} epochs)")
    print(f"Aisle is {s_wall / a_wall:.1f}x faster per epoch in wall time, {s_cpu / a_cpu:.1f}x in CPU time; "
          f"load average after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0

if __name__ == "__main__":
    sys.exit(main())
