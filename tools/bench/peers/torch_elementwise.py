"""PyTorch peer of tools/bench/bench_elementwise.cpp: the same elementwise, broadcast and
column-sum ops and the dropout mask on the same [rows, dim] f32 shapes, counted with the same bytes.
Usage: python3 torch_elementwise.py [cuda|cpu]"""
import torch
import torch.nn.functional as F

from torch_common import copy_gbs, device_from_argv, emit, median_ms


def main():
    dev = device_from_argv()
    tag = dev.type
    copy = copy_gbs(dev)
    print(f'{{"copy_GB/s": {copy:.1f}, "device": "{torch.cuda.get_device_name(dev) if tag == "cuda" else "cpu"}"}}')
    g = torch.Generator(device=dev).manual_seed(5)
    for rows, dim in ((70839, 64), (1 << 20, 64)):
        a = torch.rand(rows, dim, device=dev, generator=g) * 2 - 1
        b = torch.rand(rows, dim, device=dev, generator=g) * 2 - 1
        bias = torch.rand(dim, device=dev, generator=g) * 2 - 1
        t = 4 * rows * dim
        cases = {
            "add": (lambda: a + b, 3 * t),
            "add_row_bias": (lambda: a + bias, 2 * t),
            "mul": (lambda: a * b, 3 * t),
            "leaky_relu": (lambda: F.leaky_relu(a, 0.2), 2 * t),
            # What autograd runs for leaky_relu's backward.
            "leaky_relu_backward": (lambda: torch.ops.aten.leaky_relu_backward(b, a, 0.2, False), 3 * t),
            "column_sum": (lambda: a.sum(0), t),
            "l2_normalize_rows": (lambda: F.normalize(a, dim=1), 2 * t),
            # What F.dropout draws: a Bernoulli mask of the input's shape.
            "dropout_mask": (lambda: torch.empty_like(a).bernoulli_(0.9), t),
        }
        with torch.no_grad():
            for name, (fn, nbytes) in cases.items():
                emit(f"{name}/{tag}/{rows}/{dim}", median_ms(fn, dev, repeats=50), nbytes, copy)


if __name__ == "__main__":
    main()
