"""PyTorch peer of one GraphSAGE training epoch on the synthetic shop of
recipes/synthetic-graphsage.yaml, matching Aisle's src/models/graphsage. The data: an Aisle dataset
directory of that shop (`aisle data synth --users 10000 --items 3000 --interactions 400000 --seed 42
--categories 40`, or a run's data/ folder), read with numpy: interactions/{user,item,timestamp}.i64,
items/<feature>.codes.i64 and .vocab.offsets.i64 (categorical), items/<feature>.f32 (numeric), each
checked against meta.json's sha256; then deduplicate keep_last per (user, item) and the temporal
80/20 split (the earliest 80% of the rows by (time, row) train), as Aisle's run_data.

The graph (feature_graph.cpp): users, items and one node per value of each item feature (every
one the dataset has: categorical values, 8 quantile buckets of each numeric one), undirected edges
user - item for each training pair and item - value. Inputs: EmbeddingBag(mode="mean") over one
token table: a user's own row, an attribute node's own row, an item the mean of its attributes'
rows and one shared "item" row. Each step, from 1024 shuffled training rows and one negative per
row (uniform over the items with training rows, never one of the user's): the distinct
users / items / negatives are the seeds; blocks sampled as Aisle's NeighborSampler (DGL-style: hop
1 draws 10 neighbours of each seed, hop 2 draws 5 of each of hop 1's src nodes, seeds included,
uniformly without replacement, all of them at lower degree); half of the seed items made "cold"
(their user neighbours dropped from both blocks, model.cold_item_rate 0.5); two SAGE layers
64 -> 64 -> 64, h' = h W_self + mean(h_nbrs) W_neigh + b (PyG's SAGEConv, aggr="mean"), ReLU and
row L2 normalisation after the first; BPR softplus loss plus reg/2 (|x_u|^2 + |x_i|^2 + |x_j|^2) /
batch on the input rows, reg 1e-4; torch.optim.SparseAdam on the token table (sparse gradients,
lazy like Aisle's SparseAdam) and Adam on the layers, lr 5e-3. The neighbour draw is Floyd's
algorithm, vectorised over the rows (Aisle's draw, same distribution; PyG's NeighborLoader needs
pyg-lib and samples hop 2 only for new nodes). The batch order, negatives (drawn for the whole
epoch at its start) and timing are torch_lightgcn.py's.

Cases (--cases): pyg  SAGEConv layers ("graphsage_epoch/synthetic").

Prints Aisle's setup lines for the data and graph on stderr (dedup, split, "graph: ..."), so they
can be compared with `aisle train`'s; tools/bench/graph_vs_torch.sh (MODEL=graphsage) diffs them.
Each case runs a warm-up epoch (or its first --warmup-steps steps), then --epochs epochs; the row
holds the median epoch in ms and its ms per step; --steps N times only the first N steps of each
epoch (full_epoch: false).
Usage: python3 torch_graphsage.py [cpu|cuda] SHOP_DIR [--epochs 3] [--threads N] [--warmup-steps N]
           [--steps N] [--cases pyg]"""
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch

from torch_common import emit, peak_mib, reset_peak
from torch_lightgcn import NegativeSampler, bpr_epoch_fn, parse_peer_args, time_epochs

F, LAYERS, FANOUTS, BATCH, LR, REG, INIT_STD, COLD_RATE, BUCKETS, TEST = 64, [64, 64], [10, 5], 1024, 5e-3, 1e-4, 0.1, 0.5, 8, 0.2
SHOP = {"users": 10000, "items": 3000, "interactions": 400000, "seed": 42, "categories": 40}


def say(line):
    print("  " + line, file=sys.stderr, flush=True)


class Shop:
    """The dataset directory's arrays, each checked against meta.json."""

    def __init__(self, path):
        self.path = path
        self.meta = json.load(open(os.path.join(path, "meta.json")))
        self.files = {f["path"]: f for f in self.meta["files"]}
        params = dict(p.split("=", 1) for p in self.meta["source"].get("parameters", []))
        for key, want in SHOP.items():
            if params.get(key) != str(want):
                raise SystemExit(f"{path}: {key}={params.get(key)}, but the recipe's shop has {want}")

    def read(self, rel, dtype):
        data = open(os.path.join(self.path, rel), "rb").read()
        if hashlib.sha256(data).hexdigest() != self.files[rel]["sha256"]:
            raise SystemExit(f"{self.path}/{rel} does not match meta.json's sha256")
        return np.frombuffer(data, dtype=dtype)


def training_rows(shop):
    """Aisle's deduplicate(keep_last) then temporal_split(0.8 / 0.2): (users, items) of the train rows."""
    u, i, t = (shop.read(f"interactions/{c}.i64", np.int64) for c in ("user", "item", "timestamp"))
    n = u.size
    order = np.lexsort((np.arange(n), t, i, u))  # each (user, item) run ends with its latest row
    last = np.ones(n, bool)
    last[:-1] = (u[order[1:]] != u[order[:-1]]) | (i[order[1:]] != i[order[:-1]])
    kept = np.sort(order[last])
    u, i, t = u[kept], i[kept], t[kept]
    n_test = math.floor(kept.size * TEST + 0.5)  # llround
    train = np.sort(np.argsort(t, kind="stable")[:kept.size - n_test])  # ties in row order, as rank_cuts
    say(f"deduplicated (keep_last): {n} -> {kept.size} rows")
    say(f"split temporal:train=0.8,valid=0,test=0.2: train {train.size}, valid 0, test {n_test}")
    return torch.from_numpy(u[train].copy()), torch.from_numpy(i[train].copy())


def quantile_bounds(values, buckets):
    v = np.sort(values[~np.isnan(values)])
    bounds = []
    for k in range(1, buckets):
        b = v[k * v.size // buckets]
        if b > v[0] and (not bounds or b > bounds[-1]):  # no empty first bucket, no repeated bound
            bounds.append(b)
    return np.array(bounds, dtype=np.float32)


def ranges(starts, counts):
    """Concatenated arange(s, s + c) over (starts, counts)."""
    ends = torch.cumsum(counts, 0)
    return torch.repeat_interleave(starts - (ends - counts), counts) + torch.arange(int(ends[-1]), device=starts.device)


def offsets(rows, n):
    return torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(torch.bincount(rows, minlength=n), 0)])


class FeatureGraph:
    """Aisle's FeatureGraph: node ids users, U + item, then attribute nodes feature by feature; a
    CSR of the undirected edges with sorted rows; each node's input tokens as a CSR too."""

    def __init__(self, shop, users, items):
        self.U, self.I = U, I = shop.meta["counts"]["users"], shop.meta["counts"]["items"]
        kinds = {f["name"]: f["kind"] for f in shop.meta["features"]["items"]}
        order = {"categorical": 0, "numeric": 1}  # Aisle's order: categorical, numeric, then by name
        unsupported = [n for n, k in kinds.items() if k not in order]
        if unsupported:
            raise SystemExit(f"token features are not supported here: {unsupported}")
        self.attributes, values, first = [], [], U + I
        for name in sorted(kinds, key=lambda n: (order[kinds[n]], n)):
            if kinds[name] == "categorical":
                codes = shop.read(f"items/{name}.codes.i64", np.int64)
                count = shop.files[f"items/{name}.vocab.offsets.i64"]["count"] - 1
            else:
                v = shop.read(f"items/{name}.f32", np.float32)
                bounds = quantile_bounds(v, BUCKETS)
                codes = np.where(np.isnan(v), -1, np.searchsorted(bounds, v, side="right"))
                count = bounds.size + 1
            item = np.flatnonzero(codes >= 0)
            values.append((torch.from_numpy(item), torch.from_numpy(first + codes[item])))
            self.attributes.append((name, kinds[name], first, count))
            first += count
        self.N = N = first
        attr_items = torch.cat([v[0] for v in values]) + U
        attr_nodes = torch.cat([v[1] for v in values])
        a, b = torch.cat([users, attr_items]), torch.cat([items + U, attr_nodes])
        rows, cols = torch.cat([a, b]), torch.cat([b, a])
        self.col, self.rowptr = cols[torch.argsort(rows * N + cols)], offsets(rows, N)
        # Tokens: users [0, U), attribute node v is v - I, the shared item row U + A; an item's
        # attribute rows come first, in feature order (stable sort), then the item row.
        item_token = N - I
        tokens = torch.cat([torch.arange(U), attr_nodes - I, torch.full((I,), item_token), torch.arange(U, item_token)])
        owner = torch.cat([torch.arange(U), attr_items, torch.arange(U, U + I), torch.arange(U + I, N)])
        self.tokens, self.tokptr = tokens[torch.argsort(owner, stable=True)], offsets(owner, N)
        self.num_tokens = item_token + 1

    def describe(self):
        """Aisle's FeatureGraph::describe() lines."""
        rp, U, I = self.rowptr, self.U, self.I
        deg = rp[U + 1:U + I + 1] - rp[U:U + I]
        first = self.col[rp[U:U + I].clamp(max=self.col.numel() - 1)]
        cold = int(((deg == 0) | (first >= U)).sum())  # rows are sorted and users come first
        lines = [f"graph: {self.N} nodes, {self.col.numel() // 2} edges; {U} users ({int(rp[U])} user-item edges), "
                 f"{I} items ({cold} without training interactions, embedded from their attributes)"]
        for name, kind, first, count in self.attributes:
            lines.append(f"graph: item feature '{name}' ({kind}): {count} nodes, {int(rp[first + count] - rp[first])} item edges")
        return lines

    def to(self, dev):
        for k in ("rowptr", "col", "tokens", "tokptr"):
            setattr(self, k, getattr(self, k).to(dev))
        self.local = torch.full((self.N,), -1, dtype=torch.long, device=dev)  # global -> block-local scratch
        return self


def sample_block(g, dst, fanout):
    """One hop, as Aisle's NeighborSampler: each dst node keeps min(degree, fanout) neighbours,
    uniformly without replacement; src nodes are the dst nodes first, then the new ones. Returns
    (src nodes, edge dst positions, edge src positions)."""
    start = g.rowptr[dst]
    deg = g.rowptr[dst + 1] - start
    big = deg > fanout
    small = ~big
    rows_small = torch.repeat_interleave(torch.nonzero(small).squeeze(1), deg[small])
    picked_small = g.col[ranges(start[small], deg[small])] if rows_small.numel() else rows_small
    # Floyd's draw over the rows with more neighbours than the fan-out, one column at a time.
    d = deg[big]
    pos = torch.empty(d.numel(), fanout, dtype=torch.long, device=dst.device)
    for c in range(fanout):
        j = d - fanout + c
        t = torch.minimum((torch.rand(d.numel(), dtype=torch.float64, device=dst.device) * (j + 1)).long(), j)
        pos[:, c] = torch.where((pos[:, :c] == t[:, None]).any(1), j, t)
    rows_big = torch.nonzero(big).squeeze(1).repeat_interleave(fanout)
    picked = torch.cat([picked_small, g.col[(start[big][:, None] + pos).flatten()]])
    rows = torch.cat([rows_small, rows_big])
    local = g.local
    local[dst] = torch.arange(dst.numel(), device=dst.device)
    new = torch.unique(picked[local[picked] < 0])
    local[new] = torch.arange(dst.numel(), dst.numel() + new.numel(), device=dst.device)
    cols = local[picked]
    src = torch.cat([dst, new])
    local[src] = -1
    return src, rows, cols


def graphsage_epoch_fn(g, users, items, sample, dev):
    from torch_geometric.nn import SAGEConv

    U, I = g.U, g.I
    bag = torch.nn.EmbeddingBag(g.num_tokens, F, mode="mean", sparse=True).to(dev)
    torch.nn.init.normal_(bag.weight, std=INIT_STD)
    convs, d_in = torch.nn.ModuleList(), F
    for d_out in LAYERS:
        conv = SAGEConv(d_in, d_out, aggr="mean")  # lin_l (neighbours, with the bias) + lin_r (self)
        for lin in (conv.lin_l, conv.lin_r):  # Aisle's init: Xavier-uniform weights, zero bias
            torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(conv.lin_l.bias)
        convs.append(conv)
        d_in = d_out
    convs.to(dev)
    sparse_opt = torch.optim.SparseAdam(list(bag.parameters()), lr=LR)
    dense_opt = torch.optim.Adam(convs.parameters(), lr=LR)

    class Both:  # one optimizer object for bpr_epoch_fn
        @staticmethod
        def zero_grad():
            sparse_opt.zero_grad()
            dense_opt.zero_grad()

        @staticmethod
        def step():
            sparse_opt.step()
            dense_opt.step()

    def batch_loss(u, i, j):
        item_nodes, neg_nodes = i + U, j + U
        seeds = torch.unique(torch.cat([u, item_nodes, neg_nodes]))
        blocks, dst = [], seeds
        for fanout in FANOUTS:
            src, rows, cols = sample_block(g, dst, fanout)
            blocks.append((dst.numel(), src, rows, cols))
            dst = src
        # Cold items: seed items whose user neighbours every block hides (cold_items.cpp).
        is_item = (seeds >= U) & (seeds < U + I)
        cold = seeds[is_item & (torch.rand(seeds.numel(), device=dev) < COLD_RATE)]
        input_nodes = blocks[-1][1]
        starts, counts = g.tokptr[input_nodes], g.tokptr[input_nodes + 1] - g.tokptr[input_nodes]
        x = bag(g.tokens[ranges(starts, counts)], torch.cumsum(counts, 0) - counts)
        h = x
        for l, (n_dst, src, rows, cols) in enumerate(reversed(blocks)):
            keep = ~(torch.isin(src[rows], cold) & (src[cols] < U))
            h_out = convs[l]((h, h[:n_dst]), torch.stack([cols[keep], rows[keep]]), size=(h.size(0), n_dst))
            h = h_out if l + 1 == len(blocks) else torch.nn.functional.normalize(torch.relu(h_out), dim=1)
        pu, pi, pj = (torch.searchsorted(seeds, v) for v in (u, item_nodes, neg_nodes))
        pos, neg = (h[pu] * h[pi]).sum(1), (h[pu] * h[pj]).sum(1)
        l2 = x[pu].pow(2).sum() + x[pi].pow(2).sum() + x[pj].pow(2).sum()
        return torch.nn.functional.softplus(neg - pos).mean() + REG / (2 * u.numel()) * l2

    return bpr_epoch_fn(users, items, sample, dev, BATCH, Both, batch_loss)


def check_run(shop_dir, users, items, g):
    """When the shop is an Aisle run's data/ folder, its metrics.jsonl says how many rows, users
    and items Aisle trained on: they must be ours."""
    metrics = os.path.join(shop_dir, os.pardir, "metrics.jsonl")
    if not os.path.exists(metrics):
        return
    start = next(e for e in map(json.loads, open(metrics)) if e.get("event") == "start")
    ours = {"train_rows": users.numel(), "users": g.U, "items": g.I}
    if any(start[k] != v for k, v in ours.items()):
        raise SystemExit(f"Aisle's run trained on {start}, this peer on {ours}")
    say(f"train rows, users and items match {os.path.normpath(metrics)}")


def main():
    args, dev = parse_peer_args(__doc__, "shop", "Aisle dataset directory of the recipe's synthetic shop", "pyg")
    shop = Shop(args.shop)
    users, items = training_rows(shop)
    g = FeatureGraph(shop, users, items)
    for line in g.describe():
        say(line)
    check_run(args.shop, users, items, g)
    g.to(dev)
    known = torch.unique(items)  # the negative pool: items with training rows
    ranks = NegativeSampler(users, torch.searchsorted(known, items), known.numel(), dev)
    known, users, items = known.to(dev), users.to(dev), items.to(dev)
    steps_per_epoch = (users.numel() + BATCH - 1) // BATCH
    steps = min(args.steps or steps_per_epoch, steps_per_epoch)
    warmup_steps = min(args.warmup_steps or steps_per_epoch, steps_per_epoch)
    common = {"device": dev.type, "threads": torch.get_num_threads(), "torch": torch.__version__, "users": g.U,
              "items": g.I, "nodes": g.N, "edges": g.col.numel() // 2, "positives": users.numel(), "steps": steps,
              "full_epoch": steps == steps_per_epoch, "warmup_steps": warmup_steps}
    for case in args.cases.split(","):
        if case != "pyg":
            raise SystemExit(f"unknown case '{case}' (pyg)")
        import torch_geometric

        torch.manual_seed(0)
        reset_peak(dev)
        epoch = graphsage_epoch_fn(g, users, items, lambda u: known[ranks(u)], dev)
        ms, times, losses = time_epochs(epoch, args.epochs, warmup_steps, steps, dev)
        emit("graphsage_epoch/synthetic", ms, ms_per_step=round(ms / steps, 2), epochs_ms=[round(t, 1) for t in times],
             loss=round(losses[-1], 5), peak_MiB=peak_mib(dev), torch_geometric=torch_geometric.__version__, **common)


if __name__ == "__main__":
    main()
