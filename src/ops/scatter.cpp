// Scatter family: checks, dispatch, CPU reference kernels. CUDA twin: cuda/scatter.cu.
#include "aisle/ops/scatter.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "aisle/core/determinism.hpp"
#include "cuda/scatter.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/core/prefetch.hpp"
#include "src/ops/sorted_runs.hpp"

namespace aisle::ops {

namespace {

int64_t row_elems_of(const Tensor& t) {
  int64_t r = 1;
  for (int64_t d = 1; d < t.dim(); ++d) r *= t.size(d);
  return r;
}

Shape row_shape_with(int64_t rows, const Tensor& t) {
  Shape s{rows};
  s.insert(s.end(), t.shape().begin() + 1, t.shape().end());
  return s;
}

}  // namespace

Tensor gather_rows(const Tensor& src, const Tensor& index) {
  detail::check_defined("gather_rows", "src", src);
  detail::check_index("gather_rows", "index", index);
  detail::check_same_device("gather_rows", "src", src, "index", index);
  AISLE_CHECK(src.dim() >= 1, "gather_rows: src must have at least one axis, got ", src.describe());
  const int64_t row = row_elems_of(src);
  Shape shape = index.shape();
  shape.insert(shape.end(), src.shape().begin() + 1, src.shape().end());
  Tensor out = Tensor::empty(shape, src.dtype(), src.device());
  if (out.numel() == 0) {
    if (index.numel() > 0 && !src.is_cuda()) detail::check_index_range_host("gather_rows", index, src.size(0));
    return out;
  }
  if (src.is_cuda()) {
    AISLE_CUDA_ONLY("gather_rows", cuda::gather_rows(src, index, out, row));
    return out;
  }
  detail::check_index_range_host("gather_rows", index, src.size(0));
  const size_t row_bytes = static_cast<size_t>(row) * dtype_size(src.dtype());
  const char* ps = static_cast<const char*>(src.raw_data());
  char* po = static_cast<char*>(out.raw_data());
  detail::dispatch_index(index.dtype(), "gather_rows", [&](auto tag) {
    using I = decltype(tag);
    const I* pi = index.data<I>();
    cpu::parallel_for(index.numel(), std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(row, 1)),
                      [&](int64_t b, int64_t e) {
                        for (int64_t i = b; i < e; ++i) {
                          if (i + cpu::kPrefetchDistance < e)
                            cpu::prefetch_row(ps + static_cast<int64_t>(pi[i + cpu::kPrefetchDistance]) * row_bytes, row_bytes);
                          std::memcpy(po + i * row_bytes, ps + static_cast<int64_t>(pi[i]) * row_bytes, row_bytes);
                        }
                      });
  });
  return out;
}

Tensor scatter_add(const Tensor& src, const Tensor& index, int64_t dim_size) {
  AISLE_CHECK(dim_size >= 0, "scatter_add: dim_size must be non-negative, got ", dim_size);
  detail::check_defined("scatter_add", "src", src);
  AISLE_CHECK(src.dim() >= 1, "scatter_add: src must have at least one axis, got ", src.describe());
  Tensor out = Tensor::zeros(row_shape_with(dim_size, src), src.dtype(), src.device());
  scatter_add_(out, src, index);
  return out;
}

Tensor& scatter_add_(Tensor& dst, const Tensor& src, const Tensor& index) {
  detail::check_float("scatter_add", "src", src);
  detail::check_index("scatter_add", "index", index);
  detail::check_same_device("scatter_add", "src", src, "index", index);
  detail::check_same_device("scatter_add", "dst", dst, "src", src);
  AISLE_CHECK(index.dim() == 1 && src.dim() >= 1 && src.size(0) == index.size(0),
              "scatter_add: index ", index.describe(), " must be 1-D with one entry per row of src ",
              src.describe());
  AISLE_CHECK(dst.dtype() == src.dtype() && dst.dim() == src.dim() &&
                  std::equal(dst.shape().begin() + 1, dst.shape().end(), src.shape().begin() + 1),
              "scatter_add: dst ", dst.describe(), " does not take rows of src ", src.describe());
  const int64_t row = row_elems_of(src), dim_size = dst.size(0);
  const int64_t n = index.numel();
  if (n == 0) return dst;
  if (src.is_cuda()) {
    // Empty rows leave nothing to add, but the sorted path still range-checks the ids.
    if (deterministic() || row == 0) AISLE_CUDA_ONLY("scatter_add", cuda::scatter_add(src, index, dst, row));
    else AISLE_CUDA_ONLY("scatter_add", cuda::scatter_add_atomic(src, index, dst, row));
    return dst;
  }
  detail::check_index_range_host("scatter_add", index, dim_size);
  detail::dispatch_float(src.dtype(), "scatter_add", [&](auto ftag) {
    using T = decltype(ftag);
    detail::dispatch_index(index.dtype(), "scatter_add", [&](auto itag) {
      using I = decltype(itag);
      const T* ps = src.data<T>();
      const I* pi = index.data<I>();
      T* po = dst.data<T>();
      // Each chunk owns a range of destination rows and scans all ids in order, so every row
      // sums its contributions in order of appearance regardless of the thread count.
      cpu::parallel_for(dim_size, std::max<int64_t>(1, dim_size / 8), [&](int64_t r0, int64_t r1) {
        for (int64_t i = 0; i < n; ++i) {
          const int64_t r = pi[i];
          if (r < r0 || r >= r1) continue;
          T* out_row = po + r * row;
          const T* s = ps + i * row;
          for (int64_t c = 0; c < row; ++c) out_row[c] += s[c];
        }
      });
    });
  });
  return dst;
}

SparseRows coalesce_rows(const Tensor& indices, const Tensor& rows) {
  detail::check_float("coalesce_rows", "rows", rows);
  detail::check_defined("coalesce_rows", "indices", indices);
  AISLE_CHECK(indices.dtype() == DType::i64 && indices.dim() == 1, "coalesce_rows: indices must "
              "be 1-D i64, got ", indices.describe());
  detail::check_same_device("coalesce_rows", "indices", indices, "rows", rows);
  AISLE_CHECK(rows.dim() >= 1 && rows.size(0) == indices.size(0), "coalesce_rows: rows ",
              rows.describe(), " must have one row per index ", indices.describe());
  const int64_t row = row_elems_of(rows);
  const int64_t n = indices.numel();
  if (n == 0) return {indices, rows};
  if (rows.is_cuda()) {
    SparseRows r;
    AISLE_CUDA_ONLY("coalesce_rows", r = cuda::coalesce_rows(indices, rows, row));
    return r;
  }
  const int64_t* pi = indices.data<int64_t>();
  const detail::SortedRuns sorted = detail::sorted_runs(pi, n);
  const std::vector<int64_t>& pos = sorted.pos;
  const std::vector<int64_t>& run_start = sorted.run_start;
  const int64_t runs = sorted.runs();
  SparseRows out{Tensor::empty({runs}, DType::i64), Tensor::empty(row_shape_with(runs, rows), rows.dtype())};
  int64_t* oi = out.indices.data<int64_t>();
  detail::dispatch_float(rows.dtype(), "coalesce_rows", [&](auto tag) {
    using T = decltype(tag);
    const T* pr = rows.data<T>();
    T* po = out.rows.data<T>();
    cpu::parallel_for(runs, std::max<int64_t>(1, 4096 / std::max<int64_t>(row, 1)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t j0 = run_start[static_cast<size_t>(r)], j1 = run_start[static_cast<size_t>(r + 1)];
        oi[r] = pi[pos[static_cast<size_t>(j0)]];
        T* dst = po + r * row;
        std::fill(dst, dst + row, T(0));
        for (int64_t j = j0; j < j1; ++j) {
          if (j + cpu::kPrefetchDistance < n)
            cpu::prefetch_row(pr + pos[static_cast<size_t>(j + cpu::kPrefetchDistance)] * row, static_cast<size_t>(row) * sizeof(T));
          const T* s = pr + pos[static_cast<size_t>(j)] * row;
          for (int64_t c = 0; c < row; ++c) dst[c] += s[c];
        }
      }
    });
  });
  return out;
}

Tensor segment_sum(const Tensor& src, const Tensor& offsets) {
  detail::check_float("segment_sum", "src", src);
  detail::check_same_device("segment_sum", "src", src, "offsets", offsets);
  AISLE_CHECK(src.dim() >= 1, "segment_sum: src must have at least one axis, got ", src.describe());
  const detail::CheckedOffsets checked = detail::checked_offsets("segment_sum", offsets, src.size(0));
  const int64_t segments = checked.segments;
  const std::vector<int64_t>& off = checked.host;  // CPU offsets only
  const int64_t row = row_elems_of(src);
  Tensor out = Tensor::empty(row_shape_with(segments, src), src.dtype(), src.device());
  if (out.numel() == 0) return out;
  if (src.is_cuda()) {
    AISLE_CUDA_ONLY("segment_sum", cuda::segment_sum(src, offsets, out, row));
    return out;
  }
  detail::dispatch_float(src.dtype(), "segment_sum", [&](auto tag) {
    using T = decltype(tag);
    const T* ps = src.data<T>();
    T* po = out.data<T>();
    cpu::parallel_for(segments, 64, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        T* dst = po + b * row;
        std::fill(dst, dst + row, T(0));
        for (int64_t i = off[static_cast<size_t>(b)]; i < off[static_cast<size_t>(b + 1)]; ++i)
          for (int64_t c = 0; c < row; ++c) dst[c] += ps[i * row + c];
      }
    });
  });
  return out;
}

Tensor segment_sum_backward(const Tensor& dy, const Tensor& offsets) {
  detail::check_float("segment_sum_backward", "dy", dy);
  detail::check_same_device("segment_sum_backward", "dy", dy, "offsets", offsets);
  AISLE_CHECK(dy.dim() >= 1 && offsets.dim() == 1 && offsets.numel() == dy.size(0) + 1,
              "segment_sum_backward: dy ", dy.describe(), " needs offsets with one more entry, got ",
              offsets.describe());
  const detail::CheckedOffsets checked = detail::checked_offsets("segment_sum_backward", offsets, -1);
  const int64_t total = checked.last;
  const std::vector<int64_t>& off = checked.host;  // CPU offsets only
  const int64_t row = row_elems_of(dy);
  Tensor out = Tensor::empty(row_shape_with(total, dy), dy.dtype(), dy.device());
  if (out.numel() == 0) return out;
  if (dy.is_cuda()) {
    AISLE_CUDA_ONLY("segment_sum_backward", cuda::segment_sum_backward(dy, offsets, out, row));
    return out;
  }
  detail::dispatch_float(dy.dtype(), "segment_sum_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* pd = dy.data<T>();
    T* po = out.data<T>();
    const int64_t segments = dy.size(0);
    cpu::parallel_for(segments, 64, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b)
        for (int64_t i = off[static_cast<size_t>(b)]; i < off[static_cast<size_t>(b + 1)]; ++i)
          std::copy(pd + b * row, pd + (b + 1) * row, po + i * row);
    });
  });
  return out;
}

}  // namespace aisle::ops
