// The segment_reduce family on CUDA. CPU twin and reference: src/ops/segment_reduce.cpp; both
// compare with src/ops/segment_reduce_functors.hpp.
// Forward: one thread per output element (r, d), scanning row r's neighbours in CSR order exactly
// as the CPU does, so values and argmax are bit-identical to it. Consecutive threads share r and
// read consecutive d of the same x row (coalesced). A long row costs its length per thread; rows
// are not split, which keeps the first-wins tie rule trivial. No atomics.
// Backward: this file only computes flat destination keys; the reduction is ops::scatter_add
// (stable radix sort + in-order run sums, cuda/scatter.cu), deterministic without float atomics.
#include "cuda/common.cuh"
#include "cuda/segment_reduce.hpp"
#include "src/core/dispatch.hpp"
#include "src/ops/segment_reduce_functors.hpp"

namespace aisle::cuda {

namespace {

template <class T, class I>
__global__ void neighbor_max_kernel(const int64_t* ptr, const I* idx, const T* x, T* values, int64_t* argmax,
                                    int64_t rows, int64_t d, int64_t x_rows, int64_t* bad) {
  AISLE_GRID_STRIDE(i, rows * d) {
    const int64_t r = i / d, k = i % d;
    T best = 0;
    int64_t win = -1;  // stays -1 (and best 0) for a row with no neighbours
    for (int64_t j = ptr[r], end = ptr[r + 1]; j < end; ++j) {
      const int64_t c = static_cast<int64_t>(idx[j]);
      if (c < 0 || c >= x_rows) {
        report_bad_index(bad, c);
        continue;
      }
      const T v = x[c * d + k];
      if (win < 0 || detail::max_replaces(v, best)) {
        best = v;
        win = c;
      }
    }
    values[i] = best;
    argmax[i] = win;
  }
}

__global__ void scatter_keys_kernel(const int64_t* argmax, int64_t n, int64_t d, int64_t cols, int64_t* keys,
                                    int64_t* bad) {
  const int64_t spare = cols * d;
  AISLE_GRID_STRIDE(i, n) {
    const int64_t c = argmax[i];
    const int64_t spare_slot = spare + i % kNeighborMaxSpareSlots;
    if (c < -1 || c >= cols) {
      report_bad_index(bad, c);
      keys[i] = spare_slot;
      continue;
    }
    keys[i] = c < 0 ? spare_slot : c * d + i % d;
  }
}

}  // namespace

void neighbor_max(const ops::Csr& graph, const Tensor& x, const Tensor& values, const Tensor& argmax) {
  const char* op = "neighbor_max";
  const int64_t rows = graph.rows, d = x.size(1), x_rows = x.size(0);
  const int dev = x.device().index;
  detail::dispatch_float(x.dtype(), op, [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(graph.col_idx.dtype(), op, [&](auto itag) {
      using I = decltype(itag);
      neighbor_max_kernel<T, I><<<grid_for(rows * d), kThreads, 0, stream_of(x)>>>(
          graph.row_ptr.data<int64_t>(), graph.col_idx.data<I>(), x.data<T>(), values.data<T>(),
          argmax.data<int64_t>(), rows, d, x_rows, index_error_slot(dev));
    });
  });
  check_launch(op);
  raise_index_error(dev, op, x_rows);
}

void neighbor_max_scatter_keys(const Tensor& argmax, int64_t cols, const Tensor& keys) {
  const char* op = "neighbor_max_backward";
  const int64_t n = argmax.numel(), d = argmax.size(1);
  const int dev = argmax.device().index;
  scatter_keys_kernel<<<grid_for(n), kThreads, 0, stream_of(argmax)>>>(argmax.data<int64_t>(), n, d, cols,
                                                                       keys.data<int64_t>(), index_error_slot(dev));
  check_launch(op);
  raise_index_error(dev, op, cols);
}

}  // namespace aisle::cuda
