// Optim family on CUDA. CPU twin and reference: src/ops/optim.cpp; both evaluate the formulas in
// src/ops/optim_functors.hpp with the same coefficients. Every element (dense) or touched element
// (sparse, coalesced ids, so no two threads own the same row) is updated by exactly one thread:
// no atomics on values. Row-wise Adagrad reduces each row's squares in a fixed tree order, so it
// is deterministic run to run (its f64 sum may differ from the CPU's sequential one in the last
// bits).
#include "cuda/common.cuh"
#include "cuda/optim.hpp"
#include "src/core/dispatch.hpp"
#include "src/ops/optim_functors.hpp"

namespace aisle::cuda {

namespace {

// Power of two: the row-wise tree reduction halves it.
constexpr int kRowThreads = 128;

__global__ void check_coalesced_kernel(const int64_t* idx, int64_t n, int64_t bound, int64_t* bad,
                                       unsigned long long* first_unordered) {
  AISLE_GRID_STRIDE(i, n) {
    const int64_t r = idx[i];
    if (r < 0 || r >= bound) report_bad_index(bad, r);
    if (i > 0 && idx[i - 1] >= r) atomicMin(first_unordered, static_cast<unsigned long long>(i));
  }
}

// ---- dense ----

template <class T>
__global__ void sgd_kernel(T* p, const T* g, T* buf, int64_t n, detail::SgdCoeffs<T> c) {
  AISLE_GRID_STRIDE(i, n) {
    T unused = 0;
    detail::sgd_apply(p[i], g[i], buf ? buf[i] : unused, c);
  }
}

template <class T>
__global__ void adam_kernel(T* p, const T* g, T* m, T* v, int64_t n, detail::AdamCoeffs<T> c) {
  AISLE_GRID_STRIDE(i, n) detail::adam_apply(p[i], g[i], m[i], v[i], c);
}

template <class T>
__global__ void adagrad_kernel(T* p, const T* g, T* s, int64_t n, detail::AdagradCoeffs<T> c) {
  AISLE_GRID_STRIDE(i, n) detail::adagrad_apply(p[i], g[i], s[i], c);
}

// ---- sparse: one thread per touched element; e indexes the gradient rows ----

template <class T>
__global__ void sparse_sgd_kernel(T* p, const T* g, const int64_t* idx, int64_t n, int64_t row,
                                  detail::SgdCoeffs<T> c) {
  AISLE_GRID_STRIDE(e, n * row) {
    const int64_t i = e / row;
    const int64_t pi = idx[i] * row + (e - i * row);
    T unused = 0;
    detail::sgd_apply(p[pi], g[e], unused, c);
  }
}

template <class T>
__global__ void sparse_adam_kernel(T* p, const T* g, T* m, T* v, const int64_t* idx, int64_t n,
                                   int64_t row, detail::SparseAdamCoeffs<T> c) {
  AISLE_GRID_STRIDE(e, n * row) {
    const int64_t i = e / row;
    const int64_t pi = idx[i] * row + (e - i * row);
    detail::sparse_adam_apply(p[pi], g[e], m[pi], v[pi], c);
  }
}

template <class T>
__global__ void sparse_adagrad_kernel(T* p, const T* g, T* s, const int64_t* idx, int64_t n,
                                      int64_t row, detail::AdagradCoeffs<T> c) {
  AISLE_GRID_STRIDE(e, n * row) {
    const int64_t i = e / row;
    const int64_t pi = idx[i] * row + (e - i * row);
    detail::adagrad_apply(p[pi], g[e], s[pi], c);
  }
}

// One block (kRowThreads threads) per touched row: each thread sums the squares of its strided
// elements, a shared-memory tree adds the partials, thread 0 updates the row's accumulator, and
// every thread then steps its own elements (the same ones it read, so no element changes hands).
template <class T>
__global__ void rowwise_adagrad_kernel(T* p, const T* g, T* acc, const int64_t* idx, int64_t n,
                                       int64_t row, detail::RowWiseAdagradCoeffs<T> c) {
  __shared__ double partial[kRowThreads];
  __shared__ double multiplier;
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const int64_t r = idx[i];
    T* pr = p + r * row;
    const T* gr = g + i * row;
    double sum = 0.0;
    for (int64_t j = threadIdx.x; j < row; j += blockDim.x) {
      const double d = detail::rowwise_decayed_grad(pr[j], gr[j], c);
      sum += detail::mul_rn(d, d);
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int s = kRowThreads / 2; s > 0; s >>= 1) {
      if (static_cast<int>(threadIdx.x) < s) partial[threadIdx.x] += partial[threadIdx.x + s];
      __syncthreads();
    }
    if (threadIdx.x == 0) multiplier = static_cast<double>(detail::rowwise_accumulate(acc[r], partial[0], row, c));
    __syncthreads();
    const T mult = static_cast<T>(multiplier);
    for (int64_t j = threadIdx.x; j < row; j += blockDim.x)
      pr[j] = pr[j] - detail::mul_rn(mult, detail::rowwise_decayed_grad(pr[j], gr[j], c));
    __syncthreads();  // partial and multiplier are reused by the next row
  }
}

unsigned blocks_for_rows(int64_t n) { return static_cast<unsigned>(std::clamp<int64_t>(n, 1, 65535)); }

}  // namespace

void check_coalesced_ids(const char* op, const Tensor& indices, int64_t bound) {
  const int64_t n = indices.numel();
  const int dev = indices.device().index;
  // Starts at n ("none"); the kernel lowers it to the first position whose id does not exceed
  // its predecessor's.
  Tensor first_unordered = Tensor::full({1}, static_cast<double>(n), DType::i64, indices.device());
  check_coalesced_kernel<<<grid_for(n), kThreads, 0, stream_of(indices)>>>(
      indices.data<int64_t>(), n, bound, index_error_slot(dev),
      reinterpret_cast<unsigned long long*>(first_unordered.data<int64_t>()));
  check_launch(op);
  raise_index_error(dev, op, bound);
  const int64_t pos = first_unordered.item<int64_t>();
  if (pos < n) {
    const std::vector<int64_t> pair = indices.rows(pos - 1, pos + 1).to_vector<int64_t>();
    AISLE_FAIL(op, ": grad indices must be coalesced (strictly increasing, as from coalesce_rows), "
               "but indices[", pos, "] = ", pair[1], " follows ", pair[0]);
  }
}

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf,
                const ops::SgdHyper& hyper) {
  detail::dispatch_float(param.dtype(), "sgd_update", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = param.numel();
    const detail::SgdCoeffs<T> c = detail::sgd_coeffs<T>(hyper);
    sgd_kernel<T><<<grid_for(n), kThreads, 0, stream_of(param)>>>(
        param.data<T>(), grad.data<T>(), c.use_momentum ? momentum_buf.data<T>() : nullptr, n, c);
    check_launch("sgd_update");
  });
}

void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                 const Tensor& exp_avg_sq, const ops::AdamHyper& hyper) {
  detail::dispatch_float(param.dtype(), "adam_update", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = param.numel();
    adam_kernel<T><<<grid_for(n), kThreads, 0, stream_of(param)>>>(
        param.data<T>(), grad.data<T>(), exp_avg.data<T>(), exp_avg_sq.data<T>(), n,
        detail::adam_coeffs<T>(hyper));
    check_launch("adam_update");
  });
}

void adagrad_update(const Tensor& param, const Tensor& grad, const Tensor& state_sum,
                    const ops::AdagradHyper& hyper) {
  detail::dispatch_float(param.dtype(), "adagrad_update", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = param.numel();
    adagrad_kernel<T><<<grid_for(n), kThreads, 0, stream_of(param)>>>(
        param.data<T>(), grad.data<T>(), state_sum.data<T>(), n, detail::adagrad_coeffs<T>(hyper));
    check_launch("adagrad_update");
  });
}

void sparse_sgd_update(const Tensor& param, const ops::SparseRows& grad, double lr, int64_t row_elems) {
  detail::dispatch_float(param.dtype(), "sparse_sgd_update", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = grad.indices.numel();
    sparse_sgd_kernel<T><<<grid_for(n * row_elems), kThreads, 0, stream_of(param)>>>(
        param.data<T>(), grad.rows.data<T>(), grad.indices.data<int64_t>(), n, row_elems,
        detail::sgd_coeffs<T>(ops::SgdHyper{.lr = lr}));
    check_launch("sparse_sgd_update");
  });
}

void sparse_adam_update(const Tensor& param, const ops::SparseRows& grad, const Tensor& exp_avg,
                        const Tensor& exp_avg_sq, const ops::SparseAdamHyper& hyper, int64_t row_elems) {
  detail::dispatch_float(param.dtype(), "sparse_adam_update", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = grad.indices.numel();
    sparse_adam_kernel<T><<<grid_for(n * row_elems), kThreads, 0, stream_of(param)>>>(
        param.data<T>(), grad.rows.data<T>(), exp_avg.data<T>(), exp_avg_sq.data<T>(),
        grad.indices.data<int64_t>(), n, row_elems, detail::sparse_adam_coeffs<T>(hyper));
    check_launch("sparse_adam_update");
  });
}

void sparse_adagrad_update(const Tensor& param, const ops::SparseRows& grad, const Tensor& state_sum,
                           const ops::AdagradHyper& hyper, int64_t row_elems) {
  detail::dispatch_float(param.dtype(), "sparse_adagrad_update", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = grad.indices.numel();
    sparse_adagrad_kernel<T><<<grid_for(n * row_elems), kThreads, 0, stream_of(param)>>>(
        param.data<T>(), grad.rows.data<T>(), state_sum.data<T>(), grad.indices.data<int64_t>(), n,
        row_elems, detail::adagrad_coeffs<T>(hyper));
    check_launch("sparse_adagrad_update");
  });
}

void rowwise_adagrad_update(const Tensor& param, const ops::SparseRows& grad,
                            const Tensor& row_accumulator, const ops::RowWiseAdagradHyper& hyper,
                            int64_t row_elems) {
  detail::dispatch_float(param.dtype(), "rowwise_adagrad_update", [&](auto tag) {
    using T = decltype(tag);
    const int64_t n = grad.indices.numel();
    rowwise_adagrad_kernel<T><<<blocks_for_rows(n), kRowThreads, 0, stream_of(param)>>>(
        param.data<T>(), grad.rows.data<T>(), row_accumulator.data<T>(),
        grad.indices.data<int64_t>(), n, row_elems, detail::rowwise_adagrad_coeffs<T>(hyper));
    check_launch("rowwise_adagrad_update");
  });
}

}  // namespace aisle::cuda
