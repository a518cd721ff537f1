"""One line about a finished `aisle train` run for tools/gpu_check.sh's training table:
train seconds, median epoch and evaluation seconds (from metrics.jsonl), device and the main
test metrics (from summary.json). Usage: python3 run_summary.py RUN_DIR"""
import json
import os
import statistics
import sys


def main():
    run = sys.argv[1]
    try:
        with open(os.path.join(run, "summary.json")) as f:
            summary = json.load(f)
        with open(os.path.join(run, "metrics.jsonl")) as f:
            events = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        print(f"- - - (no summary: {e})")
        return

    def median(kind):
        secs = [e["seconds"] for e in events if e.get("event") == kind and "seconds" in e]
        return f"{statistics.median(secs):.4f}" if secs else "-"

    test = summary.get("test_metrics", {})
    metrics = " ".join(f"{k}={test[k]:.4f}" for k in ("RMSE", "MAE", "Recall@20", "NDCG@20") if k in test)
    print(f"{summary.get('train_seconds', 0):.1f} {median('epoch')}/{median('eval')} {summary.get('device', '?')} {metrics}")


if __name__ == "__main__":
    main()
