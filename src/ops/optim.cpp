// Optim family: argument checks, dispatch, CPU reference kernels. CUDA twin: cuda/optim.cu.
// Formulas: src/ops/optim_functors.hpp.
#include "aisle/ops/optim.hpp"

#include <algorithm>
#include <cmath>

#include "cuda/optim.hpp"
#include "src/core/checks.hpp"
#include "src/core/dispatch.hpp"
#include "src/core/parallel.hpp"
#include "src/core/prefetch.hpp"
#include "src/ops/optim_functors.hpp"

namespace aisle::ops {

namespace {

constexpr int64_t kGrain = 1 << 15;

// ---- hyperparameter checks -------------------------------------------------------------------

void check_rate(const char* who, const char* field, double value) {
  AISLE_CHECK(std::isfinite(value) && value >= 0.0, who, ": ", field,
              " must be finite and non-negative, got ", value);
}

void check_beta(const char* who, const char* field, double value) {
  AISLE_CHECK(value >= 0.0 && value < 1.0, who, ": ", field, " must be in [0, 1), got ", value);
}

void check_step(const char* who, int64_t step) {
  AISLE_CHECK(step >= 1, who, ": step must be at least 1 (it counts this update), got ", step);
}

// ---- tensor checks ---------------------------------------------------------------------------

int64_t row_elems_of(const Tensor& t) {
  int64_t r = 1;
  for (int64_t d = 1; d < t.dim(); ++d) r *= t.size(d);
  return r;
}

// A tensor that must match the parameter exactly: gradient or elementwise state.
void check_like_param(const char* op, const char* name, const Tensor& t, const Tensor& param) {
  detail::check_defined(op, name, t);
  detail::check_same_dtype(op, "param", param, name, t);
  detail::check_same_device(op, "param", param, name, t);
  detail::check_same_shape(op, "param", param, name, t);
}

void check_param(const char* op, const Tensor& param, bool sparse) {
  detail::check_float(op, "param", param);
  if (sparse)
    AISLE_CHECK(param.dim() >= 1, op, ": a parameter updated by rows needs at least one axis, got ",
                param.describe());
}

// Row gradients for `param`: i64 ids [n], rows [n, ...param.shape[1:]] of the parameter's dtype
// and device.
void check_row_grad(const char* op, const char* name, const SparseRows& grad, const Tensor& param) {
  AISLE_CHECK(grad.indices.defined() && grad.rows.defined(), op, ": ", name,
              " has undefined indices or rows");
  AISLE_CHECK(grad.indices.dtype() == DType::i64 && grad.indices.dim() == 1, op, ": ", name,
              " indices must be 1-D i64, got ", grad.indices.describe());
  detail::check_same_device(op, "param", param, (std::string(name) + " indices").c_str(), grad.indices);
  detail::check_same_dtype(op, "param", param, (std::string(name) + " rows").c_str(), grad.rows);
  detail::check_same_device(op, "param", param, (std::string(name) + " rows").c_str(), grad.rows);
  bool rows_fit = grad.rows.dim() == param.dim() && grad.rows.size(0) == grad.indices.size(0);
  for (int64_t d = 1; rows_fit && d < param.dim(); ++d) rows_fit = grad.rows.size(d) == param.size(d);
  AISLE_CHECK(rows_fit, op, ": ", name, " rows ", grad.rows.describe(), " must be one row of param ",
              param.describe(), " per index ", grad.indices.describe());
}

// Range and strict order of coalesced ids, on the host (CUDA launchers check on the device).
void check_coalesced_host(const char* op, const Tensor& indices, int64_t bound) {
  detail::check_index_range_host(op, indices, bound);
  const int64_t* p = indices.data<int64_t>();
  for (int64_t i = 1, n = indices.numel(); i < n; ++i)
    AISLE_CHECK(p[i - 1] < p[i], op, ": grad indices must be coalesced (strictly increasing, as from "
                "coalesce_rows), but indices[", i, "] = ", p[i], " follows ", p[i - 1]);
}

// Calls f(param_offset, grad_offset) for every element of every touched row. Coalesced ids are
// unique, so chunks never write the same row. `tables` (the parameter and its same-shaped state)
// are prefetched a few rows ahead: touched rows are scattered over the table, so each is a miss.
template <class T, size_t N, class F>
void for_each_touched_element(const SparseRows& grad, int64_t row, const T* const (&tables)[N], F&& f) {
  const int64_t* idx = grad.indices.data<int64_t>();
  const int64_t n = grad.indices.numel();
  cpu::parallel_for(n, std::max<int64_t>(1, 4096 / std::max<int64_t>(row, 1)),
                    [&](int64_t i0, int64_t i1) {
                      for (int64_t i = i0; i < i1; ++i) {
                        if (i + cpu::kPrefetchDistance < n)
                          cpu::prefetch_rows(tables, idx[i + cpu::kPrefetchDistance], row);
                        const int64_t p0 = idx[i] * row, g0 = i * row;
                        for (int64_t c = 0; c < row; ++c) f(p0 + c, g0 + c);
                      }
                    });
}

// Common preamble of the sparse updates: every check, ids included, so that a bad call throws
// before anything is written; returns whether there is anything to update.
bool prepare_sparse(const char* op, const Tensor& param, const SparseRows& grad) {
  check_param(op, param, true);
  check_row_grad(op, "grad", grad, param);
  if (grad.indices.numel() == 0) return false;
  if (param.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::check_coalesced_ids(op, grad.indices, param.size(0)));
  } else {
    check_coalesced_host(op, grad.indices, param.size(0));
  }
  return grad.rows.numel() > 0;  // rows of zero elements: nothing to update (and no mean to take)
}

}  // namespace

// ---- hyperparameters ---------------------------------------------------------------------------

void check_hyper(const char* who, const SgdHyper& h) {
  check_rate(who, "lr", h.lr);
  check_rate(who, "momentum", h.momentum);
  check_rate(who, "weight_decay", h.weight_decay);
  AISLE_CHECK(!h.nesterov || h.momentum > 0.0, who, ": nesterov needs a positive momentum, got ",
              h.momentum);
}

void check_hyper(const char* who, const AdamHyper& h) {
  check_rate(who, "lr", h.lr);
  check_beta(who, "beta1", h.beta1);
  check_beta(who, "beta2", h.beta2);
  check_rate(who, "eps", h.eps);
  check_rate(who, "weight_decay", h.weight_decay);
  check_step(who, h.step);
}

void check_hyper(const char* who, const AdagradHyper& h) {
  check_rate(who, "lr", h.lr);
  check_rate(who, "eps", h.eps);
  check_rate(who, "weight_decay", h.weight_decay);
}

void check_hyper(const char* who, const SparseAdamHyper& h) {
  check_rate(who, "lr", h.lr);
  check_beta(who, "beta1", h.beta1);
  check_beta(who, "beta2", h.beta2);
  check_rate(who, "eps", h.eps);
  check_step(who, h.step);
}

void check_hyper(const char* who, const RowWiseAdagradHyper& h) {
  check_rate(who, "lr", h.lr);
  check_rate(who, "eps", h.eps);
  check_rate(who, "weight_decay", h.weight_decay);
}

// ---- dense -------------------------------------------------------------------------------------

void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, const SgdHyper& hyper) {
  const char* op = "sgd_update";
  check_hyper(op, hyper);
  check_param(op, param, false);
  check_like_param(op, "grad", grad, param);
  const bool use_momentum = hyper.momentum != 0.0;
  if (use_momentum) check_like_param(op, "momentum_buf", momentum_buf, param);
  if (param.numel() == 0) return;
  if (param.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::sgd_update(param, grad, momentum_buf, hyper));
    return;
  }
  detail::dispatch_float(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const detail::SgdCoeffs<T> c = detail::sgd_coeffs<T>(hyper);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* buf = use_momentum ? momentum_buf.data<T>() : nullptr;
    cpu::parallel_for(param.numel(), kGrain, [&](int64_t b, int64_t e) {
      T unused = 0;
      for (int64_t i = b; i < e; ++i) detail::sgd_apply(p[i], g[i], buf ? buf[i] : unused, c);
    });
  });
}

void adam_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                 const AdamHyper& hyper) {
  const char* op = "adam_update";
  check_hyper(op, hyper);
  check_param(op, param, false);
  check_like_param(op, "grad", grad, param);
  check_like_param(op, "exp_avg", exp_avg, param);
  check_like_param(op, "exp_avg_sq", exp_avg_sq, param);
  if (param.numel() == 0) return;
  if (param.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::adam_update(param, grad, exp_avg, exp_avg_sq, hyper));
    return;
  }
  detail::dispatch_float(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const detail::AdamCoeffs<T> c = detail::adam_coeffs<T>(hyper);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* m = exp_avg.data<T>();
    T* v = exp_avg_sq.data<T>();
    cpu::parallel_for(param.numel(), kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) detail::adam_apply(p[i], g[i], m[i], v[i], c);
    });
  });
}

void adagrad_update(Tensor& param, const Tensor& grad, Tensor& state_sum, const AdagradHyper& hyper) {
  const char* op = "adagrad_update";
  check_hyper(op, hyper);
  check_param(op, param, false);
  check_like_param(op, "grad", grad, param);
  check_like_param(op, "state_sum", state_sum, param);
  if (param.numel() == 0) return;
  if (param.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::adagrad_update(param, grad, state_sum, hyper));
    return;
  }
  detail::dispatch_float(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const detail::AdagradCoeffs<T> c = detail::adagrad_coeffs<T>(hyper);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* s = state_sum.data<T>();
    cpu::parallel_for(param.numel(), kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) detail::adagrad_apply(p[i], g[i], s[i], c);
    });
  });
}

// ---- sparse ------------------------------------------------------------------------------------

void sparse_sgd_update(Tensor& param, const SparseRows& grad, double lr) {
  const char* op = "sparse_sgd_update";
  const SgdHyper hyper{.lr = lr};
  check_hyper(op, hyper);
  if (!prepare_sparse(op, param, grad)) return;
  const int64_t row = row_elems_of(param);
  if (param.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::sparse_sgd_update(param, grad, lr, row));
    return;
  }
  detail::dispatch_float(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const detail::SgdCoeffs<T> c = detail::sgd_coeffs<T>(hyper);
    T* p = param.data<T>();
    const T* g = grad.rows.data<T>();
    for_each_touched_element(grad, row, {p}, [&](int64_t pi, int64_t gi) {
      T unused = 0;
      detail::sgd_apply(p[pi], g[gi], unused, c);
    });
  });
}

void sparse_adam_update(Tensor& param, const SparseRows& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                        const SparseAdamHyper& hyper) {
  const char* op = "sparse_adam_update";
  check_hyper(op, hyper);
  check_param(op, param, true);
  check_like_param(op, "exp_avg", exp_avg, param);
  check_like_param(op, "exp_avg_sq", exp_avg_sq, param);
  if (!prepare_sparse(op, param, grad)) return;
  const int64_t row = row_elems_of(param);
  if (param.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::sparse_adam_update(param, grad, exp_avg, exp_avg_sq, hyper, row));
    return;
  }
  detail::dispatch_float(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const detail::SparseAdamCoeffs<T> c = detail::sparse_adam_coeffs<T>(hyper);
    T* p = param.data<T>();
    const T* g = grad.rows.data<T>();
    T* m = exp_avg.data<T>();
    T* v = exp_avg_sq.data<T>();
    for_each_touched_element(grad, row, {p, m, v}, [&](int64_t pi, int64_t gi) {
      detail::sparse_adam_apply(p[pi], g[gi], m[pi], v[pi], c);
    });
  });
}

void sparse_adagrad_update(Tensor& param, const SparseRows& grad, Tensor& state_sum,
                           const AdagradHyper& hyper) {
  const char* op = "sparse_adagrad_update";
  check_hyper(op, hyper);
  AISLE_CHECK(hyper.weight_decay == 0.0, op, ": weight_decay is not supported with sparse "
              "gradients (it would decay only the touched rows), got ", hyper.weight_decay);
  check_param(op, param, true);
  check_like_param(op, "state_sum", state_sum, param);
  if (!prepare_sparse(op, param, grad)) return;
  const int64_t row = row_elems_of(param);
  if (param.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::sparse_adagrad_update(param, grad, state_sum, hyper, row));
    return;
  }
  detail::dispatch_float(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const detail::AdagradCoeffs<T> c = detail::adagrad_coeffs<T>(hyper);
    T* p = param.data<T>();
    const T* g = grad.rows.data<T>();
    T* s = state_sum.data<T>();
    for_each_touched_element(grad, row, {p, s}, [&](int64_t pi, int64_t gi) {
      detail::adagrad_apply(p[pi], g[gi], s[pi], c);
    });
  });
}

void rowwise_adagrad_update(Tensor& param, const SparseRows& grad, Tensor& row_accumulator,
                            const RowWiseAdagradHyper& hyper) {
  const char* op = "rowwise_adagrad_update";
  check_hyper(op, hyper);
  check_param(op, param, true);
  detail::check_defined(op, "row_accumulator", row_accumulator);
  detail::check_same_dtype(op, "param", param, "row_accumulator", row_accumulator);
  detail::check_same_device(op, "param", param, "row_accumulator", row_accumulator);
  AISLE_CHECK(row_accumulator.dim() == 1 && row_accumulator.size(0) == param.size(0), op,
              ": row_accumulator ", row_accumulator.describe(), " must hold one entry per row of param ",
              param.describe());
  if (!prepare_sparse(op, param, grad)) return;
  const int64_t row = row_elems_of(param);
  if (param.is_cuda()) {
    AISLE_CUDA_ONLY(op, cuda::rowwise_adagrad_update(param, grad, row_accumulator, hyper, row));
    return;
  }
  detail::dispatch_float(param.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const detail::RowWiseAdagradCoeffs<T> c = detail::rowwise_adagrad_coeffs<T>(hyper);
    T* p = param.data<T>();
    const T* g = grad.rows.data<T>();
    T* acc = row_accumulator.data<T>();
    const int64_t* idx = grad.indices.data<int64_t>();
    const int64_t n = grad.indices.numel();
    cpu::parallel_for(n, std::max<int64_t>(1, 4096 / row), [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        if (i + cpu::kPrefetchDistance < n) {
          cpu::prefetch_row(p + idx[i + cpu::kPrefetchDistance] * row, static_cast<size_t>(row) * sizeof(T));
          cpu::prefetch_row(acc + idx[i + cpu::kPrefetchDistance], sizeof(T));
        }
        detail::rowwise_adagrad_row(p + idx[i] * row, g + i * row, acc[idx[i]], row, c);
      }
    });
  });
}

// ---- gradient pieces ---------------------------------------------------------------------------

SparseRows coalesce_row_pieces(const Tensor& param, const std::vector<SparseRows>& pieces) {
  const char* op = "coalesce_row_pieces";
  check_param(op, param, true);
  AISLE_CHECK(!pieces.empty(), op, ": no gradient pieces for param ", param.describe());
  int64_t total = 0;
  for (size_t k = 0; k < pieces.size(); ++k) {
    check_row_grad(op, ("pieces[" + std::to_string(k) + "]").c_str(), pieces[k], param);
    total += pieces[k].indices.numel();
  }
  if (pieces.size() == 1) return coalesce_rows(pieces[0].indices, pieces[0].rows);
  Shape row_shape = param.shape();
  row_shape[0] = total;
  Tensor indices = Tensor::empty({total}, DType::i64, param.device());
  Tensor rows = Tensor::empty(row_shape, param.dtype(), param.device());
  int64_t offset = 0;
  for (const SparseRows& piece : pieces) {
    const int64_t n = piece.indices.numel();
    indices.rows(offset, offset + n).copy_(piece.indices);
    rows.rows(offset, offset + n).copy_(piece.rows);
    offset += n;
  }
  return coalesce_rows(indices, rows);
}

}  // namespace aisle::ops
