// Reduce family: argument checks, dispatch, CPU reference kernels. CUDA twin: cuda/reduce.cu.
#include "aisle/ops/reduce.hpp"

#include <algorithm>
#include <limits>

#include "cuda/reduce.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"

namespace aisle::ops {

namespace {

using cuda::ReduceMode;

struct AxisView {
  int64_t outer = 1, len = 1, inner = 1;
  Shape out_shape;
};

AxisView view_axis(const Tensor& x, int64_t axis, bool keepdim, const char* op) {
  const int64_t a = normalize_axis(axis, x.dim(), op);
  AxisView v;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < a) v.outer *= x.size(d);
    else if (d > a) v.inner *= x.size(d);
    if (d != a) v.out_shape.push_back(x.size(d));
    else if (keepdim) v.out_shape.push_back(1);
  }
  v.len = x.size(a);
  return v;
}

void reduce_cpu(ReduceMode mode, const Tensor& x, const AxisView& v, const Tensor& out,
                const Tensor& indices) {
  detail::dispatch_float(x.dtype(), "reduce", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    int64_t* pi = indices.defined() ? indices.data<int64_t>() : nullptr;
    const int64_t outputs = v.outer * v.inner;
    if (mode != ReduceMode::max && outputs < 4 && v.len > (1 << 15)) {
      // Few long rows (sum_all, losses): split each row across threads in fixed blocks instead.
      for (int64_t o = 0; o < outputs; ++o) {
        const T* base = px + (o / v.inner) * v.len * v.inner + o % v.inner;
        double acc = cpu::deterministic_sum<double>(
            v.len, [&](int64_t k) { return static_cast<double>(base[k * v.inner]); });
        if (mode == ReduceMode::mean) acc /= static_cast<double>(v.len);
        po[o] = static_cast<T>(acc);
      }
      return;
    }
    if (mode != ReduceMode::max && v.inner > 1) {
      // Sums down columns (a bias gradient: [N, d] -> [1, d]): one task a block of 16 adjacent
      // outputs (a cache line of f32) walks the rows once, instead of each output walking them on
      // its own and pulling every cache line in 16 times. Each output still adds its column in
      // row order, in double: the same bits as the plain loop below.
      constexpr int64_t kCols = 16;
      const int64_t blocks = (v.inner + kCols - 1) / kCols;
      const int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(v.len * kCols, 1));
      cpu::parallel_for(v.outer * blocks, grain, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          const int64_t o = t / blocks, c0 = (t % blocks) * kCols, width = std::min(kCols, v.inner - c0);
          const T* base = px + o * v.len * v.inner + c0;
          double acc[kCols] = {};
          for (int64_t k = 0; k < v.len; ++k) {
            const T* row = base + k * v.inner;
            for (int64_t c = 0; c < width; ++c) acc[c] += static_cast<double>(row[c]);
          }
          for (int64_t c = 0; c < width; ++c) {
            double a = acc[c];
            if (mode == ReduceMode::mean)
              a = v.len ? a / static_cast<double>(v.len) : std::numeric_limits<double>::quiet_NaN();
            po[o * v.inner + c0 + c] = static_cast<T>(a);
          }
        }
      });
      return;
    }
    const int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(v.len, 1));
    cpu::parallel_for(outputs, grain, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        const T* base = px + (o / v.inner) * v.len * v.inner + o % v.inner;
        if (mode == ReduceMode::max) {
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_k = 0;
          for (int64_t k = 0; k < v.len; ++k) {
            const T val = base[k * v.inner];
            if (val != val) {  // NaN wins, like max() in NumPy and PyTorch
              best = val;
              best_k = k;
              break;
            }
            if (val > best) {
              best = val;
              best_k = k;
            }
          }
          po[o] = best;
          pi[o] = best_k;
        } else {
          double acc = 0;
          for (int64_t k = 0; k < v.len; ++k) acc += static_cast<double>(base[k * v.inner]);
          if (mode == ReduceMode::mean)
            acc = v.len ? acc / static_cast<double>(v.len) : std::numeric_limits<double>::quiet_NaN();
          po[o] = static_cast<T>(acc);
        }
      }
    });
  });
}

Tensor reduce(ReduceMode mode, const Tensor& x, int64_t axis, bool keepdim, const char* op,
              Tensor* indices_out) {
  detail::check_float(op, "x", x);
  AISLE_CHECK(x.dim() >= 1, op, ": needs a tensor with at least one axis, got ", x.describe());
  const AxisView v = view_axis(x, axis, keepdim, op);
  if (mode == ReduceMode::max)
    AISLE_CHECK(v.len > 0, op, ": cannot take the max over an empty axis of ", x.describe());
  Tensor out = Tensor::empty(v.out_shape, x.dtype(), x.device());
  Tensor indices;
  if (mode == ReduceMode::max) indices = Tensor::empty(v.out_shape, DType::i64, x.device());
  if (out.numel() > 0) {
    if (x.is_cuda()) {
      AISLE_CUDA_ONLY(op, cuda::reduce(mode, x, v.outer, v.len, v.inner, out, indices));
    } else {
      reduce_cpu(mode, x, v, out, indices);
    }
  }
  if (indices_out) *indices_out = indices;
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, int64_t axis, bool keepdim) {
  return reduce(ReduceMode::sum, x, axis, keepdim, "sum", nullptr);
}

Tensor mean(const Tensor& x, int64_t axis, bool keepdim) {
  return reduce(ReduceMode::mean, x, axis, keepdim, "mean", nullptr);
}

MaxResult max(const Tensor& x, int64_t axis, bool keepdim) {
  MaxResult r;
  r.values = reduce(ReduceMode::max, x, axis, keepdim, "max", &r.indices);
  return r;
}

Tensor argmax(const Tensor& x, int64_t axis, bool keepdim) {
  Tensor indices;
  reduce(ReduceMode::max, x, axis, keepdim, "argmax", &indices);
  return indices;
}

Tensor sum_all(const Tensor& x) {
  detail::check_float("sum_all", "x", x);
  return sum(x.reshape({1, x.numel()}), 1).reshape({});
}

Tensor mean_all(const Tensor& x) {
  detail::check_float("mean_all", "x", x);
  return mean(x.reshape({1, x.numel()}), 1).reshape({});
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  detail::check_float("sum_to", "x", x);
  if (x.shape() == shape) return x;
  AISLE_CHECK(shape.size() <= x.shape().size(), "sum_to: cannot reduce ", x.describe(), " to ",
              shape_str(shape));
  Tensor g = x;
  const size_t lead = x.shape().size() - shape.size();
  if (lead > 0) {  // fold the extra leading axes into one and sum it away
    Shape folded{-1};
    folded.insert(folded.end(), x.shape().begin() + static_cast<int64_t>(lead), x.shape().end());
    g = sum(g.reshape(folded), 0);
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == g.shape()[d]) continue;
    AISLE_CHECK(shape[d] == 1, "sum_to: cannot reduce ", x.describe(), " to ", shape_str(shape));
    g = sum(g, static_cast<int64_t>(d), /*keepdim=*/true);
  }
  return g.reshape(shape);
}

Tensor max_backward(const Tensor& indices, const Tensor& dy, const Shape& x_shape, int64_t axis) {
  detail::check_float("max_backward", "dy", dy);
  AISLE_CHECK(indices.dtype() == DType::i64 && indices.numel() == dy.numel(),
              "max_backward: indices ", indices.describe(), " do not match dy ", dy.describe());
  const int64_t a = normalize_axis(axis, static_cast<int64_t>(x_shape.size()), "max_backward");
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(x_shape.size()); ++d) {
    if (d < a) outer *= x_shape[static_cast<size_t>(d)];
    if (d > a) inner *= x_shape[static_cast<size_t>(d)];
  }
  const int64_t len = x_shape[static_cast<size_t>(a)];
  AISLE_CHECK(outer * inner == dy.numel(), "max_backward: dy ", dy.describe(),
              " does not match x shape ", shape_str(x_shape), " reduced over axis ", axis);
  Tensor dx = Tensor::zeros(x_shape, dy.dtype(), dy.device());
  if (dy.numel() == 0) return dx;
  if (dy.is_cuda()) {
    AISLE_CUDA_ONLY("max_backward", cuda::max_backward(indices, dy, dx, outer, len, inner));
    return dx;
  }
  detail::dispatch_float(dy.dtype(), "max_backward", [&](auto tag) {
    using T = decltype(tag);
    const int64_t* pi = indices.data<int64_t>();
    const T* pdy = dy.data<T>();
    T* pdx = dx.data<T>();
    for (int64_t o = 0; o < outer * inner; ++o)
      pdx[((o / inner) * len + pi[o]) * inner + o % inner] = pdy[o];
  });
  return dx;
}

}  // namespace aisle::ops
