"""Joins Aisle's benchmark results (Google Benchmark JSON from tools/bench/bench_*) with the
PyTorch peers' rows (JSON lines from tools/bench/peers/*.py) by name and prints one table:
time, GB/s and percent of copy bandwidth for each side, and peer time / Aisle time (> 1: Aisle
faster). Usage: python3 compare.py RESULTS_DIR (holding bench_*.json and peer_*.jsonl)."""
import glob
import json
import os
import sys


def aisle_rows(folder):
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder, "bench_*.json"))):
        try:
            with open(path) as f:
                data = json.load(f)
        except ValueError:  # a benchmark binary with no case for this device writes nothing
            continue
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
            rows[b["name"].replace("/real_time", "")] = {
                "ms": b["real_time"] * scale, "GB/s": b.get("GB/s", 0) / 1e9 if b.get("GB/s", 0) > 1e6 else b.get("GB/s"),
                "copy%": b.get("copy%"), "peak_MiB": b.get("peak_MiB"), "updates/s": b.get("updates/s")}
    return rows


def peer_rows(folder):
    rows = {}
    for path in sorted(glob.glob(os.path.join(folder, "peer_*.jsonl"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{") and '"name"' in line:
                    row = json.loads(line)
                    rows[row["name"]] = row
    return rows


def fmt(v, spec):
    return format(v, spec) if isinstance(v, (int, float)) else "-"


def main():
    folder = sys.argv[1]
    ours, peers = aisle_rows(folder), peer_rows(folder)
    print(f"{'benchmark':52} {'aisle ms':>10} {'GB/s':>8} {'copy%':>6} {'MiB':>7} | {'torch ms':>10} {'copy%':>6} {'MiB':>7} | {'speedup':>7}")
    for name in sorted(set(ours) | set(peers)):
        a, p = ours.get(name, {}), peers.get(name, {})
        speed = p["ms"] / a["ms"] if a.get("ms") and p.get("ms") else None
        print(f"{name:52} {fmt(a.get('ms'), '10.4f')} {fmt(a.get('GB/s'), '8.1f')} {fmt(a.get('copy%'), '6.1f')} "
              f"{fmt(a.get('peak_MiB'), '7.0f')} | {fmt(p.get('ms'), '10.4f')} {fmt(p.get('copy%'), '6.1f')} "
              f"{fmt(p.get('peak_MiB'), '7.0f')} | {fmt(speed, '7.2f')}")


if __name__ == "__main__":
    main()
