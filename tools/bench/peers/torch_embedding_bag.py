"""PyTorch peer of tools/bench/bench_embedding.cpp: nn.EmbeddingBag (sum) forward, backward
(sparse gradient), and backward plus a sparse optimizer step (torch.optim.Adagrad, which keeps
element-wise state where Aisle's row-wise Adagrad keeps one value per row, and
torch.optim.SparseAdam), on the same shapes and counted with the same minimum bytes as Aisle's
fused steps. Usage: python3 torch_embedding_bag.py [cuda|cpu]"""
import torch

from torch_common import copy_gbs, device_from_argv, emit, median_ms, peak_mib, reset_peak

ROWS = 1_000_000


def main():
    dev = device_from_argv()
    tag = dev.type
    copy = copy_gbs(dev)
    print(f'{{"copy_GB/s": {copy:.1f}, "device": "{torch.cuda.get_device_name(dev) if tag == "cuda" else "cpu"}"}}')
    for bags in (4096, 65536):
        for dim in (64, 128):
            for bag in (1, 20, 50):
                if tag == "cpu" and bags > 4096:
                    continue
                reset_peak(dev)
                g = torch.Generator(device=dev).manual_seed(7)
                emb = torch.nn.EmbeddingBag(ROWS, dim, mode="sum", sparse=True).to(dev)
                ids = torch.randint(0, ROWS, (bags * bag,), device=dev, generator=g)
                offsets = torch.arange(0, bags * bag, bag, device=dev)
                dy = torch.rand(bags, dim, device=dev, generator=g) * 2 - 1
                fwd_bytes = 4 * dim * (bags * bag + bags) + 8 * (bags * bag + bags + 1)
                shape = f"{bags}/{bag}/{dim}"
                with torch.no_grad():
                    ms = median_ms(lambda: emb(ids, offsets), dev)
                emit(f"embedding_bag_fwd/{tag}/{shape}", ms, fwd_bytes, copy, peak_MiB=peak_mib(dev))

                def backward():
                    emb.weight.grad = None
                    emb(ids, offsets).backward(dy)

                emit(f"embedding_bag_bwd/{tag}/{shape}", median_ms(backward, dev), fwd_bytes, copy,
                     peak_MiB=peak_mib(dev), note="includes the forward (autograd needs it)")
                distinct = ids.unique().numel()

                def step_bytes(state_per_row):  # as fused_step_bytes in bench_embedding.cpp
                    return 4 * dim * bags + 8 * (bags * bag + bags + 1) + 2 * 4 * distinct * (dim + state_per_row)

                for name, opt, state_per_row, note in (
                        ("rowwise_adagrad", torch.optim.Adagrad(emb.parameters(), lr=0.01), 1,
                         "forward + backward + sparse Adagrad (element-wise state, PyTorch has no row-wise)"),
                        ("sparse_adam", torch.optim.SparseAdam(list(emb.parameters()), lr=0.001), 2 * dim,
                         "forward + backward + SparseAdam")):
                    def step():
                        backward()
                        opt.step()

                    emit(f"embedding_bag_bwd_{name}_fused/{tag}/{shape}", median_ms(step, dev),
                         step_bytes(state_per_row), copy, peak_MiB=peak_mib(dev), note=note)
                    del opt
                del emb


if __name__ == "__main__":
    main()
