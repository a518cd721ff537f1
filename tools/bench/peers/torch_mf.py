"""PyTorch peer of a biased-MF (rating prediction) epoch at MovieLens-1M's training size (80% of
1,000,209 ratings: 800,167), matching recipes/movielens-1m-mf.yaml: 128 factors, user and item
biases, a global mean, squared error, L2 0.06 on the factors and 0.01 on the biases of the batch's
rows, SGD lr 0.01. Written the way a careful PyTorch user would: data on the device, sparse
embeddings with the sparse-aware SGD, mini-batches (per-rating updates, Aisle's CPU mode, would
be one Python iteration per rating), no host syncs inside the epoch.
Usage: python3 torch_mf.py [cuda|cpu] [ratings.dat | user-movie pairs .tsv(.xz)] [batch]
Without a file, ids are drawn uniformly over ML-1M's 6,040 users and 3,952 movie ids; the epoch
time depends on the counts and the batch, not on the rating values."""
import lzma
import sys

import torch

from torch_common import device_from_argv, emit, median_epoch_ms, peak_mib, reset_peak

USERS, ITEMS, RATINGS, F, LR, REG, REG_BIAS = 6_041, 3_953, 800_167, 128, 0.01, 0.06, 0.01


def load(path):
    g = torch.Generator().manual_seed(1)
    if path is None:
        return (torch.randint(1, USERS, (RATINGS,), generator=g), torch.randint(1, ITEMS, (RATINGS,), generator=g),
                torch.randint(1, 6, (RATINGS,), generator=g).float())
    users, items, ratings = [], [], []
    with (lzma.open(path, "rt", encoding="latin-1") if path.endswith(".xz") else open(path, encoding="latin-1")) as f:
        for line in f:
            fields = line.strip().replace("::", "\t").split("\t")
            users.append(int(fields[0]))
            items.append(int(fields[1]))
            ratings.append(float(fields[2]) if len(fields) > 2 else 3.0)
    keep = torch.randperm(len(users), generator=g)[:RATINGS]  # the 80% a random split trains on
    return torch.tensor(users)[keep], torch.tensor(items)[keep], torch.tensor(ratings)[keep]


def main():
    dev = device_from_argv()
    users, items, ratings = load(sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None)
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 512
    users, items, ratings = users.to(dev), items.to(dev), ratings.to(dev)
    n_users, n_items = int(users.max()) + 1, int(items.max()) + 1
    mean = ratings.mean()
    reset_peak(dev)
    torch.manual_seed(0)
    p = torch.nn.Embedding(n_users, F, sparse=True).to(dev)
    q = torch.nn.Embedding(n_items, F, sparse=True).to(dev)
    bu = torch.nn.Embedding(n_users, 1, sparse=True).to(dev)
    bi = torch.nn.Embedding(n_items, 1, sparse=True).to(dev)
    for e in (p, q):
        torch.nn.init.normal_(e.weight, std=0.05)
    for e in (bu, bi):
        torch.nn.init.zeros_(e.weight)
    opt = torch.optim.SGD([e.weight for e in (p, q, bu, bi)], lr=LR)

    def epoch():
        order = torch.randperm(users.numel(), device=dev)
        total = torch.zeros((), device=dev)
        for start in range(0, order.numel(), batch):
            idx = order[start:start + batch]
            u, i, r = users[idx], items[idx], ratings[idx]
            pu, qi, b_u, b_i = p(u), q(i), bu(u).squeeze(1), bi(i).squeeze(1)
            err = mean + b_u + b_i + (pu * qi).sum(1) - r
            # Summed per rating, as per-rating SGD applies it.
            loss = 0.5 * (err.pow(2).sum() + REG * (pu.pow(2).sum() + qi.pow(2).sum()) +
                          REG_BIAS * (b_u.pow(2).sum() + b_i.pow(2).sum()))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += err.detach().pow(2).sum()
        return total

    emit(f"mf_epoch_ml1m/{dev.type}", median_epoch_ms(epoch, dev), peak_MiB=peak_mib(dev), ratings=users.numel(),
         batch=batch)


if __name__ == "__main__":
    main()
