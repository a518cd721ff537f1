// Embedding-bag family: checks, dispatch, CPU reference kernels. CUDA twin: cuda/embedding.cu.
// Formulas: src/ops/embedding_functors.hpp.
#include "aisle/ops/embedding.hpp"

#include <algorithm>
#include <vector>

#include "cuda/embedding.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/core/prefetch.hpp"
#include "src/ops/embedding_functors.hpp"
#include "src/ops/unfused_madd.hpp"

namespace aisle::ops {

namespace {

// Multiply-adds worth one parallel chunk.
constexpr int64_t kChunkWork = 1 << 15;

int64_t bag_grain(int64_t bags, int64_t ids, int64_t dim) {
  const int64_t per_bag = std::max<int64_t>(1, (ids / std::max<int64_t>(bags, 1) + 1) * dim);
  return std::max<int64_t>(1, kChunkWork / per_bag);
}

// Validates ids and offsets (on the device of `ref`) and returns the offsets on the host.
std::vector<int64_t> checked_bags(const char* op, const Tensor& ids, const Tensor& offsets,
                                  const char* ref_name, const Tensor& ref) {
  detail::check_index(op, "ids", ids);
  AISLE_CHECK(ids.dim() == 1, op, ": ids must be 1-D (all bags concatenated), got ", ids.describe());
  detail::check_same_device(op, ref_name, ref, "ids", ids);
  detail::check_defined(op, "offsets", offsets);
  detail::check_same_device(op, ref_name, ref, "offsets", offsets);
  return detail::checked_offsets(op, offsets, ids.numel());
}

void check_weights(const char* op, const Tensor& weights, const Tensor& ids, BagMode mode,
                   const char* ref_name, const Tensor& ref) {
  if (!weights.defined()) return;
  AISLE_CHECK(mode == BagMode::sum, op, ": per_sample_weights are only supported in sum mode, got mode ",
              bag_mode_name(mode));
  detail::check_float(op, "per_sample_weights", weights);
  detail::check_same_dtype(op, ref_name, ref, "per_sample_weights", weights);
  detail::check_same_device(op, ref_name, ref, "per_sample_weights", weights);
  AISLE_CHECK(weights.dim() == 1 && weights.numel() == ids.numel(), op, ": per_sample_weights ",
              weights.describe(), " must hold one weight per id, ids ", ids.describe());
}

void check_dy(const char* op, const Tensor& dy, int64_t bags) {
  AISLE_CHECK(dy.dim() == 2 && dy.size(0) == bags, op, ": dy ", dy.describe(),
              " must be [B, D] with one row per bag (", bags, " bags from offsets)");
}

template <class T>
const T* optional_data(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

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
  detail::check_float(op, "table", table);
  AISLE_CHECK(table.dim() == 2, op, ": table must be 2-D [N, D], got ", table.describe());
  const std::vector<int64_t> off = checked_bags(op, ids, offsets, "table", table);
  check_weights(op, per_sample_weights, ids, mode, "table", table);
  const int64_t bags = static_cast<int64_t>(off.size()) - 1, dim = table.size(1), n = ids.numel();
  Tensor out = Tensor::empty({bags, dim}, table.dtype(), table.device());
  if (table.is_cuda()) {
    if (out.numel() == 0) return out;
    AISLE_CUDA_ONLY(op, cuda::embedding_bag(table, ids, offsets.to(DType::i64), mode, per_sample_weights, out));
    return out;
  }
  detail::check_index_range_host(op, ids, table.size(0));
  if (out.numel() == 0) return out;
  const bool mean = mode == BagMode::mean;
  detail::dispatch_float(table.dtype(), op, [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(ids.dtype(), op, [&](auto itag) {
      using I = decltype(itag);
      const T* pt = table.data<T>();
      const I* pi = ids.data<I>();
      const T* pw = optional_data<T>(per_sample_weights);
      T* po = out.data<T>();
      cpu::parallel_for(bags, bag_grain(bags, n, dim), [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t j0 = off[static_cast<size_t>(b)], j1 = off[static_cast<size_t>(b + 1)];
          T* dst = po + b * dim;
          std::fill(dst, dst + dim, T(0));
          for (int64_t j = j0; j < j1; ++j) {
            if (j + cpu::kPrefetchDistance < n)
              cpu::prefetch_row(pt + static_cast<int64_t>(pi[j + cpu::kPrefetchDistance]) * dim, dim * sizeof(T));
            const T* src = pt + static_cast<int64_t>(pi[j]) * dim;
            if (pw) {
              const T w = pw[j];
              for (int64_t c = 0; c < dim; ++c) dst[c] = detail::madd_unfused(dst[c], w, src[c]);
            } else {
              for (int64_t c = 0; c < dim; ++c) dst[c] += src[c];
            }
          }
          for (int64_t c = 0; c < dim; ++c) dst[c] = detail::bag_finish(dst[c], mean, j1 - j0);
        }
      });
    });
  });
  return out;
}

SparseRows embedding_bag_backward(const Tensor& ids, const Tensor& offsets, const Tensor& dy,
                                  BagMode mode, const Tensor& per_sample_weights) {
  const char* op = "embedding_bag_backward";
  detail::check_float(op, "dy", dy);
  const std::vector<int64_t> off = checked_bags(op, ids, offsets, "dy", dy);
  const int64_t bags = static_cast<int64_t>(off.size()) - 1, n = ids.numel();
  check_dy(op, dy, bags);
  check_weights(op, per_sample_weights, ids, mode, "dy", dy);
  const int64_t dim = dy.size(1);
  SparseRows grad{ids.to(DType::i64), Tensor::empty({n, dim}, dy.dtype(), dy.device())};
  if (grad.rows.numel() == 0) return grad;
  if (dy.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::embedding_bag_backward(offsets.to(DType::i64), dy, mode, per_sample_weights, grad.rows));
    return grad;
  }
  const bool mean = mode == BagMode::mean;
  detail::dispatch_float(dy.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* pd = dy.data<T>();
    const T* pw = optional_data<T>(per_sample_weights);
    T* pr = grad.rows.data<T>();
    cpu::parallel_for(bags, bag_grain(bags, n, dim), [&](int64_t b0, int64_t b1) {
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
  detail::check_float(op, "table", table);
  AISLE_CHECK(table.dim() == 2, op, ": table must be 2-D [N, D], got ", table.describe());
  detail::check_float(op, "dy", dy);
  detail::check_same_dtype(op, "table", table, "dy", dy);
  detail::check_same_device(op, "table", table, "dy", dy);
  const std::vector<int64_t> off = checked_bags(op, ids, offsets, "table", table);
  const int64_t bags = static_cast<int64_t>(off.size()) - 1, n = ids.numel(), dim = table.size(1);
  check_dy(op, dy, bags);
  AISLE_CHECK(dy.size(1) == dim, op, ": dy ", dy.describe(), " and table ", table.describe(),
              " have different embedding widths");
  Tensor dw = Tensor::empty({n}, table.dtype(), table.device());
  if (n == 0) return dw;
  if (table.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::embedding_bag_weights_backward(table, ids, offsets.to(DType::i64), dy, dw));
    return dw;
  }
  detail::check_index_range_host(op, ids, table.size(0));
  detail::dispatch_float(table.dtype(), op, [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(ids.dtype(), op, [&](auto itag) {
      using I = decltype(itag);
      const T* pt = table.data<T>();
      const T* pd = dy.data<T>();
      const I* pi = ids.data<I>();
      T* pdw = dw.data<T>();
      cpu::parallel_for(bags, bag_grain(bags, n, dim), [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          const T* grad = pd + b * dim;
          for (int64_t j = off[static_cast<size_t>(b)]; j < off[static_cast<size_t>(b + 1)]; ++j) {
            const T* row = pt + static_cast<int64_t>(pi[j]) * dim;
            T acc = 0;
            for (int64_t c = 0; c < dim; ++c) acc = detail::madd_unfused(acc, grad[c], row[c]);
            pdw[j] = acc;
          }
        }
      });
    });
  });
  return dw;
}

}  // namespace aisle::ops
