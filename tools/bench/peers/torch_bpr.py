"""PyTorch peer of a BPR-MF epoch at Gowalla's size (29,858 users, 40,981 items, 810,128
positives), matching recipes/gowalla-bpr.yaml: 64 factors, item bias, batch 2048, 4 uniform
negatives per positive, sparse Adagrad lr 0.1, L2 0.01 on the batch's rows. Written the way a
careful PyTorch user would: data and sampling on the device, sparse embeddings, no host syncs
inside the epoch. Usage: python3 torch_bpr.py [cuda|cpu] [gowalla train.txt(.xz)]"""
import sys

import torch

from torch_common import device_from_argv, emit, median_epoch_ms, peak_mib, read_user_item_lists, reset_peak

USERS, ITEMS, POSITIVES, F, BATCH, NEG, LR, REG = 29_858, 40_981, 810_128, 64, 2048, 4, 0.1, 0.01


def load(path):
    if path is None:
        g = torch.Generator().manual_seed(1)
        return torch.arange(POSITIVES) % USERS, torch.randint(0, ITEMS, (POSITIVES,), generator=g)
    return read_user_item_lists(path)


def main():
    dev = device_from_argv()
    users, items = load(sys.argv[2] if len(sys.argv) > 2 else None)
    users, items = users.to(dev), items.to(dev)
    reset_peak(dev)
    torch.manual_seed(0)
    p = torch.nn.Embedding(USERS, F, sparse=True).to(dev)
    q = torch.nn.Embedding(ITEMS, F, sparse=True).to(dev)
    b = torch.nn.Embedding(ITEMS, 1, sparse=True).to(dev)
    for e in (p, q):
        torch.nn.init.normal_(e.weight, std=0.1)
    torch.nn.init.zeros_(b.weight)
    opt = torch.optim.Adagrad(list(p.parameters()) + list(q.parameters()) + list(b.parameters()), lr=LR)

    def epoch():
        order = torch.randperm(users.numel(), device=dev)
        total = torch.zeros((), device=dev)
        for start in range(0, order.numel(), BATCH):
            idx = order[start:start + BATCH]
            u, i = users[idx], items[idx]
            j = torch.randint(0, ITEMS, (idx.numel(), NEG), device=dev)
            pu, qi, qj, bi, bj = p(u), q(i), q(j), b(i).squeeze(1), b(j).squeeze(2)
            s_ui = (pu * qi).sum(1) + bi
            s_uj = torch.einsum("bf,bkf->bk", pu, qj) + bj
            loss = torch.nn.functional.softplus(s_uj - s_ui[:, None]).mean()
            l2 = pu.pow(2).sum() + qi.pow(2).sum() + bi.pow(2).sum() + (qj.pow(2).sum() + bj.pow(2).sum()) / NEG
            loss = loss + REG / (2 * idx.numel()) * l2
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach()
        return total

    emit(f"bpr_epoch_gowalla/{dev.type}", median_epoch_ms(epoch, dev), peak_MiB=peak_mib(dev),
         positives=users.numel())


if __name__ == "__main__":
    main()
