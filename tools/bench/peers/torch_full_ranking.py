"""PyTorch peer of tools/bench/bench_eval.cpp: full-ranking evaluation at Gowalla's size (29,858
users x 40,981 items, 64 factors, K = 20) the way PyTorch recommender code does it: per batch of
users, scores by matmul, training items set to -inf, torch.topk, test items' hits gathered.
Usage: python3 torch_full_ranking.py [cuda|cpu]"""
import torch

from torch_common import copy_gbs, device_from_argv, emit, median_ms, peak_mib, reset_peak

USERS, ITEMS, TRAIN, TEST, FACTORS, K = 29_858, 40_981, 810_128, 217_242, 64, 20


def csr(rows, seed, dev):
    g = torch.Generator().manual_seed(seed)
    items = torch.randint(0, ITEMS, (rows,), generator=g)
    users = torch.arange(rows) % USERS
    order = torch.argsort(users, stable=True)
    offsets = torch.zeros(USERS + 1, dtype=torch.long)
    offsets[1:] = torch.cumsum(torch.bincount(users, minlength=USERS), 0)
    return offsets.to(dev), items[order].to(dev), users[order].to(dev)


def main():
    dev = device_from_argv()
    copy = copy_gbs(dev)
    reset_peak(dev)
    g = torch.Generator(device=dev).manual_seed(3)
    user_emb = torch.rand(USERS, FACTORS, device=dev, generator=g) * 0.2 - 0.1
    item_emb = torch.rand(ITEMS, FACTORS, device=dev, generator=g) * 0.2 - 0.1
    tr_off, tr_items, tr_users = csr(TRAIN, 1, dev)
    te_off, te_items, te_users = csr(TEST, 2, dev)
    for batch in ((4096, 8192, USERS) if dev.type == "cuda" else (1024,)):
        def evaluate():
            hits = torch.zeros((), device=dev)
            for start in range(0, USERS, batch):
                end = min(start + batch, USERS)
                scores = user_emb[start:end] @ item_emb.T
                a, b = tr_off[start], tr_off[end]
                scores[tr_users[a:b] - start, tr_items[a:b]] = float("-inf")
                top = torch.topk(scores, K, dim=1).indices
                in_top = torch.zeros_like(scores, dtype=torch.bool).scatter_(1, top, True)
                a, b = te_off[start], te_off[end]
                hits += in_top[te_users[a:b] - start, te_items[a:b]].sum()
            return hits

        ms = median_ms(evaluate, dev, warmup=2, repeats=10 if dev.type == "cuda" else 2)
        emit(f"full_ranking_gowalla_k20/{dev.type}/{batch}", ms, 2 * 4 * USERS * ITEMS, copy, peak_MiB=peak_mib(dev))


if __name__ == "__main__":
    main()
