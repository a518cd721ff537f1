"""PyTorch peer of LightGCN's *quality* on Gowalla: the reference model of torch_lightgcn.py (64
dimensions, 3 layers, mean of the layers, Adam lr 1e-3, batches of 2048, reg 1e-4 on the batch's ego
rows; the adjacency's symmetric CSR product) trained with the reference code's sampling, and
evaluated as the reference code evaluates, so that Aisle's curve (recipes/gowalla-lightgcn.yaml,
pair_sampling: users) can be compared with PyTorch's on the same machine and data, epoch by epoch.

Sampling, as LightGCN-PyTorch's UniformSample_original_python: each epoch draws |train| triples;
each takes a user uniformly among the users with training items, one of that user's distinct
items uniformly, and one item uniformly among those the user has not trained on; the triples are
shuffled and cut into batches.

Evaluation: every item scored for every test user, the user's training items removed, top 20;
Recall@20 = hits / |test items| and NDCG@20 = DCG / IDCG (IDCG over min(|test items|, 20) hits),
each averaged over the test users.

Prints one JSON row per evaluated epoch: {"epoch", "loss", "Recall@20", "NDCG@20", "seconds"}.
Usage: python3 torch_lightgcn_quality.py [cpu|cuda] TRAIN_TXT[.xz] TEST_TXT[.xz] [--epochs 5]
           [--eval-every 1] [--threads N] [--seed 0]"""
import argparse
import json
import os
import time

import torch

from torch_common import read_user_item_lists
from torch_lightgcn import BATCH, REG, NegativeSampler, normalized_adjacency, reference_model

K = 20


def user_item_csr(users, items, n_users):
    """Each user's distinct items, sorted: (offsets [n_users + 1], items)."""
    width = int(items.max()) + 1
    keys = torch.unique(users * width + items)
    u, i = keys // width, keys % width
    offsets = torch.zeros(n_users + 1, dtype=torch.long)
    offsets[1:] = torch.cumsum(torch.bincount(u, minlength=n_users), 0)
    return offsets, i


def reference_triples(offsets, pos_items, n_train, sample_negatives, dev):
    """One epoch's triples, drawn as the reference code draws them, then shuffled."""
    deg = offsets[1:] - offsets[:-1]
    active = torch.nonzero(deg > 0).flatten()
    users = active[torch.randint(0, active.numel(), (n_train,))]
    pick = (torch.rand(n_train, dtype=torch.float64) * deg[users]).long()
    items = pos_items[offsets[users] + pick]
    users, items = users.to(dev), items.to(dev)
    negatives = sample_negatives(users)
    order = torch.randperm(n_train, device=dev)
    return users[order], items[order], negatives[order]


def evaluate(all_users, all_items, offsets, pos_items, test_users, test_offsets, test_items, dev):
    recall = ndcg = 0.0
    discount = 1.0 / torch.log2(torch.arange(2, K + 2, dtype=torch.float64))
    for start in range(0, test_users.numel(), 1024):
        batch = test_users[start:start + 1024]
        scores = all_users[batch.to(dev)] @ all_items.T
        for row, u in enumerate(batch.tolist()):
            scores[row, pos_items[offsets[u]:offsets[u + 1]].to(dev)] = -float("inf")
        top = torch.topk(scores, K, dim=1).indices.cpu()
        for row, u in enumerate(batch.tolist()):
            truth = test_items[test_offsets[u]:test_offsets[u + 1]]
            hit = torch.isin(top[row], truth).double()
            recall += float(hit.sum()) / truth.numel()
            ideal = float(discount[:min(truth.numel(), K)].sum())
            ndcg += float((hit * discount).sum()) / ideal
    n = test_users.numel()
    return recall / n, ndcg / n


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("device", nargs="?", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("train")
    parser.add_argument("test")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--eval-every", type=int, default=1)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS") or 0))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)

    users, items = read_user_item_lists(args.train)
    t_users, t_items = read_user_item_lists(args.test)
    # Ids over both files, as the reference's loader counts them (and Aisle's `given` split).
    n_users = int(max(users.max(), t_users.max())) + 1
    n_items = int(max(items.max(), t_items.max())) + 1
    offsets, pos_items = user_item_csr(users, items, n_users)
    test_offsets, test_items = user_item_csr(t_users, t_items, n_users)
    test_users = torch.nonzero(test_offsets[1:] > test_offsets[:-1]).flatten()
    graph = normalized_adjacency(users, items, n_users, n_items, "csr", dev)
    sample_negatives = NegativeSampler(users.to(dev), items.to(dev), n_items, dev)

    user_emb, item_emb, opt, computer = reference_model(graph, n_users, n_items, dev, symmetric=True)

    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        u_all, i_all, j_all = reference_triples(offsets, pos_items, users.numel(), sample_negatives, dev)
        total, steps = 0.0, 0
        for start in range(0, u_all.numel(), BATCH):
            u, i, j = u_all[start:start + BATCH], i_all[start:start + BATCH], j_all[start:start + BATCH]
            all_users, all_items = computer()
            eu, ei, ej = all_users[u], all_items[i], all_items[j]
            loss = torch.nn.functional.softplus((eu * ej).sum(1) - (eu * ei).sum(1)).mean()
            reg = 0.5 * (user_emb(u).pow(2).sum() + item_emb(i).pow(2).sum() + item_emb(j).pow(2).sum()) / u.numel()
            loss = loss + REG * reg
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            steps += 1
        row = {"epoch": epoch, "loss": round(total / steps, 5), "seconds": round(time.perf_counter() - t0, 1)}
        if epoch % args.eval_every == 0 or epoch == args.epochs:
            with torch.no_grad():
                all_users, all_items = computer()
                r, n = evaluate(all_users, all_items, offsets, pos_items, test_users, test_offsets, test_items, dev)
            row.update({"Recall@20": round(r, 4), "NDCG@20": round(n, 4)})
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
