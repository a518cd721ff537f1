"""Shared timing for the PyTorch peers of tools/bench: CUDA events (or a host clock on the CPU)
around each call after warm-up, median of the repeats, and the copy bandwidth of the same device
measured in the same process, so Aisle's and PyTorch's GB/s compare against one ceiling each;
and the reader of the LightGCN-format files (Gowalla's train.txt) the graph and BPR peers share."""
import json
import lzma
import statistics
import sys
import time

import torch


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_ms(fn, device, warmup=3, repeats=20):
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def copy_gbs(device):
    n = (1 << 30 if device.type == "cuda" else 256 << 20) // 4
    src = torch.ones(n, device=device)
    dst = torch.empty_like(src)
    ms = median_ms(lambda: dst.copy_(src), device, repeats=10)
    return 2 * 4 * n / (ms * 1e-3) * 1e-9


def peak_mib(device):
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None


def reset_peak(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def emit(name, ms, nbytes=None, copy=None, **extra):
    """One JSON object per case on stdout, named like Aisle's benchmark (without /real_time)."""
    row = {"name": name, "ms": round(ms, 4)}
    if nbytes:
        row["GB/s"] = round(nbytes / (ms * 1e-3) * 1e-9, 2)
        if copy:
            row["copy%"] = round(100 * row["GB/s"] / copy, 1)
    row.update({k: v for k, v in extra.items() if v is not None})
    print(json.dumps(row), flush=True)


def device_from_argv():
    name = sys.argv[1] if len(sys.argv) > 1 else ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def median_epoch_ms(epoch, device, epochs=3):
    """Median wall time of `epochs` calls of epoch() after one warm-up epoch (kernels, allocator);
    epoch() returns a device tensor, read once per epoch so no host sync happens inside it."""
    times = []
    for rep in range(1 + epochs):
        sync(device)
        t0 = time.perf_counter()
        epoch().item()
        sync(device)
        if rep:
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def read_user_item_lists(path):
    """(users, items) int64 tensors of a LightGCN-format file, plain or .xz: one line per user,
    "user item item ...", lines without items skipped (what Aisle's `lightgcn` importer reads)."""
    users, items = [], []
    with (lzma.open(path, "rt") if path.endswith(".xz") else open(path)) as f:
        for line in f:
            ids = line.split()
            if len(ids) < 2:
                continue
            users += [int(ids[0])] * (len(ids) - 1)
            items += [int(i) for i in ids[1:]]
    return torch.tensor(users), torch.tensor(items)
