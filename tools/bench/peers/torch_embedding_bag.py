"""PyTorch peer of tools/bench/bench_embedding.cpp: nn.EmbeddingBag (sum) forward, backward
(sparse gradient), and backward plus torch.optim.Adagrad's sparse step, on the same shapes and
counted with the same minimum bytes. Usage: python3 torch_embedding_bag.py [cuda|cpu]"""
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
                opt = torch.optim.Adagrad(emb.parameters(), lr=0.01)

                def step():
                    backward()
                    opt.step()

                emit(f"embedding_bag_bwd_rowwise_adagrad/{tag}/{shape}", median_ms(step, dev),
                     4 * dim * (4 * bags * bag + bags), copy, peak_MiB=peak_mib(dev),
                     note="forward + backward + sparse Adagrad (element-wise state, PyTorch has no row-wise)")
                del emb, opt


if __name__ == "__main__":
    main()
