"""PyTorch peer of one NGCF training epoch on Gowalla (29,858 users, 40,981 items, 810,128
positives), matching recipes/gowalla-ngcf.yaml and Aisle's src/models/ngcf: 64-dimensional ego
embeddings, three layers of 64, per layer
    side = Â E,  E' = LeakyReLU_0.2((side + E) W1 + b1) + LeakyReLU_0.2((E ⊙ side) W2 + b2),
message dropout 0.1 on E' (inverted), and the final embedding concat(E0, n(E1), n(E2), n(E3)) with n
the row L2 normalisation; Â = D^-1/2 A D^-1/2 of the user-item graph; every table and bias
Xavier-uniform; Adam lr 1e-4; batches of 1024 from a shuffled permutation; one uniform negative
per positive that is not a training item of the user; BPR softplus loss plus
reg/2 (|e_u|^2 + |e_i|^2 + |e_j|^2) / batch on the ego rows with reg 1e-5; the whole graph
propagated at every step. Written the way a careful PyTorch user would, after the reference
NGCF-PyTorch code (one torch.sparse adjacency built once, nn.Linear-style dense layers, autograd,
torch.optim.Adam); the adjacency, the negative sampler and the timing are torch_lightgcn.py's.

Cases (--cases, comma-separated):
  coo      the reference: a coalesced COO adjacency, torch.sparse.mm ("ngcf_epoch/gowalla");
  csr_sym  CSR with the adjacency as its own transpose in the backward ("ngcf_epoch_csr_sym/gowalla"),
           the faster formulation on the CPU (see torch_lightgcn.py).

Each case runs a warm-up epoch (or its first --warmup-steps steps), then --epochs epochs; the row
holds the median epoch in ms and its ms per step; --steps N times only the first N steps of each
epoch (the row then says full_epoch: false).
Usage: python3 torch_ngcf.py [cpu|cuda] TRAIN_TXT[.xz] [--epochs 3] [--threads N]
           [--warmup-steps N] [--steps N] [--cases coo,csr_sym]"""
import torch

from torch_common import emit, peak_mib, reset_peak
from torch_lightgcn import SymmetricSpmm, bpr_epoch_fn, normalized_adjacency, setup, time_epochs

F, LAYERS, LR, BATCH, REG, DROPOUT, SLOPE = 64, [64, 64, 64], 1e-4, 1024, 1e-5, 0.1, 0.2


def xavier(rows, cols, dev, fan_in=None, fan_out=None):
    fan_in, fan_out = fan_in or rows, fan_out or cols
    bound = (6.0 / (fan_in + fan_out)) ** 0.5
    return torch.nn.Parameter(torch.empty(rows, cols, device=dev).uniform_(-bound, bound))


def ngcf_epoch_fn(graph, users, items, n_users, n_items, sample, dev, symmetric):
    ego = xavier(n_users + n_items, F, dev)
    layers, d_in = [], F
    for d_out in LAYERS:
        # Biases as [1, d] rows, Xavier over (1, d), as Aisle and the reference code initialise them.
        layers.append([xavier(d_in, d_out, dev), xavier(1, d_out, dev), xavier(d_in, d_out, dev), xavier(1, d_out, dev)])
        d_in = d_out
    opt = torch.optim.Adam([ego] + [p for layer in layers for p in layer], lr=LR)
    leaky = torch.nn.LeakyReLU(SLOPE)
    dropout = torch.nn.Dropout(DROPOUT)

    def propagate():
        e, parts = ego, [ego]
        for w1, b1, w2, b2 in layers:
            side = SymmetricSpmm.apply(graph, e) if symmetric else torch.sparse.mm(graph, e)
            e = leaky((side + e) @ w1 + b1) + leaky((e * side) @ w2 + b2)
            e = dropout(e)
            parts.append(torch.nn.functional.normalize(e, p=2, dim=1))
        return torch.split(torch.cat(parts, 1), [n_users, n_items])

    def batch_loss(u, i, j):
        all_users, all_items = propagate()
        eu, ei, ej = all_users[u], all_items[i], all_items[j]
        loss = torch.nn.functional.softplus((eu * ej).sum(1) - (eu * ei).sum(1)).mean()
        reg = 0.5 * (ego[u].pow(2).sum() + ego[n_users + i].pow(2).sum() + ego[n_users + j].pow(2).sum())
        return loss + REG * reg / u.numel()

    return bpr_epoch_fn(users, items, sample, dev, BATCH, opt, batch_loss)


def main():
    args, dev, users, items, n_users, n_items, sample, common = setup(__doc__, "coo,csr_sym", BATCH)
    steps, warmup_steps = args.steps, args.warmup_steps
    for case in args.cases.split(","):
        if case not in ("coo", "csr_sym"):
            raise SystemExit(f"unknown case '{case}' (coo, csr_sym)")
        torch.manual_seed(0)
        reset_peak(dev)
        graph = normalized_adjacency(users.cpu(), items.cpu(), n_users, n_items, "coo" if case == "coo" else "csr", dev)
        epoch = ngcf_epoch_fn(graph, users, items, n_users, n_items, sample, dev, symmetric=case == "csr_sym")
        ms, times, losses = time_epochs(epoch, args.epochs, warmup_steps, steps, dev)
        emit("ngcf_epoch/gowalla" if case == "coo" else f"ngcf_epoch_{case}/gowalla", ms,
             ms_per_step=round(ms / steps, 2), epochs_ms=[round(t, 1) for t in times], loss=round(losses[-1], 5),
             peak_MiB=peak_mib(dev), **common)


if __name__ == "__main__":
    main()
