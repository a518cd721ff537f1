// layer_norm and l2_normalize_rows: argument checks, dispatch, and the CPU kernels. CUDA twin: cuda/layer_norm.cu;
// both evaluate the formulas in src/ops/layer_norm_functors.hpp. Rows are independent (threads
// split them); dgamma/dbeta are sums over rows, formed per fixed chunk of rows and then added
// in chunk order, so results do not depend on the thread count.
#include "aisle/ops/layer_norm.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda/layer_norm.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/ops/layer_norm_functors.hpp"

namespace aisle::ops {

namespace {

constexpr int64_t kGrainElements = 1 << 14;
constexpr int64_t kMinChunkRows = 256;
constexpr int64_t kMaxPartials = int64_t{1} << 20;

Shape row_shape(const Tensor& x) { return Shape(x.shape().begin(), x.shape().end() - 1); }

// x with a non-empty last axis; gamma/beta given together, each [D] like x.
void check_input(const char* op, const Tensor& x) {
  detail::check_float(op, "x", x);
  AISLE_CHECK(x.dim() >= 1 && x.size(-1) > 0, op,
              ": x needs a non-empty last axis to normalise over, got ", x.describe());
}

void check_param(const char* op, const char* name, const Tensor& p, const Tensor& x) {
  detail::check_same_dtype(op, "x", x, name, p);
  detail::check_same_device(op, "x", x, name, p);
  AISLE_CHECK(p.shape() == Shape{x.size(-1)}, op, ": ", name, " ", p.describe(), " must be [",
              x.size(-1), "], the size of the last axis of x ", x.describe());
}

template <class T>
void forward_cpu(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                 const Tensor& mean, const Tensor& rstd, int64_t rows, int64_t d, double eps) {
  const T* px = x.data<T>();
  const T* pg = gamma.defined() ? gamma.data<T>() : nullptr;
  const T* pb = beta.defined() ? beta.data<T>() : nullptr;
  T *py = y.data<T>(), *pmean = mean.data<T>(), *prstd = rstd.data<T>();
  const int64_t grain = std::max<int64_t>(1, kGrainElements / d);
  cpu::parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* xr = px + r * d;
      T* yr = py + r * d;
      double sum = 0;
      for (int64_t j = 0; j < d; ++j) sum += static_cast<double>(xr[j]);
      const double mu = sum / static_cast<double>(d);
      double sq = 0;
      for (int64_t j = 0; j < d; ++j) {
        const double diff = static_cast<double>(xr[j]) - mu;
        sq += diff * diff;
      }
      const T m = static_cast<T>(mu);
      const T rs = detail::layer_norm_rstd<T>(sq / static_cast<double>(d), eps);
      for (int64_t j = 0; j < d; ++j)
        yr[j] = detail::layer_norm_value(xr[j], m, rs, pg ? pg[j] : T(1), pb ? pb[j] : T(0));
      pmean[r] = m;
      prstd[r] = rs;
    }
  });
}

template <class T>
void backward_cpu(const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& rstd,
                  const Tensor& dy, const LayerNormGrads& out, int64_t rows, int64_t d) {
  const T *px = x.data<T>(), *pdy = dy.data<T>(), *pmean = mean.data<T>(), *prstd = rstd.data<T>();
  const T* pg = gamma.defined() ? gamma.data<T>() : nullptr;
  T* pdx = out.dx.data<T>();
  const int64_t chunk_rows = detail::layer_norm_rows_per_chunk(rows, d, kMinChunkRows, kMaxPartials);
  const int64_t chunks = (rows + chunk_rows - 1) / chunk_rows;
  // Per chunk: [chunk][d] partial sums of dy * xhat (dgamma) and dy (dbeta).
  std::vector<double> part_g(pg ? static_cast<size_t>(chunks * d) : 0, 0.0);
  std::vector<double> part_b(part_g.size(), 0.0);
  cpu::parallel_for(chunks, 1, [&](int64_t c_begin, int64_t c_end) {
    for (int64_t c = c_begin; c < c_end; ++c) {
      for (int64_t r = c * chunk_rows, r_end = std::min(rows, r + chunk_rows); r < r_end; ++r) {
        const T *xr = px + r * d, *dyr = pdy + r * d;
        T* dxr = pdx + r * d;
        const T m = pmean[r], rs = prstd[r];
        double sum_g = 0, sum_gx = 0;
        for (int64_t j = 0; j < d; ++j) {
          const T g = pg ? dyr[j] * pg[j] : dyr[j];
          const T xhat = detail::layer_norm_xhat(xr[j], m, rs);
          sum_g += static_cast<double>(g);
          sum_gx += static_cast<double>(g) * static_cast<double>(xhat);
        }
        const T mean_g = static_cast<T>(sum_g / static_cast<double>(d));
        const T mean_gx = static_cast<T>(sum_gx / static_cast<double>(d));
        for (int64_t j = 0; j < d; ++j) {
          const T g = pg ? dyr[j] * pg[j] : dyr[j];
          dxr[j] = detail::layer_norm_grad(g, detail::layer_norm_xhat(xr[j], m, rs), rs, mean_g, mean_gx);
        }
        if (!pg) continue;
        double* cg = part_g.data() + c * d;
        double* cb = part_b.data() + c * d;
        for (int64_t j = 0; j < d; ++j) {
          const double xhat = static_cast<double>(detail::layer_norm_xhat(xr[j], m, rs));
          cg[j] += static_cast<double>(dyr[j]) * xhat;
          cb[j] += static_cast<double>(dyr[j]);
        }
      }
    }
  });
  if (!pg) return;
  T *pdg = out.dgamma.data<T>(), *pdb = out.dbeta.data<T>();
  cpu::parallel_for(d, 1024, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      double sg = 0, sb = 0;
      for (int64_t c = 0; c < chunks; ++c) {
        sg += part_g[static_cast<size_t>(c * d + j)];
        sb += part_b[static_cast<size_t>(c * d + j)];
      }
      pdg[j] = static_cast<T>(sg);
      pdb[j] = static_cast<T>(sb);
    }
  });
}

}  // namespace

LayerNormResult layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  check_input("layer_norm", x);
  AISLE_CHECK(gamma.defined() == beta.defined(),
              "layer_norm: gamma and beta must be given together (affine) or both left undefined, "
              "got gamma ", gamma.describe(), " and beta ", beta.describe());
  if (gamma.defined()) {
    check_param("layer_norm", "gamma", gamma, x);
    check_param("layer_norm", "beta", beta, x);
  }
  AISLE_CHECK(std::isfinite(eps) && eps >= 0, "layer_norm: eps must be finite and >= 0, got ", eps);
  const int64_t d = x.size(-1), rows = x.numel() / d;
  LayerNormResult r{Tensor::empty(x.shape(), x.dtype(), x.device()),
                    Tensor::empty(row_shape(x), x.dtype(), x.device()),
                    Tensor::empty(row_shape(x), x.dtype(), x.device())};
  if (rows == 0) return r;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY("layer_norm", cuda::layer_norm(x, gamma, beta, r.y, r.mean, r.rstd, rows, d, eps));
    return r;
  }
  detail::dispatch_float(x.dtype(), "layer_norm", [&](auto tag) {
    forward_cpu<decltype(tag)>(x, gamma, beta, r.y, r.mean, r.rstd, rows, d, eps);
  });
  return r;
}

LayerNormGrads layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& dy) {
  const char* op = "layer_norm_backward";
  check_input(op, x);
  detail::check_same_shape(op, "x", x, "dy", dy);
  detail::check_same_dtype(op, "x", x, "dy", dy);
  detail::check_same_device(op, "x", x, "dy", dy);
  auto check_stat = [&](const char* name, const Tensor& stat) {
    detail::check_defined(op, name, stat);
    detail::check_same_dtype(op, "x", x, name, stat);
    detail::check_same_device(op, "x", x, name, stat);
    AISLE_CHECK(stat.shape() == row_shape(x), op, ": ", name, " ", stat.describe(),
                " must have one entry per row of x ", x.describe());
  };
  check_stat("mean", mean);
  check_stat("rstd", rstd);
  if (gamma.defined()) check_param(op, "gamma", gamma, x);
  const int64_t d = x.size(-1), rows = x.numel() / d;
  LayerNormGrads g;
  g.dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (gamma.defined()) {
    // No rows: the sums are empty, so zeros rather than unwritten memory.
    g.dgamma = rows == 0 ? Tensor::zeros({d}, x.dtype(), x.device()) : Tensor::empty({d}, x.dtype(), x.device());
    g.dbeta = rows == 0 ? Tensor::zeros({d}, x.dtype(), x.device()) : Tensor::empty({d}, x.dtype(), x.device());
  }
  if (rows == 0) return g;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::layer_norm_backward(x, gamma, mean, rstd, dy, g.dx, g.dgamma, g.dbeta, rows, d));
    return g;
  }
  detail::dispatch_float(x.dtype(), op, [&](auto tag) {
    backward_cpu<decltype(tag)>(x, gamma, mean, rstd, dy, g, rows, d);
  });
  return g;
}

L2NormalizeResult l2_normalize_rows(const Tensor& x, double eps) {
  const char* op = "l2_normalize_rows";
  detail::check_float(op, "x", x);
  AISLE_CHECK(x.dim() == 2 && x.size(1) > 0, op, ": x must be [rows, d] with d >= 1, got ", x.describe());
  AISLE_CHECK(std::isfinite(eps) && eps >= 0, op, ": eps must be finite and >= 0, got ", eps);
  const int64_t rows = x.size(0), d = x.size(1);
  L2NormalizeResult r{Tensor::empty(x.shape(), x.dtype(), x.device()), Tensor::empty({rows}, x.dtype(), x.device())};
  if (rows == 0) return r;
  if (x.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::l2_normalize_rows(x, r.y, r.norm, rows, d, eps));
    return r;
  }
  detail::dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T *py = r.y.data<T>(), *pn = r.norm.data<T>();
    cpu::parallel_for(rows, std::max<int64_t>(1, kGrainElements / d), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T* xr = px + i * d;
        double sum = 0;
        for (int64_t j = 0; j < d; ++j) sum += static_cast<double>(xr[j] * xr[j]);
        const T norm = detail::l2_row_norm<T>(sum, eps);
        for (int64_t j = 0; j < d; ++j) py[i * d + j] = xr[j] / norm;
        pn[i] = norm;
      }
    });
  });
  return r;
}

Tensor l2_normalize_rows_backward(const Tensor& y, const Tensor& norm, const Tensor& dy) {
  const char* op = "l2_normalize_rows_backward";
  detail::check_float(op, "y", y);
  AISLE_CHECK(y.dim() == 2 && y.size(1) > 0, op, ": y must be [rows, d] with d >= 1, got ", y.describe());
  detail::check_same_shape(op, "y", y, "dy", dy);
  detail::check_same_dtype(op, "y", y, "dy", dy);
  detail::check_same_device(op, "y", y, "dy", dy);
  detail::check_same_dtype(op, "y", y, "norm", norm);
  detail::check_same_device(op, "y", y, "norm", norm);
  AISLE_CHECK(norm.shape() == Shape{y.size(0)}, op, ": norm ", norm.describe(), " must have one entry per row of y ",
              y.describe());
  const int64_t rows = y.size(0), d = y.size(1);
  Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
  if (rows == 0) return dx;
  if (y.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::l2_normalize_rows_backward(y, norm, dy, dx, rows, d));
    return dx;
  }
  detail::dispatch_float(y.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const T *py = y.data<T>(), *pn = norm.data<T>(), *pdy = dy.data<T>();
    T* pdx = dx.data<T>();
    cpu::parallel_for(rows, std::max<int64_t>(1, kGrainElements / d), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T *yr = py + i * d, *dyr = pdy + i * d;
        double dot = 0;
        for (int64_t j = 0; j < d; ++j) dot += static_cast<double>(yr[j] * dyr[j]);
        const T dt = static_cast<T>(dot);
        for (int64_t j = 0; j < d; ++j) pdx[i * d + j] = detail::l2_normalize_grad(dyr[j], yr[j], dt, pn[i]);
      }
    });
  });
  return dx;
}

}  // namespace aisle::ops
