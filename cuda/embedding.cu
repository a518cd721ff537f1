// Embedding-bag table gradient on CUDA. CPU twin and reference: src/ops/embedding.cpp; both evaluate
// the formula in src/ops/embedding_functors.hpp. (The forward pass and the weights gradient are the
// shared segmented gathers, cuda/segment_gather.cu.) No atomics: each element has one writer.
#include "cuda/common.cuh"
#include "cuda/embedding.hpp"
#include "cuda/segment_search.cuh"
#include "src/core/dispatch.hpp"
#include "src/ops/embedding_functors.hpp"

namespace aisle::cuda {

namespace {

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

}  // namespace

void embedding_bag_backward(const Tensor& offsets, const Tensor& dy, ops::BagMode mode,
                            const Tensor& weights, const Tensor& rows) {
  const int64_t bags = dy.size(0), n = rows.size(0), dim = rows.size(1);
  detail::dispatch_float(dy.dtype(), "embedding_bag_backward", [&](auto tag) {
    using T = decltype(tag);
    bag_backward_kernel<T><<<grid_for(n * dim), kThreads, 0, stream_of(dy)>>>(
        dy.data<T>(), offsets.data<int64_t>(), weights.defined() ? weights.data<T>() : nullptr, rows.data<T>(),
        bags, n, dim, mode == ops::BagMode::mean);
  });
  check_launch("embedding_bag_backward");
}

}  // namespace aisle::cuda
