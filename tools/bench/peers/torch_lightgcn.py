"""PyTorch peer of one LightGCN training epoch on Gowalla (29,858 users, 40,981 items, 810,128
positives), matching recipes/gowalla-lightgcn.yaml: 64 dimensions, 3 layers, mean of the layers,
Adam lr 1e-3, batches of 2048 from a shuffled permutation of the training pairs, one uniform
negative per positive that is not one of the user's training items (rejected and redrawn), BPR
softplus loss plus reg/2 (|e_u|^2 + |e_i|^2 + |e_j|^2) / batch on the ego rows with reg 1e-4, and
the whole graph propagated at every step. Written the way a careful PyTorch user would, after the
reference LightGCN-PyTorch code: the normalised adjacency D^-1/2 A D^-1/2 of the user-item
bipartite graph as one torch.sparse matrix built once, torch.sparse.mm for each layer, two dense
nn.Embedding tables concatenated at each step, torch.optim.Adam; the negatives of an epoch drawn
at once, vectorised, and counted in the epoch's time.

Cases (--cases, comma-separated):
  coo      the reference: a coalesced COO adjacency, torch.sparse.mm ("lightgcn_epoch/gowalla");
  csr      the same model with the adjacency as CSR ("lightgcn_epoch_csr/gowalla"): a faster
           forward on the CPU, but autograd's backward through a CSR product is slower there;
  csr_sym  CSR with a small autograd.Function that uses the adjacency itself as its transpose (it
           is symmetric), so the backward is one more CSR product ("lightgcn_epoch_csr_sym/gowalla"):
           what a careful user who profiles would write;
  pyg      torch_geometric.nn.models.LightGCN when torch_geometric is importable
           ("lightgcn_epoch_pyg/gowalla": edge_index as in PyG's examples/lightgcn.py, its
           recommendation_loss with lambda_reg = reg / 2 over the same (u, i, j) rows, so the loss
           is the same); otherwise a JSON note says it was skipped.

Each case runs a warm-up epoch (or its first --warmup-steps steps), then --epochs epochs; the row
holds the median epoch in ms and its ms per step. --steps N times only the first N steps of each
epoch (a quick look; the row then says full_epoch: false). Threads: --threads, else
$OMP_NUM_THREADS, else every core (torch.set_num_threads).
Usage: python3 torch_lightgcn.py [cpu|cuda] TRAIN_TXT[.xz] [--epochs 3] [--threads N]
           [--warmup-steps N] [--steps N] [--cases coo,csr,csr_sym,pyg]"""
import argparse
import json
import os
import statistics
import time

import torch

from torch_common import emit, peak_mib, read_user_item_lists, reset_peak, sync

F, LAYERS, LR, BATCH, REG, INIT_STD = 64, 3, 1e-3, 2048, 1e-4, 0.1


def normalized_adjacency(users, items, n_users, n_items, layout, dev):
    """D^-1/2 A D^-1/2 of A = [[0, R], [R^T, 0]], users first, then items (as the reference)."""
    n = n_users + n_items
    rows = torch.cat([users, items + n_users])
    cols = torch.cat([items + n_users, users])
    deg = torch.bincount(rows, minlength=n).float()
    inv_sqrt = deg.pow(-0.5)
    inv_sqrt[deg == 0] = 0
    values = inv_sqrt[rows] * inv_sqrt[cols]
    graph = torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (n, n)).coalesce()
    if layout != "coo":
        graph = graph.to_sparse_csr()
    return graph.to(dev)


class SymmetricSpmm(torch.autograd.Function):
    """graph @ x for a symmetric graph: the gradient of x is graph^T @ g = graph @ g."""

    @staticmethod
    def forward(ctx, graph, x):
        ctx.graph = graph
        return torch.sparse.mm(graph, x)

    @staticmethod
    def backward(ctx, grad):
        return None, torch.sparse.mm(ctx.graph, grad)


class NegativeSampler:
    """One uniform item per positive that the user has not trained on: draw, test membership with
    a binary search over the sorted user * items + item keys, redraw the hits."""

    def __init__(self, users, items, n_items, dev):
        self.n_items = n_items
        self.keys = torch.sort(users * n_items + items).values.to(dev)

    def __call__(self, users):
        neg = torch.randint(0, self.n_items, users.shape, device=users.device)
        redraw = torch.arange(users.numel(), device=users.device)
        while redraw.numel():
            keys = users[redraw] * self.n_items + neg[redraw]
            at = torch.searchsorted(self.keys, keys).clamp_(max=self.keys.numel() - 1)
            redraw = redraw[self.keys[at] == keys]
            neg[redraw] = torch.randint(0, self.n_items, redraw.shape, device=users.device)
        return neg


def reference_model(graph, n_users, n_items, dev, symmetric=False):
    """The reference model: two embedding tables, light_out = mean of the propagated layers.
    Returns (user_emb, item_emb, Adam over both, computer() -> (all_users, all_items))."""
    user_emb = torch.nn.Embedding(n_users, F).to(dev)
    item_emb = torch.nn.Embedding(n_items, F).to(dev)
    for e in (user_emb, item_emb):
        torch.nn.init.normal_(e.weight, std=INIT_STD)
    opt = torch.optim.Adam(list(user_emb.parameters()) + list(item_emb.parameters()), lr=LR)

    def computer():
        emb = torch.cat([user_emb.weight, item_emb.weight])
        layers = [emb]
        for _ in range(LAYERS):
            emb = SymmetricSpmm.apply(graph, emb) if symmetric else torch.sparse.mm(graph, emb)
            layers.append(emb)
        light_out = torch.stack(layers, dim=1).mean(dim=1)
        return torch.split(light_out, [n_users, n_items])

    return user_emb, item_emb, opt, computer


def reference_epoch_fn(graph, users, items, n_users, n_items, sample, dev, symmetric=False):
    """An epoch of the reference model over the shuffled training pairs."""
    user_emb, item_emb, opt, computer = reference_model(graph, n_users, n_items, dev, symmetric)

    def batch_loss(u, i, j):
        all_users, all_items = computer()
        eu, ei, ej = all_users[u], all_items[i], all_items[j]
        pos, neg = (eu * ei).sum(1), (eu * ej).sum(1)
        loss = torch.nn.functional.softplus(neg - pos).mean()
        reg = 0.5 * (user_emb(u).pow(2).sum() + item_emb(i).pow(2).sum() + item_emb(j).pow(2).sum()) / u.numel()
        return loss + REG * reg

    return bpr_epoch_fn(users, items, sample, dev, BATCH, opt, batch_loss)


def bpr_epoch_fn(users, items, sample, dev, batch, opt, batch_loss):
    """An epoch over the shuffled training pairs in batches, one sampled negative per pair,
    batch_loss(u, i, j) then an optimizer step; returns the mean loss, as the reference code logs
    it (also torch_ngcf.py's loop)."""

    def epoch(max_steps):
        order = torch.randperm(users.numel(), device=dev)
        negatives = sample(users)
        total, steps = 0.0, 0
        for start in range(0, min(order.numel(), max_steps * batch), batch):
            idx = order[start:start + batch]
            loss = batch_loss(users[idx], items[idx], negatives[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()  # the reference logs the epoch's mean loss the same way
            steps += 1
        return total / steps

    return epoch


def pyg_epoch_fn(users, items, n_users, n_items, sample, dev):
    from torch_geometric.nn.models import LightGCN

    model = LightGCN(n_users + n_items, embedding_dim=F, num_layers=LAYERS).to(dev)  # alpha: 1 / (layers + 1)
    torch.nn.init.normal_(model.embedding.weight, std=INIT_STD)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    item_nodes = items + n_users
    edge_index = torch.stack([torch.cat([users, item_nodes]), torch.cat([item_nodes, users])])

    def batch_loss(u, i, j):  # i, j: item nodes
        label_index = torch.stack([torch.cat([u, u]), torch.cat([i, j])])
        pos, neg = model(edge_index, label_index).chunk(2)
        # PyG's BPR regularisation is lambda_reg * |rows|^2 / batch: reg / 2 gives the recipe's.
        return model.recommendation_loss(pos, neg, node_id=torch.cat([u, i, j]), lambda_reg=REG / 2)

    return bpr_epoch_fn(users, item_nodes, lambda u: sample(u) + n_users, dev, BATCH, opt, batch_loss)


def time_epochs(epoch, epochs, warmup_steps, steps, dev):
    epoch(warmup_steps)  # warms up the allocator, the sparse kernels and the threads
    times, losses = [], []
    for _ in range(epochs):
        sync(dev)
        t0 = time.perf_counter()
        losses.append(epoch(steps))
        sync(dev)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), times, losses


def parse_peer_args(doc, data_arg, data_help, cases):
    """The graph peers' shared command line: device, their data, epochs, threads, steps, cases; sets
    the thread count and returns (args, device)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("device", nargs="?", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(data_arg, help=data_help)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after the warm-up epoch")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS") or 0),
                        help="torch.set_num_threads (default: $OMP_NUM_THREADS, else every core)")
    parser.add_argument("--warmup-steps", type=int, default=0, help="steps of the warm-up epoch (0: all of it)")
    parser.add_argument("--steps", type=int, default=0, help="steps timed in each epoch (0: all of them)")
    parser.add_argument("--cases", default=cases, help=f"comma-separated: {cases.replace(',', ', ')}")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    return args, torch.device(args.device)


def setup(doc, cases, batch):
    """The graph peers' command line, the Gowalla pairs on the device, the negative sampler and the
    fields every JSON row carries (also torch_ngcf.py's)."""
    args, dev = parse_peer_args(doc, "train", "LightGCN train.txt (plain or .xz): 'user item item ...' per line", cases)
    users, items = read_user_item_lists(args.train)
    # Ids from train.txt alone: on Gowalla every user and item is in it (29,858 and 40,981, as Aisle's import).
    n_users, n_items = int(users.max()) + 1, int(items.max()) + 1
    users, items = users.to(dev), items.to(dev)
    steps_per_epoch = (users.numel() + batch - 1) // batch
    args.steps = min(args.steps or steps_per_epoch, steps_per_epoch)
    args.warmup_steps = min(args.warmup_steps or steps_per_epoch, steps_per_epoch)
    common = {"device": dev.type, "threads": torch.get_num_threads(), "torch": torch.__version__, "users": n_users,
              "items": n_items, "positives": users.numel(), "steps": args.steps,
              "full_epoch": args.steps == steps_per_epoch, "warmup_steps": args.warmup_steps}
    return args, dev, users, items, n_users, n_items, NegativeSampler(users, items, n_items, dev), common


def main():
    args, dev, users, items, n_users, n_items, sample, common = setup(__doc__, "coo,csr,csr_sym,pyg", BATCH)
    steps, warmup_steps = args.steps, args.warmup_steps
    for case in args.cases.split(","):
        extra = {}
        torch.manual_seed(0)
        reset_peak(dev)
        if case in ("coo", "csr", "csr_sym"):
            graph = normalized_adjacency(users.cpu(), items.cpu(), n_users, n_items, case, dev)
            epoch = reference_epoch_fn(graph, users, items, n_users, n_items, sample, dev, symmetric=case == "csr_sym")
            name = "lightgcn_epoch/gowalla" if case == "coo" else f"lightgcn_epoch_{case}/gowalla"
        elif case == "pyg":
            try:
                import torch_geometric
            except ImportError as e:
                print(json.dumps({"name": "lightgcn_epoch_pyg/gowalla", "note": f"skipped: {e}"}), flush=True)
                continue
            epoch = pyg_epoch_fn(users, items, n_users, n_items, sample, dev)
            name = "lightgcn_epoch_pyg/gowalla"
            extra = {"torch_geometric": torch_geometric.__version__}
        else:
            raise SystemExit(f"unknown case '{case}' (coo, csr, csr_sym, pyg)")
        ms, times, losses = time_epochs(epoch, args.epochs, warmup_steps, steps, dev)
        emit(name, ms, ms_per_step=round(ms / steps, 2), epochs_ms=[round(t, 1) for t in times],
             loss=round(losses[-1], 5), peak_MiB=peak_mib(dev), **common, **extra)


if __name__ == "__main__":
    main()
