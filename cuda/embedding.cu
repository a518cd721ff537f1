// Embedding-bag family on CUDA. CPU twin and reference: src/ops/embedding.cpp; both evaluate the
// formulas in src/ops/embedding_functors.hpp.
// Every bag is summed by one warp in the order of its ids (lanes across the embedding width), the
// same order as the CPU, with unfused multiply-adds, so the forward pass matches the CPU bit for
// bit. No atomics: each output element has exactly one writer.
#include "cuda/common.cuh"
#include "cuda/embedding.hpp"
#include "cuda/segment_search.cuh"
#include "src/core/dispatch.hpp"
#include "src/ops/embedding_functors.hpp"
#include "src/ops/unfused_madd.hpp"

namespace aisle::cuda {

namespace {

// One warp per bag; writes every element of the bag's row, empty bags included.
template <class T, class I>
__global__ void bag_forward_kernel(const T* table, const I* ids, const int64_t* offsets, const T* weights,
                                   T* out, int64_t bags, int64_t dim, int64_t table_rows, bool mean,
                                   int64_t* bad) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  AISLE_WARP_STRIDE(b, bags) {
    const int64_t j0 = offsets[b], j1 = offsets[b + 1];
    for (int64_t c = lane; c < dim; c += kWarp) {
      T acc = 0;
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t id = static_cast<int64_t>(ids[j]);
        if (id < 0 || id >= table_rows) {
          report_bad_index(bad, id);
          continue;
        }
        const T v = table[id * dim + c];
        acc = weights != nullptr ? detail::madd_unfused(acc, weights[j], v) : acc + v;
      }
      out[b * dim + c] = detail::bag_finish(acc, mean, j1 - j0);
    }
  }
}

// rows[j] = dy[bag(j)] * scale(j): one thread per element, the bag found by binary search.
template <class T>
__global__ void bag_backward_kernel(const T* dy, const int64_t* offsets, const T* weights, T* rows,
                                    int64_t bags, int64_t n, int64_t dim, bool mean) {
  AISLE_GRID_STRIDE(e, n * dim) {
    const int64_t j = e / dim;
    const int64_t b = segment_of(offsets, bags, j);
    const T scale = detail::bag_grad_scale(mean, weights, j, offsets[b + 1] - offsets[b]);
    rows[e] = dy[b * dim + e % dim] * scale;
  }
}

// dw[j] = dot(dy[bag(j)], table[ids[j]]): one warp per id.
template <class T, class I>
__global__ void bag_weights_backward_kernel(const T* table, const I* ids, const int64_t* offsets,
                                            const T* dy, T* dw, int64_t bags, int64_t n, int64_t dim,
                                            int64_t table_rows, int64_t* bad) {
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  AISLE_WARP_STRIDE(j, n) {
    const int64_t id = static_cast<int64_t>(ids[j]);
    T acc = 0;
    if (id >= 0 && id < table_rows) {
      const int64_t b = segment_of(offsets, bags, j);
      for (int64_t c = lane; c < dim; c += kWarp)
        acc = detail::madd_unfused(acc, dy[b * dim + c], table[id * dim + c]);
    } else if (lane == 0) {
      report_bad_index(bad, id);
    }
    acc = warp_sum(acc);
    if (lane == 0) dw[j] = acc;
  }
}

template <class T>
const T* optional_data(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

void embedding_bag(const Tensor& table, const Tensor& ids, const Tensor& offsets, ops::BagMode mode,
                   const Tensor& weights, const Tensor& out) {
  const int64_t bags = out.size(0), dim = out.size(1), table_rows = table.size(0);
  const int dev = table.device().index;
  detail::dispatch_float(table.dtype(), "embedding_bag", [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(ids.dtype(), "embedding_bag", [&](auto itag) {
      using I = decltype(itag);
      bag_forward_kernel<T, I><<<grid_for(bags * kWarp), kThreads, 0, stream_of(table)>>>(
          table.data<T>(), ids.data<I>(), offsets.data<int64_t>(), optional_data<T>(weights),
          out.data<T>(), bags, dim, table_rows, mode == ops::BagMode::mean, index_error_slot(dev));
    });
  });
  check_launch("embedding_bag");
  raise_index_error(dev, "embedding_bag", table_rows);
}

void embedding_bag_backward(const Tensor& offsets, const Tensor& dy, ops::BagMode mode,
                            const Tensor& weights, const Tensor& rows) {
  const int64_t bags = dy.size(0), n = rows.size(0), dim = rows.size(1);
  detail::dispatch_float(dy.dtype(), "embedding_bag_backward", [&](auto tag) {
    using T = decltype(tag);
    bag_backward_kernel<T><<<grid_for(n * dim), kThreads, 0, stream_of(dy)>>>(
        dy.data<T>(), offsets.data<int64_t>(), optional_data<T>(weights), rows.data<T>(), bags, n, dim,
        mode == ops::BagMode::mean);
  });
  check_launch("embedding_bag_backward");
}

void embedding_bag_weights_backward(const Tensor& table, const Tensor& ids, const Tensor& offsets,
                                    const Tensor& dy, const Tensor& dw) {
  const int64_t bags = dy.size(0), n = ids.numel(), dim = table.size(1), table_rows = table.size(0);
  const int dev = table.device().index;
  detail::dispatch_float(table.dtype(), "embedding_bag_weights_backward", [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(ids.dtype(), "embedding_bag_weights_backward", [&](auto itag) {
      using I = decltype(itag);
      bag_weights_backward_kernel<T, I><<<grid_for(n * kWarp), kThreads, 0, stream_of(table)>>>(
          table.data<T>(), ids.data<I>(), offsets.data<int64_t>(), dy.data<T>(), dw.data<T>(), bags, n,
          dim, table_rows, index_error_slot(dev));
    });
  });
  check_launch("embedding_bag_weights_backward");
  raise_index_error(dev, "embedding_bag_weights_backward", table_rows);
}

}  // namespace aisle::cuda
