// Sort family: argument checks, dispatch, CPU reference kernels. CUDA twin: cuda/sort.cu.
// Order: src/ops/sort_functors.hpp. Every kernel orders (key, position) pairs, which makes the
// order total, so plain (unstable) sorting and selection still give the stable result.
#include "aisle/ops/sort.hpp"

#include <algorithm>
#include <vector>

#include "cuda/sort.hpp"
#include "cuda/topk.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/sort_functors.hpp"

namespace aisle::ops {

namespace {

template <class K>
struct Entry {
  K key;
  int64_t pos;
  bool operator<(const Entry& o) const { return key < o.key || (key == o.key && pos < o.pos); }
};

void check_sortable(const char* op, const Tensor& x) {
  detail::check_defined(op, "x", x);
  const DType t = x.dtype();
  AISLE_CHECK(t == DType::f32 || t == DType::f64 || t == DType::i32 || t == DType::i64, op,
              ": x must be f32, f64, i32 or i64, got ", x.describe());
}

Shape with_last(const Shape& shape, int64_t last) {
  Shape s = shape;
  s.back() = last;
  return s;
}

// Rows shorter than this (relative to k) are selected with nth_element over the whole row;
// longer ones stream through a k-entry heap, which rejects most items with one comparison.
constexpr int64_t kHeapRatio = 8;

template <class T>
void topk_cpu(const T* x, int64_t rows, int64_t n, int64_t k, bool largest, T* values, int64_t* indices) {
  using E = Entry<detail::sort_key_t<T>>;
  const bool use_heap = k * kHeapRatio <= n;
  cpu::parallel_for(rows, std::max<int64_t>(1, (1 << 15) / n), [&](int64_t r0, int64_t r1) {
    std::vector<E> buf(static_cast<size_t>(use_heap ? k : n));
    for (int64_t r = r0; r < r1; ++r) {
      const T* row = x + r * n;
      if (use_heap) {
        // Max-heap of the best k so far: its top is the worst kept entry.
        for (int64_t i = 0; i < k; ++i) buf[static_cast<size_t>(i)] = {detail::directed_sort_key(row[i], largest), i};
        std::make_heap(buf.begin(), buf.end());
        for (int64_t i = k; i < n; ++i) {
          const auto key = detail::directed_sort_key(row[i], largest);
          // An equal key never displaces: every kept position is lower than i.
          if (key < buf.front().key) {
            std::pop_heap(buf.begin(), buf.end());
            buf.back() = {key, i};
            std::push_heap(buf.begin(), buf.end());
          }
        }
        std::sort_heap(buf.begin(), buf.end());
      } else {
        for (int64_t i = 0; i < n; ++i) buf[static_cast<size_t>(i)] = {detail::directed_sort_key(row[i], largest), i};
        if (k < n) std::nth_element(buf.begin(), buf.begin() + k, buf.end());
        std::sort(buf.begin(), buf.begin() + k);
      }
      for (int64_t j = 0; j < k; ++j) {
        const int64_t p = buf[static_cast<size_t>(j)].pos;
        values[r * k + j] = row[p];
        indices[r * k + j] = p;
      }
    }
  });
}

}  // namespace

TopK topk(const Tensor& x, int64_t k, bool largest) {
  check_sortable("topk", x);
  AISLE_CHECK(x.dim() >= 1, "topk: x must have at least one axis, got ", x.describe());
  const int64_t n = x.size(-1);
  AISLE_CHECK(k >= 0 && k <= n, "topk: k = ", k, " is out of range [0, ", n, "] for the last axis (n = ",
              n, ") of x ", x.describe());
  const Shape shape = with_last(x.shape(), k);
  TopK out{Tensor::empty(shape, x.dtype(), x.device()), Tensor::empty(shape, DType::i64, x.device())};
  if (out.values.numel() == 0) return out;
  const int64_t rows = x.numel() / n;
  if (x.is_cuda()) {
    // Small k (the evaluator's top-20 of every item): radix selection; otherwise a full row sort.
    if (k <= cuda::kTopkSelectMaxK && n <= INT32_MAX) {
      AISLE_CUDA_ONLY("topk", cuda::topk_select(x, rows, n, k, largest, out.values, out.indices));
    } else {
      AISLE_CUDA_ONLY("topk", cuda::sort_rows(x, rows, n, k, largest, out.values, out.indices));
    }
    return out;
  }
  detail::dispatch_sortable(x.dtype(), "topk", [&](auto tag) {
    using T = decltype(tag);
    topk_cpu<T>(x.data<T>(), rows, n, k, largest, out.values.data<T>(), out.indices.data<int64_t>());
  });
  return out;
}

Sorted sort(const Tensor& x, bool descending) {
  check_sortable("sort", x);
  AISLE_CHECK(x.dim() >= 1, "sort: x must have at least one axis, got ", x.describe());
  Sorted out{Tensor::empty(x.shape(), x.dtype(), x.device()), Tensor::empty(x.shape(), DType::i64, x.device())};
  if (x.numel() == 0) return out;
  const int64_t n = x.size(-1), rows = x.numel() / n;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY("sort", cuda::sort_rows(x, rows, n, n, descending, out.values, out.indices));
    return out;
  }
  detail::dispatch_sortable(x.dtype(), "sort", [&](auto tag) {
    using T = decltype(tag);
    using E = Entry<detail::sort_key_t<T>>;
    const T* px = x.data<T>();
    T* pv = out.values.data<T>();
    int64_t* pi = out.indices.data<int64_t>();
    cpu::parallel_for(rows, std::max<int64_t>(1, (1 << 15) / n), [&](int64_t r0, int64_t r1) {
      std::vector<E> buf(static_cast<size_t>(n));
      for (int64_t r = r0; r < r1; ++r) {
        const T* row = px + r * n;
        for (int64_t i = 0; i < n; ++i) buf[static_cast<size_t>(i)] = {detail::directed_sort_key(row[i], descending), i};
        std::sort(buf.begin(), buf.end());  // positions break ties: the stable order
        for (int64_t j = 0; j < n; ++j) {
          const int64_t p = buf[static_cast<size_t>(j)].pos;
          pv[r * n + j] = row[p];
          pi[r * n + j] = p;
        }
      }
    });
  });
  return out;
}

Unique unique(const Tensor& x) {
  check_sortable("unique", x);
  const int64_t n = x.numel();
  if (n == 0)
    return {Tensor::empty({0}, x.dtype(), x.device()), Tensor::empty(x.shape(), DType::i64, x.device()),
            Tensor::empty({0}, DType::i64, x.device())};
  if (x.is_cuda()) {
    Unique u;
    AISLE_CUDA_ONLY("unique", u = cuda::unique(x));
    return u;
  }
  return detail::dispatch_sortable(x.dtype(), "unique", [&](auto tag) {
    using T = decltype(tag);
    using E = Entry<detail::sort_key_t<T>>;
    const T* px = x.data<T>();
    std::vector<E> buf(static_cast<size_t>(n));
    cpu::parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) buf[static_cast<size_t>(i)] = {detail::sort_key(px[i]), i};
    });
    std::sort(buf.begin(), buf.end());
    std::vector<int64_t> run_start;  // index into buf of each run's first (lowest-position) entry
    for (int64_t j = 0; j < n; ++j)
      if (j == 0 || buf[static_cast<size_t>(j)].key != buf[static_cast<size_t>(j - 1)].key) run_start.push_back(j);
    const int64_t runs = static_cast<int64_t>(run_start.size());
    run_start.push_back(n);
    Unique u{Tensor::empty({runs}, x.dtype()), Tensor::empty(x.shape(), DType::i64),
             Tensor::empty({runs}, DType::i64)};
    T* pv = u.values.data<T>();
    int64_t* pinv = u.inverse.data<int64_t>();
    int64_t* pc = u.counts.data<int64_t>();
    cpu::parallel_for(runs, 1024, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t j0 = run_start[static_cast<size_t>(r)], j1 = run_start[static_cast<size_t>(r + 1)];
        pv[r] = px[buf[static_cast<size_t>(j0)].pos];
        pc[r] = j1 - j0;
        for (int64_t j = j0; j < j1; ++j) pinv[buf[static_cast<size_t>(j)].pos] = r;
      }
    });
    return u;
  });
}

Tensor bincount(const Tensor& x, int64_t minlength, const Tensor& weights) {
  detail::check_index("bincount", "x", x);
  detail::check_dim("bincount", "x", x, 1);
  AISLE_CHECK(minlength >= 0, "bincount: minlength must be non-negative, got ", minlength);
  const int64_t n = x.numel();
  if (weights.defined()) {
    detail::check_float("bincount", "weights", weights);
    detail::check_same_device("bincount", "x", x, "weights", weights);
    AISLE_CHECK(weights.dim() == 1 && weights.numel() == n, "bincount: weights ", weights.describe(),
                " must be 1-D with one entry per value of x ", x.describe());
  }
  int64_t max_value = -1, first_negative = -1, negative_value = 0;
  if (x.is_cuda()) {
    if (n > 0) {
      AISLE_CUDA_ONLY("bincount", {
        const cuda::BincountScan s = cuda::bincount_scan(x);
        max_value = s.max_value;
        first_negative = s.first_negative;
        negative_value = s.negative_value;
      });
    }
  } else {
    detail::dispatch_index(x.dtype(), "bincount", [&](auto tag) {
      using I = decltype(tag);
      const I* px = x.data<I>();
      for (int64_t i = 0; i < n; ++i) {
        if (px[i] < 0) {
          first_negative = i;
          negative_value = px[i];
          break;
        }
        max_value = std::max<int64_t>(max_value, px[i]);
      }
    });
  }
  AISLE_CHECK(first_negative < 0, "bincount: x ", x.describe(), " holds the negative value ", negative_value,
              " at position ", first_negative, "; only non-negative integers can be counted");
  const int64_t length = std::max(max_value + 1, minlength);
  Tensor out = Tensor::zeros({length}, weights.defined() ? weights.dtype() : DType::i64, x.device());
  if (n == 0) return out;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY("bincount", cuda::bincount(x, weights, out));
    return out;
  }
  // Sequential on purpose: weighted sums then add in position order, the order the CUDA kernel
  // reproduces (it sums each value's weights in position order after a stable sort).
  detail::dispatch_index(x.dtype(), "bincount", [&](auto itag) {
    using I = decltype(itag);
    const I* px = x.data<I>();
    if (!weights.defined()) {
      int64_t* po = out.data<int64_t>();
      for (int64_t i = 0; i < n; ++i) ++po[px[i]];
      return;
    }
    detail::dispatch_float(weights.dtype(), "bincount", [&](auto ftag) {
      using T = decltype(ftag);
      const T* pw = weights.data<T>();
      T* po = out.data<T>();
      for (int64_t i = 0; i < n; ++i) po[px[i]] += pw[i];
    });
  });
  return out;
}

}  // namespace aisle::ops
