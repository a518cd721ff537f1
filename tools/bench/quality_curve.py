"""The quality curve of one `aisle train` run, read from its metrics.jsonl while it runs or after:
one line per evaluation (epoch, each metric), then the epochs done and their median time.
Used for long runs such as issue 6's LightGCN quality target (tools/gpu_check.sh quality).
Usage: python3 quality_curve.py RUN_DIR"""
import json
import os
import statistics
import sys


def main():
    path = os.path.join(sys.argv[1], "metrics.jsonl")
    try:
        with open(path) as f:
            events = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        print(f"no curve yet: {e}")
        return 1
    for e in events:
        if e.get("event") == "eval":
            metrics = " ".join(f"{k}={v:.4f}" for k, v in sorted(e.get("metrics", {}).items()))
            # metrics.jsonl numbers epochs from 0: the evaluation logged at epoch 24 follows 25 epochs.
            print(f"after {e.get('epoch', -1) + 1} epochs: {e.get('split', '?')} {metrics} ({e.get('seconds', 0):.2f} s)")
        elif e.get("event") in ("resume", "stop", "end", "diverged"):
            print(f"{e['event']}: " + ", ".join(f"{k}={v}" for k, v in e.items() if k != "event"))
    epochs = [e for e in events if e.get("event") == "epoch"]
    if epochs:
        secs = [e["seconds"] for e in epochs if "seconds" in e]
        median = f", median {statistics.median(secs):.3f} s per epoch" if secs else ""
        print(f"epochs logged: {len(epochs)}{median}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
