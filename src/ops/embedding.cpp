// Embedding-bag family: checks, dispatch, the CPU gradient kernel. CUDA twin: cuda/embedding.cu.
// The forward pass and the weights gradient are the shared segmented gathers
// (src/ops/segment_gather.hpp); formulas: src/ops/embedding_functors.hpp.
#include "aisle/ops/embedding.hpp"

#include <vector>

#include "cuda/embedding.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/embedding_checks.hpp"
#include "src/ops/embedding_functors.hpp"
#include "src/ops/segment_gather.hpp"

namespace aisle::ops {

const char* bag_mode_name(BagMode mode) {
  switch (mode) {
    case BagMode::sum: return "sum";
    case BagMode::mean: return "mean";
  }
  return "?";
}

Tensor embedding_bag(const Tensor& table, const Tensor& ids, const Tensor& offsets, BagMode mode,
                     const Tensor& per_sample_weights) {
  const char* op = "embedding_bag";
  detail::check_table(op, "table", table);
  const int64_t bags = detail::checked_bags(op, ids, offsets, "table", table).segments;
  detail::check_bag_weights(op, per_sample_weights, ids, mode, "table", table);
  Tensor out = Tensor::empty({bags, table.size(1)}, detail::compute_dtype(table.dtype()), table.device());
  detail::segment_gather_sum(op, {offsets.to(DType::i64), ids, per_sample_weights}, table, mode == BagMode::mean,
                             out);
  return out;
}

SparseRows embedding_bag_backward(const Tensor& ids, const Tensor& offsets, const Tensor& dy,
                                  BagMode mode, const Tensor& per_sample_weights) {
  const char* op = "embedding_bag_backward";
  detail::check_float(op, "dy", dy);
  const detail::CheckedOffsets checked = detail::checked_bags(op, ids, offsets, "dy", dy);
  const int64_t bags = checked.segments, n = ids.numel();
  detail::check_bag_dy(op, dy, bags);
  detail::check_bag_weights(op, per_sample_weights, ids, mode, "dy", dy);
  const int64_t dim = dy.size(1);
  SparseRows grad{ids.to(DType::i64), Tensor::empty({n, dim}, dy.dtype(), dy.device())};
  if (grad.rows.numel() == 0) return grad;
  if (dy.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::embedding_bag_backward(offsets.to(DType::i64), dy, mode, per_sample_weights, grad.rows));
    return grad;
  }
  const bool mean = mode == BagMode::mean;
  const std::vector<int64_t>& off = checked.host;
  detail::dispatch_float(dy.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* pd = dy.data<T>();
    const T* pw = per_sample_weights.defined() ? per_sample_weights.data<T>() : nullptr;
    T* pr = grad.rows.data<T>();
    cpu::parallel_for_segments(bags, off.data(), dim, detail::kSegmentChunkWork, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t j0 = off[static_cast<size_t>(b)], j1 = off[static_cast<size_t>(b + 1)];
        const T* src = pd + b * dim;
        for (int64_t j = j0; j < j1; ++j) {
          const T scale = detail::bag_grad_scale(mean, pw, j, j1 - j0);
          T* dst = pr + j * dim;
          for (int64_t c = 0; c < dim; ++c) dst[c] = src[c] * scale;
        }
      }
    });
  });
  return grad;
}

Tensor embedding_bag_weights_backward(const Tensor& table, const Tensor& ids, const Tensor& offsets,
                                      const Tensor& dy) {
  const char* op = "embedding_bag_weights_backward";
  detail::check_table(op, "table", table);
  detail::check_float(op, "dy", dy);
  detail::check_compute_dtype(op, "dy", dy, "table", table);
  detail::check_same_device(op, "table", table, "dy", dy);
  const int64_t bags = detail::checked_bags(op, ids, offsets, "table", table).segments;
  const int64_t n = ids.numel(), dim = table.size(1);
  detail::check_bag_dy(op, dy, bags);
  AISLE_CHECK(dy.size(1) == dim, op, ": dy ", dy.describe(), " and table ", table.describe(),
              " have different embedding widths");
  Tensor dw = Tensor::empty({n}, dy.dtype(), table.device());
  detail::segment_gather_dot(op, {offsets.to(DType::i64), ids, Tensor()}, table, dy, dw);
  return dw;
}

}  // namespace aisle::ops
